/**
 * The layer registry: className → a function that builds the layer from its getConfig(). Loading a
 * saved model (models/save.ts), Sequential and Bidirectional rebuild their layers through it. Each layer
 * module registers its own classes when it is imported, so a class is loadable as soon as it exists; a
 * user's own layer class becomes loadable with one call to registerLayer.
 */
import type { Layer } from '../layer.js';

export type LayerFactory = (config: Record<string, unknown>) => Layer;
const registry = new Map<string, LayerFactory>();

/** Make `className` loadable: `registerLayer('Dense', (c) => new Dense(c.units as number, c))`. */
export function registerLayer(className: string, fromConfig: LayerFactory): void { registry.set(className, fromConfig); }
export function registeredLayers(): string[] { return [...registry.keys()]; }

/** A layer from its saved form { className, config }. */
export function layerFromConfig(saved: { className: string; config: Record<string, unknown> }): Layer {
  const factory = registry.get(saved.className);
  if (!factory) {
    throw new Error(`models.load: unknown layer class '${saved.className}' (registered: ${registeredLayers().join(', ') || 'none'}); ` +
      'register it with registerLayer(className, fromConfig)');
  }
  return factory(saved.config);
}
