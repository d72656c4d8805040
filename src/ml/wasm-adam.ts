// One Adam update in one pass, for the wasm backend. Written as tfjs ops, an update is ~12
// elementwise kernels, each a full pass with its own output (115 ms per step for res5's 14.9 M
// parameters here, more than half of PyTorch's whole step); this reads the weight, gradient and
// both moments once and writes the three new tensors, as SIMD over the kernels' threads
// (kernels/elementwise-wat.ts) where our kernels bound, else as a loop here. New tensors, not
// writes in place: XNNPACK caches packed weights by tensor, so a weight must change by getting a
// new one.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ELEMENTWISE_LANES } from './kernels/wasm-kernels';
import { addressOf, heap, wasmKernelsOf } from './wasm-tensors';

const KERNEL = 'FinetuneLabAdam';

export interface AdamStep {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The learning rate with Adam's bias correction folded in. */
  correctedRate: number;
}

function adamWasm({ inputs, backend: anyBackend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const backend = anyBackend as BackendWasm;
  const { w, g, m, v } = inputs as Record<'w' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const { beta1, beta2, epsilon, correctedRate } = attrs as unknown as AdamStep;
  const outs = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
  const count = tf.util.sizeFromShape(w.shape);
  const kernels = wasmKernelsOf(backend);
  // Our SIMD kernel takes whole vectors; the tail (or, without our kernels, everything) is done here.
  const vectors = kernels ? count - (count % ELEMENTWISE_LANES) : 0;
  const [wAt, gAt, mAt, vAt, w2At, m2At, v2At] = [w, g, m, v, ...outs].map((t) => addressOf(backend, t)) as [number, number, number, number, number, number, number];
  kernels?.adam({ w: wAt, g: gAt, m: mAt, v: vAt, w2: w2At, m2: m2At, v2: v2At, count: vectors, beta1, beta2, epsilon, rate: correctedRate });
  // Views are taken after every allocation: growing the wasm memory detaches older ones.
  const [W, G, M, V, W2, M2, V2] = [w, g, m, v, ...outs].map((t) => heap(backend, t)) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  for (let i = vectors; i < count; i++) {
    const grad = G[i]!;
    const first = beta1 * M[i]! + (1 - beta1) * grad;
    const second = beta2 * V[i]! + (1 - beta2) * grad * grad;
    M2[i] = first;
    V2[i] = second;
    W2[i] = W[i]! - (correctedRate * first) / (Math.sqrt(second) + epsilon);
  }
  return outs;
}

/** Registers the wasm kernel; calling it again does nothing. */
export function registerWasmAdam(): void {
  if (!tf.getKernel(KERNEL, 'wasm')) tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: adamWasm });
}

/** [weight, m, v] after one step, in one kernel; null where the backend has none (use tfjs ops). */
export function fusedAdamStep(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, step: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor] | null {
  if (!tf.getKernel(KERNEL, tf.getBackend())) return null;
  return tf.engine().runKernel(KERNEL, { w, g, m, v }, step as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
