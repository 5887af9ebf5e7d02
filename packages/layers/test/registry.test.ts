import { Dense, Layer, models } from '@gradlab/layers';
import type { LayerArgs } from '@gradlab/layers';
import type { Variable } from '@gradlab/autograd';
import { layerFromConfig, registerLayer, registeredLayers } from '../src/layers/registry';

/** A user's own layer class, as a user would register it. */
class Doubler extends Layer {
  constructor(args: LayerArgs = {}) { super(args); }
  call(x: Variable): Variable { return x.mul(2); }
}

test('a class registered with registerLayer is rebuilt by layerFromConfig from its config', () => {
  registerLayer('RegistryTestDoubler', (c) => new Doubler(c as LayerArgs));
  expect(registeredLayers()).toContain('RegistryTestDoubler');
  const layer = layerFromConfig({ className: 'RegistryTestDoubler', config: { name: 'twice' } });
  expect(layer).toBeInstanceOf(Doubler);
  expect(layer.name).toBe('twice');
});

test('importing a layer module registers its classes: Dense comes back with its units', () => {
  const saved = new Dense(7, { name: 'd7' });
  const rebuilt = layerFromConfig({ className: 'Dense', config: saved.getConfig() });
  expect(rebuilt).toBeInstanceOf(Dense);
  expect((rebuilt as Dense).getConfig().units).toBe(7);
});

test('an unknown class names itself, what is registered and how to register it', () => {
  expect(() => layerFromConfig({ className: 'NoSuchLayer', config: {} }))
    .toThrow(/unknown layer class 'NoSuchLayer' \(registered: .*Dense.*\).*registerLayer\(className, fromConfig\)/);
});

test('the public names still work: models.registerLayer is the registry, as is models/save.ts', async () => {
  expect(models.registerLayer).toBe(registerLayer);
  expect(models.layerFromConfig).toBe(layerFromConfig);
  const save = await import('../src/models/save');
  expect(save.registerLayer).toBe(registerLayer);
});
