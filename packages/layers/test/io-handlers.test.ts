// The IO handlers that run in Node too: memory, localstorage:// (with a Map standing in for the
// browser's Storage, which Node lacks), http(s):// against a local server, browserFiles with Node's
// File, and the routing's errors. IndexedDB, downloads and the page itself: test/browser-page.test.ts.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { browserFiles, http as httpHandler, load, memory } from '../src/models/save.js';
import { Adam } from '../src/optimizers/index.js';
import { model as savedModel, values } from './save-helpers.js';


describe('IO handlers', () => {
  test('memory(): save, then load from the artifacts, gives the same weights and training setup', async () => {
    const original = savedModel();
    original.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy' });
    const saved = memory();
    await original.save(saved);
    expect(saved.artifacts!.weightsFile).toMatch(/^weights-[0-9a-z]+\.bin$/);
    const loaded = await load(memory(saved.artifacts));
    expect(values(loaded)).toEqual(values(original));
    expect(loaded.optimizer?.className).toBe('Adam');
    expect(loaded.optimizer?.lr).toBe(0.01);
  });

  test('localstorage://: one key holds the model; a damaged key is refused naming it', async () => {
    const store = new Map<string, string>();
    const localStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => { store.set(k, v); } };
    (globalThis as Record<string, unknown>).localStorage = localStorage;
    try {
      const original = savedModel();
      await original.save('localstorage://small');
      expect([...store.keys()]).toEqual(['gradlab_models/small']);
      expect(values(await load('localstorage://small'))).toEqual(values(original));
      store.set('gradlab_models/small', store.get('gradlab_models/small')!.slice(0, 100));
      await expect(load('localstorage://small')).rejects.toThrow(/models\.load: localstorage:\/\/small: the stored record is damaged/);
      await expect(load('localstorage://absent')).rejects.toThrow('models.load: nothing is saved at localstorage://absent');
    } finally {
      delete (globalThis as Record<string, unknown>).localStorage;
    }
  });

  test('http(s)://: loads model.json and its weights beside it; a short weights file is refused by its size', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-http-'));
    const original = savedModel();
    await original.save(dir);
    let truncate = false;
    const server = http.createServer((req, res) => {
      const file = path.join(dir, path.basename(req.url ?? ''));
      if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
      const body = fs.readFileSync(file);
      res.writeHead(200).end(truncate && file.endsWith('.bin') ? body.subarray(0, 8) : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
    try {
      expect(values(await load(url))).toEqual(values(original));
      truncate = true;
      await expect(load(url)).rejects.toThrow(/models\.load: http:\/\/127\.0\.0\.1:\d+\/weights-[0-9a-z]+\.bin has 8 bytes but model\.json describes \d+ \(truncated\)/);
      await expect(load(url.replace('model.json', 'missing.json'))).rejects.toThrow(/answered 404/);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('browserFiles: model.json and a renamed weights download load; two .json files are refused', async () => {
    const saved = memory();
    const original = savedModel();
    await original.save(saved);
    const { modelJson, weights } = saved.artifacts!;
    const files = [new File([modelJson], 'speech.json'), new File([weights as Uint8Array<ArrayBuffer>], 'speech.weights (1).bin')];
    expect(values(await load(browserFiles(files)))).toEqual(values(original));
    expect(() => browserFiles([files[0], files[0]])).toThrow('pick exactly one .json file');
  });

  test('routing: unknown schemes, save-only and load-only handlers, and bad targets are refused, naming them', async () => {
    const m = new Sequential([layers.Dense(1, { inputShape: [2] })]);
    await expect(m.save('ftp://x')).rejects.toThrow("save('ftp://x'): unknown scheme 'ftp://'");
    await expect(m.save('https://example.invalid/model.json')).rejects.toThrow('https:// only loads');
    await expect(load('downloads://x')).rejects.toThrow('downloads:// only saves');
    await expect(load(42 as unknown as string)).rejects.toThrow('models.load: expected a folder path, a URL');
    await expect(m.save({ where: (f: string) => f } as never)).rejects.toThrow('save: the IO handler given has no save() or where() method');
    expect(httpHandler('https://h.invalid/m/').where('model.json')).toBe('https://h.invalid/m/model.json');
  });
});
