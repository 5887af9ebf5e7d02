/**
 * Reading HDF5 files (Keras's weights) through h5wasm, the HDF5 C library compiled to WebAssembly: an
 * optional dependency, imported only here and only when a Keras file is read (`npm install h5wasm`),
 * or handed in by the caller (`{ h5wasm }`, for a page whose bundler should include it).
 * The bytes are written to h5wasm's in-memory file system, opened read-only, and removed after.
 */

interface H5Entity { type: string }
interface H5Dataset extends H5Entity { shape: number[]; dtype: string; value: unknown }
interface H5Group extends H5Entity { keys(): string[] }
interface H5File { get(path: string): H5Entity | null; close(): void }

/** What gradlab uses of the h5wasm module (its default export). */
export interface H5wasmModule {
  ready: Promise<{ FS: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void } }>;
  File: new (path: string, mode: 'r') => H5File;
}

// A variable, so that bundlers do not pull the 4 MB library into pages that never read HDF5.
const H5WASM = 'h5wasm';

async function importH5wasm(op: string): Promise<H5wasmModule> {
  try {
    const module = (await import(H5WASM)) as { default?: H5wasmModule } & H5wasmModule;
    return module.default ?? module;
  } catch (error) {
    throw new Error(`${op}: reading Keras's HDF5 weights needs the h5wasm package (npm install h5wasm), or pass it: ` +
      `{ h5wasm } from "import h5wasm from 'h5wasm'" (${(error as Error).message})`, { cause: error });
  }
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n

export interface Hdf5Reader {
  /** A group's member names, or null if `path` is not a group. */
  members(path: string): string[] | null;
  /** A float32 dataset's shape and values (float64 ones are rounded to float32), or null if there is none at `path`. */
  float32(path: string): { shape: number[]; values: Float32Array } | null;
  close(): void;
}

let opened = 0;

export async function openHdf5(bytes: Uint8Array, where: string, op: string, given?: H5wasmModule): Promise<Hdf5Reader> {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${op}: ${where} is not an HDF5 file (it does not start with HDF5's signature)`);
  }
  const h5wasm = given ?? await importH5wasm(op);
  const { FS } = await h5wasm.ready;
  const path = `/gradlab-${++opened}.h5`;
  FS.writeFile(path, bytes);
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (error) {
    FS.unlink(path);
    throw new Error(`${op}: ${where}: HDF5 could not open it: ${(error as Error).message}`, { cause: error });
  }
  return {
    members(at) {
      const entity = file.get(at);
      return entity?.type === 'Group' ? (entity as H5Group).keys() : null;
    },
    float32(at) {
      const entity = file.get(at);
      if (entity?.type !== 'Dataset') return null;
      const dataset = entity as H5Dataset;
      const value = dataset.value;
      if (!(value instanceof Float32Array || value instanceof Float64Array)) {
        throw new Error(`${op}: ${where}: dataset ${at} holds ${dataset.dtype}; gradlab reads float32 and float64 weights`);
      }
      return { shape: [...dataset.shape], values: Float32Array.from(value) };
    },
    close() {
      file.close();
      FS.unlink(path);
    },
  };
}
