/**
 * gradlab: the one import users need.
 *   - @gradlab/tensor: Tensor, creation (tensor, zeros, randn…), the op families, the Backend registry;
 *   - @gradlab/autograd: Variable, backward, noGrad, gradcheck, toDot, and the namespace F of
 *     differentiable ops;
 *   - @gradlab/layers: layers, models, optimizers, losses, metrics, callbacks, Module.
 */
export * from '@gradlab/tensor';
export * from '@gradlab/autograd';
export * from '@gradlab/layers';
/** useBackend: choose a backend by name ('cpu', 'gpu', 'gpu:webasm'), importing @gradlab/gpu on demand. */
export { useBackend } from './use-backend.js';
