/**
 * IO handlers for a page (io.ts lists them all). None imports anything: each uses what the browser
 * (or a Web Worker) gives, and says which global is missing when run elsewhere.
 *
 * IndexedDB keeps a model as one record { modelJson, weightsFile, weights } in the store 'models' of the
 * database 'gradlab', written by one put in one transaction: a save replaces the model entirely or,
 * if it fails (quota, a closed tab), not at all; a load reads the record in one transaction, so it
 * never sees half of one save and half of another. localStorage keeps the same record as one key
 * (weights in base64), set by one setItem, so it is all-or-nothing too.
 */
import type { IOHandler, ModelArtifacts } from './io.js';
import { MODEL_FILE, isPlainFileName } from './model-file.js';

interface StoredModel { modelJson: string; weightsFile: string; weights: Uint8Array }

// The few browser types used here, written out: the packages compile without the DOM library.
interface IdbRequest<T> { readonly result: T; readonly error: unknown; onsuccess: (() => void) | null; onerror: (() => void) | null }
interface IdbStore { put(value: unknown, key: string): IdbRequest<unknown>; get(key: string): IdbRequest<unknown> }
interface IdbTransaction { objectStore(name: string): IdbStore; readonly error: unknown; oncomplete: (() => void) | null; onerror: (() => void) | null; onabort: (() => void) | null }
interface IdbDatabase { transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction; createObjectStore(name: string): unknown; close(): void }
interface IdbFactory { open(name: string, version: number): IdbRequest<IdbDatabase> & { onupgradeneeded: (() => void) | null } }
interface KeyValueStorage { getItem(key: string): string | null; setItem(key: string, value: string): void }
interface LinkDocument { createElement(tag: 'a'): { href: string; download: string; click(): void } }

const DATABASE = 'gradlab';
const STORE = 'models';
const LOCAL_PREFIX = 'gradlab_models/';

function needGlobal<T>(name: string, where: string): T {
  const value = (globalThis as Record<string, unknown>)[name];
  if (value === undefined || value === null) throw new Error(`${where}: this environment has no ${name} (it is a browser feature)`);
  return value as T;
}

/** A handler reading one stored record (fetched once, so both reads see the same save). */
function fromRecord(location: string, fetchRecord: () => Promise<StoredModel | undefined>): Pick<IOHandler, 'readModelJson' | 'readWeights'> {
  let record: Promise<StoredModel> | null = null;
  const get = (): Promise<StoredModel> => (record ??= fetchRecord().then((r) => {
    if (!r) throw new Error(`models.load: nothing is saved at ${location}`);
    return r;
  }));
  return {
    async readModelJson(maxBytes) {
      const { modelJson } = await get();
      if (modelJson.length > maxBytes) throw new Error(`models.load: ${location}/${MODEL_FILE} has ${modelJson.length} characters, more than a model file holds (${maxBytes})`);
      return modelJson;
    },
    async readWeights(file, checkSize) {
      const { weightsFile, weights } = await get();
      if (file !== weightsFile) throw new Error(`models.load: ${location}: model.json names weights '${file}', the record holds '${weightsFile}'`);
      checkSize(weights.byteLength, `${location}/${file}`);
      return weights;
    },
  };
}

// ---- IndexedDB -------------------------------------------------------------------------------------

function openDatabase(location: string): Promise<IdbDatabase> {
  const factory = needGlobal<IdbFactory>('indexedDB', location);
  return new Promise((resolve, reject) => {
    const request = factory.open(DATABASE, 1);
    request.onupgradeneeded = () => { request.result.createObjectStore(STORE); };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`${location}: cannot open IndexedDB '${DATABASE}': ${String(request.error)}`));
  });
}

/** Run one request in one transaction and resolve once the transaction has committed. */
async function inTransaction<T>(location: string, mode: 'readonly' | 'readwrite', run: (store: IdbStore) => IdbRequest<T>): Promise<T> {
  const db = await openDatabase(location);
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(new Error(`${location}: the IndexedDB transaction failed: ${String(tx.error ?? request.error)}`));
    });
  } finally {
    db.close();
  }
}

// ---- localStorage ----------------------------------------------------------------------------------

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** 'indexeddb://name' or 'localstorage://name': the model saved under `name` in the page's storage. */
export function browserStorage(scheme: 'indexeddb' | 'localstorage', name: string): IOHandler {
  const location = `${scheme}://${name}`;
  if (name === '') throw new Error(`${location}: give the model a name, e.g. '${scheme}://my-model'`);
  const where = (file: string): string => `${location}/${file}`;
  if (scheme === 'indexeddb') {
    return {
      location, where,
      save: async ({ modelJson, weightsFile, weights }: ModelArtifacts) => {
        await inTransaction(location, 'readwrite', (store) => store.put({ modelJson, weightsFile, weights }, name));
      },
      ...fromRecord(location, () => inTransaction(location, 'readonly', (store) => store.get(name) as IdbRequest<StoredModel | undefined>)),
    };
  }
  const key = LOCAL_PREFIX + name;
  const storage = (): KeyValueStorage => needGlobal<KeyValueStorage>('localStorage', location);
  return {
    location, where,
    save: async ({ modelJson, weightsFile, weights }: ModelArtifacts) => {
      try {
        storage().setItem(key, JSON.stringify({ modelJson, weightsFile, weights: toBase64(weights) }));
      } catch (error) {
        throw new Error(`save('${location}'): localStorage refused ${weights.byteLength} bytes of weights (${(error as Error).message}); ` +
          `larger models belong in 'indexeddb://${name}'`, { cause: error });
      }
    },
    ...fromRecord(location, async () => {
      const text = storage().getItem(key);
      if (text === null) return undefined;
      let stored: { modelJson: string; weightsFile: string; weights: string };
      try {
        stored = JSON.parse(text);
        return { modelJson: stored.modelJson, weightsFile: stored.weightsFile, weights: fromBase64(stored.weights) };
      } catch (error) {
        throw new Error(`models.load: ${location}: the stored record is damaged: ${(error as Error).message}`);
      }
    }),
  };
}

// ---- downloads and file inputs ---------------------------------------------------------------------

/** 'downloads://name': save as two downloads, name.json and name.weights.bin (load them with browserFiles). */
export function downloads(name: string): IOHandler {
  const base = name === '' ? 'model' : name;
  const location = `downloads://${base}`;
  if (!isPlainFileName(`${base}.json`)) throw new Error(`${location}: the name must be a plain file name (letters, digits, '.', '_', '-'), got ${JSON.stringify(name)}`);
  const download = (file: string, data: string | Uint8Array, type: string): void => {
    const doc = needGlobal<LinkDocument>('document', location);
    const url = URL.createObjectURL(new Blob([data as string | Uint8Array<ArrayBuffer>], { type })); // our own buffer, never a shared one
    const link = doc.createElement('a');
    link.href = url;
    link.download = file;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };
  return {
    location,
    where: (file) => `${location}/${file}`,
    weightsFileName: () => `${base}.weights.bin`,
    save: async ({ modelJson, weightsFile, weights }: ModelArtifacts) => {
      download(`${base}.json`, modelJson, 'application/json');
      download(weightsFile, weights, 'application/octet-stream');
    },
  };
}

/** Load from files the user picked (an <input type="file" multiple>): model.json (any *.json) and its weights file. */
export function browserFiles(files: ArrayLike<File>): IOHandler {
  const list = Array.from(files);
  const json = list.filter((f) => /\.json$/i.test(f.name));
  const location = `browserFiles(${list.map((f) => f.name).join(', ')})`;
  if (json.length !== 1) throw new Error(`${location}: pick exactly one .json file (the model) and its weights file; got ${json.length} .json files`);
  const weights = list.filter((f) => f !== json[0]);
  return {
    location,
    where: (file) => file,
    async readModelJson(maxBytes) {
      if (json[0].size > maxBytes) throw new Error(`models.load: ${json[0].name} has ${json[0].size} bytes, more than a model file holds (${maxBytes})`);
      return json[0].text();
    },
    async readWeights(file, checkSize) {
      // Downloads may have been renamed ("model (1).weights.bin"): one other file is taken as the weights.
      const match = weights.find((f) => f.name === file) ?? (weights.length === 1 ? weights[0] : undefined);
      if (!match) throw new Error(`models.load: model.json names weights '${file}', but the files picked are ${list.map((f) => f.name).join(', ')}`);
      checkSize(match.size, match.name);
      return new Uint8Array(await match.arrayBuffer());
    },
  };
}

// ---- memory (a Web Worker's way to hand a model to its page) ---------------------------------------

/** An IO handler whose save keeps the artifacts in `.artifacts` (postMessage them, weights' buffer transferred), and whose load reads them. */
export interface MemoryHandler extends IOHandler { artifacts: ModelArtifacts | undefined }

/** Save into memory, or load from artifacts received (from a worker's message, say). */
export function memory(artifacts?: ModelArtifacts): MemoryHandler {
  const handler: MemoryHandler = {
    artifacts,
    location: 'memory',
    where: (file) => `memory/${file}`,
    save: async (saved: ModelArtifacts) => { handler.artifacts = saved; },
    ...fromRecord('memory', async () => handler.artifacts),
  };
  return handler;
}

// ---- http(s) ---------------------------------------------------------------------------------------

export interface HttpOptions { fetch?: typeof fetch; requestInit?: RequestInit }

/** Load from a URL of model.json (or of its folder, ending in '/'); the weights file is beside it. */
export function http(url: string, options: HttpOptions = {}): IOHandler {
  const modelUrl = url.endsWith('/') ? `${url}${MODEL_FILE}` : url;
  const fetchFn = options.fetch ?? needGlobal<typeof fetch>('fetch', url);
  const get = async (target: string, checkSize: (bytes: number, where: string) => void): Promise<Uint8Array> => {
    let response: Response;
    try {
      response = await fetchFn(target, options.requestInit);
    } catch (error) {
      throw new Error(`models.load: cannot fetch ${target}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) throw new Error(`models.load: fetching ${target} answered ${response.status} ${response.statusText}`);
    const declared = response.headers.get('content-length');
    if (declared !== null && /^\d+$/.test(declared)) checkSize(Number(declared), target); // before the body is read
    const bytes = new Uint8Array(await response.arrayBuffer());
    checkSize(bytes.byteLength, target);
    return bytes;
  };
  return {
    location: url,
    where: (file) => (file === MODEL_FILE ? modelUrl : new URL(file, modelUrl).href),
    async readModelJson(maxBytes) {
      const bytes = await get(modelUrl, (size, where) => {
        if (size > maxBytes) throw new Error(`models.load: ${where} has ${size} bytes, more than a model file holds (${maxBytes})`);
      });
      return new TextDecoder().decode(bytes);
    },
    readWeights: (file, checkSize) => get(new URL(file, modelUrl).href, checkSize),
  };
}
