/**
 * gradlab: the one import users need. Everything from @gradlab/tensor and @gradlab/autograd
 * (and, as they land, @gradlab/layers and @gradlab/gpu).
 */
export * from '@gradlab/tensor';
export * from '@gradlab/autograd';
