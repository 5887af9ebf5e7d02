/**
 * TF.js's Layers format as files: model.json and the weight shards its `weightsManifest` names, read
 * from a folder (Node), an http(s) URL, files picked in a page, or any IO handler with readModelJson
 * and readWeights (models/io.ts); and written to a folder or as downloads.
 *
 *   model.json  { modelTopology, weightsManifest: [{ paths: [shard, …], weights: [spec, …] }, …], format, … }
 *
 * Each group's weights lie back to back across its shards, read in order; the groups follow one another.
 * So the weight data is every group's shards joined, and the specs are every group's weights in order
 * (as TF.js's own loader does), which is what fromTfjsArtifacts takes.
 */
import type { Sequential } from '../models/sequential.js';
import { resolveHandler } from '../models/io.js';
import type { IOHandler } from '../models/io.js';
import { MAX_MODEL_FILE_BYTES, MODEL_FILE } from '../models/model-file.js';
import { fromTfjsArtifacts, tfjsModelJson, toTfjsArtifacts } from './tfjs.js';
import type { TfjsWeightSpec } from './tfjs.js';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4 };

interface ManifestGroup { paths: string[]; weights: TfjsWeightSpec[] }

/** The folder (or URL) and the name of model.json in it, for a target naming either the folder or the file. */
function splitTarget(target: string): { base: string; file: string } {
  const match = /^(.*[/\\])?([^/\\]+\.json)$/i.exec(target);
  if (match === null) return { base: target, file: MODEL_FILE };
  return { base: match[1] ?? '.', file: match[2] };
}

/** The handler and model.json's name for loadTfjsModel's argument. */
async function openSource(source: string | IOHandler): Promise<{ handler: IOHandler; file: string }> {
  if (typeof source !== 'string') return { handler: await resolveHandler(source, 'load'), file: MODEL_FILE };
  if (/^https?:\/\//i.test(source)) return { handler: await resolveHandler(source, 'load'), file: MODEL_FILE }; // the URL names model.json itself
  if (/^(indexeddb|localstorage|downloads):\/\//i.test(source)) {
    throw new Error(`loadTfjsModel('${source}'): TF.js's own ${source.split(':')[0]}:// records are not read here; load from a folder, an http(s) URL of model.json, or browserFiles()`);
  }
  const { base, file } = splitTarget(source);
  return { handler: await resolveHandler(base, 'load'), file };
}

async function readModelJson(handler: IOHandler, file: string): Promise<string> {
  const refuseLarge = (size: number, where: string) => {
    if (size > MAX_MODEL_FILE_BYTES) throw new Error(`loadTfjsModel: ${where} has ${size} bytes, more than a model.json holds (${MAX_MODEL_FILE_BYTES})`);
  };
  if (file === MODEL_FILE) return handler.readModelJson!(MAX_MODEL_FILE_BYTES);
  return new TextDecoder().decode(await handler.readWeights!(file, refuseLarge)); // a model.json of another name: read as any file of the folder
}

/** model.json's fields, every one checked before a shard is read. */
function parseTfjsModelJson(text: string, where: string): { modelTopology: Record<string, unknown>; groups: ManifestGroup[] } {
  let json: { modelTopology?: unknown; weightsManifest?: unknown; format?: unknown };
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`loadTfjsModel: ${where} is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new Error(`loadTfjsModel: ${where} has no modelTopology object; is it a TF.js Layers model.json? (a graph model, format 'graph-model', is not a Layers model)`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') throw new Error(`loadTfjsModel: ${where} has format ${JSON.stringify(json.format)}; gradlab reads 'layers-model'`);
  if (!Array.isArray(json.weightsManifest)) throw new Error(`loadTfjsModel: ${where} has no weightsManifest array`);
  const groups = json.weightsManifest.map((group: { paths?: unknown; weights?: unknown }, g: number): ManifestGroup => {
    const at = `${where} weightsManifest[${g}]`;
    if (!Array.isArray(group?.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '')) throw new Error(`loadTfjsModel: ${at}.paths is not a list of file names`);
    if (!Array.isArray(group.weights)) throw new Error(`loadTfjsModel: ${at}.weights is not a list`);
    for (const spec of group.weights as Array<Record<string, unknown>>) {
      const named = `${at} weight ${JSON.stringify(spec?.name)}`;
      if (typeof spec?.name !== 'string') throw new Error(`loadTfjsModel: ${at} has a weight without a name`);
      if (spec.quantization !== undefined) throw new Error(`loadTfjsModel: ${named} is quantized (${JSON.stringify(spec.quantization)}); gradlab reads unquantized float32 and int32 weights`);
      if (!(String(spec.dtype) in BYTES_PER_ELEMENT)) throw new Error(`loadTfjsModel: ${named} has dtype ${JSON.stringify(spec.dtype)}; gradlab reads float32 and int32`);
      if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new Error(`loadTfjsModel: ${named} has shape ${JSON.stringify(spec.shape)}, not a list of sizes`);
    }
    return { paths: group.paths as string[], weights: group.weights as TfjsWeightSpec[] };
  });
  return { modelTopology: json.modelTopology as Record<string, unknown>, groups };
}

/**
 * A gradlab Sequential from a TF.js Layers model saved as files: `source` is a folder holding
 * model.json, the path of model.json, 'file://…', an http(s) URL of model.json, or an IO handler
 * (models.http(url, { fetch }), models.browserFiles(input.files) with every shard picked).
 */
export async function loadTfjsModel(source: string | IOHandler): Promise<Sequential> {
  const { handler, file } = await openSource(source);
  const where = handler.where(file);
  const { modelTopology, groups } = parseTfjsModelJson(await readModelJson(handler, file), where);
  const weightSpecs = groups.flatMap((g) => g.weights);
  const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[s.dtype], 0);
  const weightData = new Uint8Array(expected);
  let filled = 0;
  for (const group of groups) {
    for (const path of group.paths) {
      const shard = path.replace(/^\.\//, ''); // TF.js's downloads write './model.weights.bin'
      const bytes = await handler.readWeights!(shard, (size, at) => {
        if (filled + size > expected) {
          throw new Error(`loadTfjsModel: shard ${at} has ${size} bytes; with the ${filled} before it that is more than the ${expected} bytes ${where}'s weights take`);
        }
      });
      weightData.set(bytes, filled);
      filled += bytes.byteLength;
    }
  }
  if (filled !== expected) throw new Error(`loadTfjsModel: the shards of ${where} hold ${filled} bytes; its weights take ${expected}`);
  return fromTfjsArtifacts({ modelTopology, weightSpecs, weightData: weightData.buffer });
}

/**
 * Write `model` in TF.js's Layers format: model.json and weights.bin in a folder (Node; 'file://…' too),
 * or as two downloads ('downloads://name': name.json and name.weights.bin). tf.loadLayersModel reads
 * either (the folder served over http, or the downloads picked with tf.io.browserFiles).
 */
export async function saveTfjsModel(model: Sequential, target: string): Promise<void> {
  if (typeof target !== 'string' || /^(indexeddb|localstorage|https?):\/\//i.test(target)) {
    throw new Error(`saveTfjsModel: ${JSON.stringify(target)}: TF.js files go to a folder or 'downloads://name'`);
  }
  const handler = await resolveHandler(target, 'save');
  const weightsFile = handler.weightsFileName?.() ?? 'weights.bin';
  const artifacts = await toTfjsArtifacts(model);
  await handler.save!({ modelJson: tfjsModelJson(artifacts, weightsFile), weightsFile, weights: new Uint8Array(artifacts.weightData) }, 'saveTfjsModel');
}
