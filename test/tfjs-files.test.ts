/**
 * TF.js's model.json and weight shards as files, against TensorFlow.js 4.22 (bench/models's
 * devDependency): TF.js saves a model through its own http handler (a multipart POST) to a local
 * server, which writes the files it receives into a folder and serves them back. gradlab loads them
 * from the folder and from the URL; TF.js loads what saveTfjsModel writes, over the same server.
 */
import * as http from 'node:http';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randn, setSeed } from '@gradlab/tensor';
import { layers, models, loadTfjsModel, saveTfjsModel } from '@gradlab/layers';

import { tf, maxDifference } from './support/tfjs-oracle';
import type { Tf } from './support/tfjs-oracle';

jest.setTimeout(120_000);


/**
 * fetch for TF.js's loader. Jest runs this file (and TF.js, required from it) in a vm context of its own,
 * while fetch's Response parses JSON into the outer context's arrays, which TF.js's `instanceof Array`
 * does not recognise. So the body is parsed here, in the test's context.
 */
async function fetchHere(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return {
    ok: response.ok, status: response.status, statusText: response.statusText, headers: response.headers, url,
    json: async () => JSON.parse(new TextDecoder().decode(bytes)), arrayBuffer: async () => buffer,
  };
}

let root: string;
let server: http.Server;
let base: string;

/** POST /name: the multipart form's files go to root/name/; GET /name/file serves them, with Content-Length. */
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-tfjs-files-'));
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const folder = path.join(root, path.basename(new URL(req.url!, 'http://x').pathname.split('/')[1] ?? ''));
    if (req.method === 'POST') {
      const form = await new Request('http://x', { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }).formData();
      await fs.mkdir(folder, { recursive: true });
      for (const [name, value] of form) await fs.writeFile(path.join(folder, name), Buffer.from(await (value as Blob).arrayBuffer()));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const file = path.join(folder, path.basename(req.url!));
    const body = await fs.readFile(file).catch(() => null);
    if (body === null) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-length': body.byteLength }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(root, { recursive: true, force: true });
});

/** The article's speech model in TF.js, with TF.js's default hardSigmoid gates. */
function tfjsSpeechModel(): Tf {
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, 5] }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.lstm({ units: 6 }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

/** Splits a saved folder's one weights file into shards of the given sizes (as TF.js's converter names them). */
async function shard(from: string, to: string, sizes: number[]): Promise<void> {
  const json = JSON.parse(await fs.readFile(path.join(from, 'model.json'), 'utf8'));
  const [group] = json.weightsManifest;
  const bytes = await fs.readFile(path.join(from, group.paths[0].replace(/^\.\//, '')));
  await fs.mkdir(to, { recursive: true });
  const ends = [...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0)), bytes.byteLength];
  group.paths = ends.map((_, i) => `group1-shard${i + 1}of${ends.length}.bin`);
  for (let i = 0; i < ends.length; i++) await fs.writeFile(path.join(to, group.paths[i]), bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]));
  await fs.writeFile(path.join(to, 'model.json'), JSON.stringify(json));
}

test('a model TF.js saved loads from its folder, its model.json path and its URL, in one shard or three, and predicts as TF.js', async () => {
  const theirs = tfjsSpeechModel();
  await theirs.save(tf.io.http(`${base}/saved`, { fetchFunc: fetch }));
  expect((await fs.readdir(path.join(root, 'saved'))).sort()).toEqual(['model.json', 'model.weights.bin']);
  await shard(path.join(root, 'saved'), path.join(root, 'sharded'), [1000, 2345]);
  const x = randn([2, 7, 5]).mul(3);
  const expected = theirs.predict(tf.tensor(x.toArray(), x.shape)).dataSync();
  // TF.js itself reads the sharded copy: the layout is TF.js's
  const reread = await tf.loadLayersModel(tf.io.http(`${base}/sharded/model.json`, { fetchFunc: fetchHere }));
  expect(maxDifference(reread.predict(tf.tensor(x.toArray(), x.shape)).dataSync(), expected)).toBeLessThan(1e-6);
  for (const source of [path.join(root, 'saved'), path.join(root, 'saved', 'model.json'), `file://${path.join(root, 'sharded')}`,
    `${base}/saved/model.json`, `${base}/sharded/model.json`, models.http(`${base}/sharded/model.json`, { fetch })]) {
    const ours = await loadTfjsModel(source);
    const label = typeof source === 'string' ? source : source.location;
    expect({ label, close: maxDifference((await ours.predict(x)).dataSync(), expected) < 1e-5 }).toEqual({ label, close: true });
  }
});

test('what saveTfjsModel writes in a folder, tf.loadLayersModel reads over http and predicts the same', async () => {
  setSeed(3);
  const model = new models.Sequential([
    layers.Conv2D(3, 3, { activation: 'relu', inputShape: [6, 6, 2] }), layers.MaxPooling2D({ poolSize: 2 }), layers.Flatten(), layers.Dense(4, { activation: 'softmax' }),
  ]);
  await saveTfjsModel(model, path.join(root, 'ours'));
  expect((await fs.readdir(path.join(root, 'ours'))).sort()).toEqual(['model.json', 'weights.bin']);
  const loaded = await tf.loadLayersModel(tf.io.http(`${base}/ours/model.json`, { fetchFunc: fetchHere }));
  const x = randn([2, 6, 6, 2]);
  expect(maxDifference(loaded.predict(tf.tensor(x.toArray(), x.shape)).dataSync(), (await model.predict(x)).dataSync())).toBeLessThan(1e-5);
  await expect(saveTfjsModel(model, 'indexeddb://m')).rejects.toThrow(/saveTfjsModel: "indexeddb:\/\/m": TF.js files go to a folder or 'downloads:\/\/name'/);
});

test('bad TF.js files are refused naming the file, the shard or the weight', async () => {
  // altered copies of the folder the first test had TF.js save
  const saved = path.join(root, 'saved');
  const bad = path.join(root, 'bad');
  const json = JSON.parse(await fs.readFile(path.join(saved, 'model.json'), 'utf8'));
  const weights = await fs.readFile(path.join(saved, 'model.weights.bin'));
  const write = async (changed: unknown, bin: Buffer = weights) => {
    await fs.rm(bad, { recursive: true, force: true });
    await fs.mkdir(bad);
    await fs.writeFile(path.join(bad, 'model.json'), typeof changed === 'string' ? changed : JSON.stringify(changed));
    await fs.writeFile(path.join(bad, 'model.weights.bin'), bin);
  };
  await write(json, weights.subarray(0, 100));
  await expect(loadTfjsModel(bad)).rejects.toThrow(/loadTfjsModel: the shards of .*bad\/model.json hold 100 bytes; its weights take \d+/);
  await write(json, Buffer.concat([weights, Buffer.alloc(8)]));
  await expect(loadTfjsModel(bad)).rejects.toThrow(/shard .*model.weights.bin has \d+ bytes; .* more than the \d+ bytes/);
  const quantized = structuredClone(json);
  quantized.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 };
  await write(quantized);
  await expect(loadTfjsModel(bad)).rejects.toThrow(/weightsManifest\[0\] weight ".*kernel" is quantized/);
  await write({ ...json, weightsManifest: [{ paths: ['../saved/model.weights.bin'], weights: json.weightsManifest[0].weights }] });
  await expect(loadTfjsModel(bad)).rejects.toThrow(/"..\/saved\/model.weights.bin" is not a plain file name/);
  await write('{"modelTopology": ');
  await expect(loadTfjsModel(bad)).rejects.toThrow(/loadTfjsModel: .*bad\/model.json is not JSON/);
  await write({ format: 'graph-model', modelTopology: {}, weightsManifest: [] });
  await expect(loadTfjsModel(bad)).rejects.toThrow(/format "graph-model"; gradlab reads 'layers-model'/);
  await expect(loadTfjsModel(`${base}/missing/model.json`)).rejects.toThrow(/fetching .*missing\/model.json answered 404/);
});
