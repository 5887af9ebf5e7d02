// safetensors against its reference implementation (Python's `safetensors` package, with numpy): a
// file gradlab writes is read there, a file written there is read here. Skipped, with the reason in
// its name, where that package is not installed (pip install safetensors numpy).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tensor, fromTypedArray, randn, setSeed } from '@gradlab/tensor';
import { layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { decodeSafetensors, encodeSafetensors } from '../src/formats/safetensors.js';

const python = (script: string): { status: number | null; out: string } => {
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const haveReference = python('import safetensors.numpy, numpy').status === 0;

const suite = haveReference ? describe : describe.skip;
suite(haveReference ? 'safetensors, checked by the reference implementation' : 'safetensors: skipped — python3 has no safetensors package (pip install safetensors numpy)', () => {
  let dir = '';
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-st-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a model's state dict written here is read by safetensors.numpy with every name, dtype, shape and value", async () => {
    setSeed(2);
    const model = new Sequential([layers.Dense(4, { inputShape: [3] }), layers.BatchNormalization(), layers.Dense(2)]);
    const state = model.stateDict();
    state.set('steps', fromTypedArray(Int32Array.from([7, -1]), [2]));
    state.set('transposed', randn([2, 3], { dtype: 'float64' }).T); // a strided view: written row-major
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, await encodeSafetensors(state, { format: 'pt' }));
    const r = python(`
import json, safetensors, safetensors.numpy
t = safetensors.numpy.load_file(${JSON.stringify(file)})
with safetensors.safe_open(${JSON.stringify(file)}, 'np') as f: meta = f.metadata()
print(json.dumps({'meta': meta, 'tensors': {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.flatten().tolist()} for k, v in t.items()}}))`);
    expect(r.status).toBe(0);
    const read = JSON.parse(r.out) as { meta: Record<string, string>; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> };
    expect(read.meta).toEqual({ format: 'pt' });
    expect(Object.keys(read.tensors).sort()).toEqual([...state.keys()].sort());
    for (const [name, t] of state) {
      expect(read.tensors[name]).toEqual({ dtype: t.dtype, shape: [...t.shape], values: Array.from(t.contiguous().dataSync()) });
    }
  });

  test('a file written by safetensors.numpy loads here; F16 is refused naming the tensor', () => {
    const file = path.join(dir, 'from-python.safetensors');
    const r = python(`
import numpy as np, safetensors.numpy
safetensors.numpy.save_file({'w': np.arange(6, dtype=np.float32).reshape(2, 3) / 4, 'n': np.array([3, -4], dtype=np.int32), 'd': np.array([[0.1]], dtype=np.float64)}, ${JSON.stringify(file)}, metadata={'who': 'numpy'})
safetensors.numpy.save_file({'h': np.zeros(2, dtype=np.float16)}, ${JSON.stringify(file)} + '.f16')`);
    expect(r.status).toBe(0);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), 'from-python.safetensors');
    expect(metadata).toEqual({ who: 'numpy' });
    expect(tensors.get('w')!.toArray()).toEqual([[0, 0.25, 0.5], [0.75, 1, 1.25]]);
    expect(tensors.get('n')!.dtype).toBe('int32');
    expect(tensors.get('n')!.toArray()).toEqual([3, -4]);
    expect(tensors.get('d')!.dtype).toBe('float64');
    expect(tensors.get('d')!.toArray()).toEqual([[0.1]]);
    expect(() => decodeSafetensors(fs.readFileSync(`${file}.f16`), 'f16')).toThrow("safetensors: f16: tensor 'h' has dtype \"F16\"; gradlab reads F32, F64 and I32");
  });
});

test('damaged files are refused before any data is read, naming what is wrong', async () => {
  const good = await encodeSafetensors({ a: tensor([1, 2, 3]), b: tensor([[4]]) });
  expect(decodeSafetensors(good).tensors.get('a')!.toArray()).toEqual([1, 2, 3]);
  expect(() => decodeSafetensors(good.subarray(0, good.byteLength - 1), 'cut')).toThrow(/safetensors: cut: tensor 'b' has data_offsets \[12,16\] outside the 15 bytes of data/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  expect(() => decodeSafetensors(huge, 'huge')).toThrow('safetensors: huge: the header claims 1099511627776 bytes');
  expect(() => decodeSafetensors(new Uint8Array(3), 'tiny')).toThrow('3 bytes is too short');
  const padded = new Uint8Array(good.byteLength + 4);
  padded.set(good);
  expect(() => decodeSafetensors(padded, 'padded')).toThrow('the tensors cover 16 bytes of data, the file has 20');
});
