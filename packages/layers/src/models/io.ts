/**
 * Where a saved model lives: IO handlers, as TF.js's `tf.io`. A save produces two artifacts, model.json's
 * text and the weights' bytes (save.ts); a handler stores them somewhere and gives them back to a load.
 *
 *   'path/to/folder' or 'file://…'  a folder on disk (Node only: file-io.ts, loaded on first use, so
 *                                    that a browser bundle carries no Node built-in)
 *   'indexeddb://name'               the page's IndexedDB, one record written in one transaction
 *   'localstorage://name'            the page's localStorage, one key (small models: ~5 MB quota)
 *   'downloads://name'               save only: the browser downloads name.json and name.weights.bin
 *   'http(s)://…/model.json'         load only, through fetch (http(url, { fetch }) for a custom one)
 *   browserFiles([json, weights])    load only, from an <input type="file"> (browser-io.ts)
 *
 * or any object with these methods. Each read checks a size before it takes the bytes, so that a
 * huge or wrong file is refused before it fills memory; save.ts then checks every field and checksum.
 */
import { browserStorage, downloads, http } from './browser-io.js';

/** What a save writes: model.json's text, and the weights file it names. */
export interface ModelArtifacts {
  modelJson: string;
  weightsFile: string;
  weights: Uint8Array;
}

export interface IOHandler {
  /** Where the model is, for messages: a folder, 'indexeddb://name', a URL. */
  readonly location: string;
  /** The name, in messages, of one of the model's files (model.json, a weights file). */
  where(file: string): string;
  /** Store a save's artifacts, replacing the model there as one step where the medium allows it. */
  save?(artifacts: ModelArtifacts, owner: string): Promise<void>;
  /** The weights file name to record in model.json (default: weights-<fresh id>.bin). */
  weightsFileName?(): string;
  /** model.json's text; refused (before reading, where the size is known) above maxBytes. */
  readModelJson?(maxBytes: number): Promise<string>;
  /** The weights file model.json names, after `checkSize` has accepted its size. */
  readWeights?(file: string, checkSize: (bytes: number, where: string) => void): Promise<Uint8Array>;
  /** Whether a load that failed with `error` should be tried once more (a save replaced the files meanwhile). */
  shouldRetry?(error: unknown): Promise<boolean>;
}

const SCHEMES = ['file://', 'indexeddb://', 'localstorage://', 'downloads://', 'http://', 'https://'];

const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

// The specifier is a variable so that bundlers leave the Node-only module out of browser bundles.
const fileModule = './file-io.js';
const importFileIO = (): Promise<typeof import('./file-io.js')> => import(fileModule);

function describeTarget(target: unknown): string {
  return typeof target === 'string' ? JSON.stringify(target) : Object.prototype.toString.call(target);
}

/** The handler for a save or a load: one given as an object, or the one a path or URL names. */
export async function resolveHandler(target: string | IOHandler, op: 'save' | 'load'): Promise<IOHandler> {
  const method = op === 'save' ? 'save' : 'readModelJson';
  const what = op === 'save' ? 'save' : 'models.load';
  if (typeof target === 'object' && target !== null) {
    if (typeof target[method] !== 'function' || typeof target.where !== 'function') {
      throw new Error(`${what}: the IO handler given has no ${method}() or where() method; it ${op === 'save' ? 'cannot save' : 'cannot load'}`);
    }
    return target;
  }
  if (typeof target !== 'string' || target === '') {
    throw new Error(`${what}: expected a folder path, a URL (${SCHEMES.join(', ')}) or an IO handler, got ${describeTarget(target)}`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1]?.toLowerCase();
  const rest = target.slice((scheme?.length ?? -3) + 3);
  let handler: IOHandler;
  if (scheme === undefined || scheme === 'file') {
    if (!isNode()) {
      throw new Error(`${what}('${target}'): there is no file system in a browser; use 'indexeddb://${rest}', ` +
        `'localstorage://${rest}'${op === 'save' ? `, 'downloads://${rest}'` : ', an http(s):// URL or browserFiles()'}`);
    }
    handler = (await importFileIO()).fileFolder(scheme === 'file' ? decodeURIComponent(rest) : target);
  } else if (scheme === 'indexeddb' || scheme === 'localstorage') {
    handler = browserStorage(scheme, rest);
  } else if (scheme === 'downloads') {
    handler = downloads(rest);
  } else if (scheme === 'http' || scheme === 'https') {
    handler = http(target);
  } else {
    throw new Error(`${what}('${target}'): unknown scheme '${scheme}://'; gradlab knows ${SCHEMES.join(', ')} and plain folder paths`);
  }
  if (typeof handler[method] !== 'function') throw new Error(`${what}('${target}'): ${scheme}:// ${op === 'save' ? 'only loads' : 'only saves'}`);
  return handler;
}
