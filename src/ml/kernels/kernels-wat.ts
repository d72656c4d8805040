// The WebAssembly text of our kernels' module: the filter gradient (filter-gradient-wat.ts), the
// forward convolution (conv-wat.ts) and the one-pass kernels (elementwise-wat.ts), importing the
// memory of tfjs-backend-wasm so that they
// work on its tensors in place. scripts/build-wasm-kernels.ts assembles it with wabt.

import { convFunctions, packRotatedFunction } from './conv-wat';
import { elementwiseFunctions } from './elementwise-wat';
import { filterGradientFunction } from './filter-gradient-wat';
import { winogradFunctions } from './winograd-wat';
import type { FmaKind } from './fma-wat';

export type { FmaKind } from './fma-wat';

export interface KernelsWatOptions {
  fma: FmaKind;
  /** Import a shared memory (tfjs-backend-wasm's threaded build) rather than a plain one. */
  sharedMemory: boolean;
}

/** The exports every variant has, in the order a helper thread numbers them. */
export const KERNEL_EXPORTS = ['filter_gradient', 'filter_gradient_copied', 'conv', 'relu_backprop', 'channel_sums', 'adam', 'scale_channels', 'scale_gradient', 'winograd_weights', 'winograd_conv', 'winograd_filter_gradient', 'winograd_filter_output'] as const;

export function kernelsWat({ fma, sharedMemory }: KernelsWatOptions): string {
  // A plain memory is imported without a maximum, so that any memory matches; a shared one needs one.
  return `(module
  (import "env" "memory" (memory 1${sharedMemory ? ' 65536 shared' : ''}))${filterGradientFunction(fma)}${convFunctions(fma)}${packRotatedFunction()}${winogradFunctions()}${elementwiseFunctions()})
`;
}
