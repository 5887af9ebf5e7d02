// What lets gradlab run in a page: no Node built-in in the core's static imports (a bundler would fail
// on them), and saved class names that survive a minifier (which renames every class).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Adam, RMSprop, SGD } from '../src/optimizers/index.js';
import { registeredLayers } from '../src/layers/registry.js';
import * as core from '@gradlab/layers';

const PACKAGES = path.resolve(__dirname, '..', '..');

/** Every module reachable from `entry` through value imports (type-only imports left out), and the bare specifiers they name. */
function staticImports(entry: string): { files: Set<string>; specifiers: Set<string> } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const spec = match[1] ?? match[2];
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('@gradlab/') || spec === 'gradlab') visit(path.join(PACKAGES, spec === 'gradlab' ? 'gradlab' : spec.slice(9), 'src', 'index.ts'));
      else specifiers.add(spec);
    }
  };
  visit(entry);
  return { files, specifiers };
}

test("gradlab's static imports reach no Node built-in; the folder handler is the one module that has them, imported on demand", () => {
  const { files, specifiers } = staticImports(path.join(PACKAGES, 'gradlab', 'src', 'index.ts'));
  expect([...specifiers].filter((s) => s.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'worker_threads'].includes(s))).toEqual([]);
  expect(files.has(path.join(PACKAGES, 'layers', 'src', 'models', 'save.ts'))).toBe(true); // the walk does reach the save code
  expect(files.has(path.join(PACKAGES, 'layers', 'src', 'models', 'file-io.ts'))).toBe(false);
  expect(staticImports(path.join(PACKAGES, 'layers', 'src', 'models', 'file-io.ts')).specifiers.has('node:fs')).toBe(true);
});

test('every registered layer class, and every optimizer, carries its saved name itself', () => {
  const classes = (Object.values(core) as unknown[]).filter((v): v is { className: string } => typeof v === 'function' && Object.prototype.hasOwnProperty.call(v, 'className'));
  expect(classes.map((c) => c.className).sort()).toEqual(registeredLayers().filter((n) => n !== 'Sequential' && n !== 'Functional').sort());
  // The two model classes live in `models`.
  expect([core.models.Sequential.className, core.models.Functional.className]).toEqual(['Sequential', 'Functional']);
  expect([SGD, Adam, RMSprop].map((c) => new c().className)).toEqual(['SGD', 'Adam', 'RMSprop']);
  // A renamed class (what a minifier does) keeps its saved name.
  class Qt extends Adam {}
  expect(new Qt().className).toBe('Qt');
  const renamed = Object.defineProperty(class extends SGD {}, 'name', { value: 'xo' });
  expect(new (renamed as typeof SGD)().className).toBe('xo'); // a subclass without its own className: its own name, never its parent's
});

test("optimizers take TF.js's learningRate and refuse an option they do not know, naming it", () => {
  expect(new Adam({ learningRate: 0.01 }).lr).toBe(0.01);
  expect(new SGD({ learningRate: 0.5 }).lr).toBe(0.5);
  expect(new RMSprop({ learningRate: 0.002, rho: 0.8 }).lr).toBe(0.002);
  expect(() => new Adam({ learningRate: 0.01, lr: 0.02 })).toThrow('Adam: lr 0.02 and learningRate 0.01 are the same option; give one of them');
  expect(() => new Adam({ learningrate: 0.01 } as never)).toThrow("Adam: unknown option 'learningrate' (known: lr, learningRate, clipNorm, globalClipNorm, clipValue, beta1, beta2, epsilon)");
  expect(() => new SGD({ momentun: 0.9, nesterov: true } as never)).toThrow("SGD: unknown option 'momentun'");
});

test('a layer refuses an option it does not know, naming it and the options it takes', () => {
  expect(() => core.layers.Dense(10, { activaton: 'relu' } as never)).toThrow(/^dense(_\d+)? \(Dense\): unknown option 'activaton' \(known: name, inputShape, units, activation, useBias, kernelInitializer, biasInitializer\)$/);
  expect(() => core.layers.LSTM(4, { returnSequence: true } as never)).toThrow("unknown option 'returnSequence'");
  expect(() => core.layers.MaxPooling2D({ pool_size: 2 } as never)).toThrow("unknown option 'pool_size'");
  expect(() => core.layers.Flatten({ dataFormat: 'channels_first' } as never)).toThrow(/^flatten(_\d+)? \(Flatten\): unknown option 'dataFormat' \(known: name, inputShape\)$/);
  expect(() => core.layers.Bidirectional(core.layers.LSTM(4), { merge_mode: 'sum' } as never))
    .toThrow(/^bidirectional(_\d+)? \(Bidirectional\): unknown option 'merge_mode' \(known: name, inputShape, mergeMode\)$/);
  // a saved Bidirectional (its wrapped layer inside the config) still loads
  const bi = core.layers.Bidirectional(core.layers.LSTM(4), { mergeMode: 'sum' });
  expect((core.models.layerFromConfig({ className: 'Bidirectional', config: bi.getConfig() }) as typeof bi).mergeMode).toBe('sum');
  expect(core.layers.Dense(10, { activation: 'relu', inputShape: [3] }).getConfig().activation).toBe('relu');
});
