// Σ over every position of an NHWC tensor, per channel: the bias and BatchNorm gradients. tfjs-wasm's
// Sum over axes [0, 1, 2] first transposes the reduced axes innermost, a full copy at ~8 ns per
// element here (7% of a k=16 step); summing the rows in place is one pass: by our SIMD kernel
// (kernels/elementwise-wat.ts) where channels come in fours, else a loop here. Other backends use tf.sum.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ELEMENTWISE_LANES } from './kernels/wasm-kernels';
import { addressOf, heap, sumOverThreads, wasmKernelsOf } from './wasm-tensors';

const KERNEL = 'FinetuneLabChannelSums';

function channelSumsWasm({ inputs, backend: anyBackend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = anyBackend as BackendWasm;
  const { x } = inputs as { x: tf.TensorInfo };
  const channels = x.shape[x.shape.length - 1]!;
  const rows = channels === 0 ? 0 : tf.util.sizeFromShape(x.shape) / channels;
  const out = backend.makeOutput([channels], 'float32');
  const kernels = wasmKernelsOf(backend);
  if (kernels && channels % ELEMENTWISE_LANES === 0) {
    sumOverThreads(backend, kernels, channels, out, (totals, blocks) => kernels.channelSums({ x: addressOf(backend, x), totals, blocks, rows, channels }));
    return out;
  }
  const totals = new Float64Array(channels); // float64: rows of 10⁴+ values lose digits in float32
  const values = heap(backend, x);
  let r = 0;
  // Four rows per pass over the totals: a quarter of the loads and stores (2.3× faster here).
  for (; r + 4 <= rows; r += 4) {
    const at = r * channels;
    for (let c = 0; c < channels; c++) {
      totals[c]! += values[at + c]! + values[at + channels + c]! + values[at + 2 * channels + c]! + values[at + 3 * channels + c]!;
    }
  }
  for (; r < rows; r++) {
    const at = r * channels;
    for (let c = 0; c < channels; c++) totals[c]! += values[at + c]!;
  }
  heap(backend, out).set(totals);
  return out;
}

/** Registers the wasm kernel; calling it again does nothing. */
export function registerWasmChannelSums(): void {
  if (!tf.getKernel(KERNEL, 'wasm')) tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: channelSumsWasm });
}

/** [C]: the sum over every axis but the last (no gradient: it serves inside gradients). */
export function channelSums(x: tf.Tensor): tf.Tensor1D {
  if (tf.getKernel(KERNEL, tf.getBackend())) return tf.engine().runKernel(KERNEL, { x }, {}) as tf.Tensor1D;
  return tf.sum(x, x.shape.slice(0, -1).map((_, axis) => axis)) as tf.Tensor1D;
}
