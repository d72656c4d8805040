// One Adam update in one pass, for the wasm backend. Written as tfjs ops, an update is ~12
// elementwise kernels, each a full pass with its own output (115 ms per step for res5's 14.9 M
// parameters here, more than half of PyTorch's whole step); this reads the weight, gradient and
// both moments once and writes the three new tensors. New tensors, not writes in place: XNNPACK
// caches packed weights by tensor, so a weight must change by getting a new one.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

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
  // Views are taken after every allocation: growing the wasm memory detaches older ones.
  const [W, G, M, V] = [w, g, m, v].map((t) => backend.typedArrayFromHeap(t) as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [W2, M2, V2] = outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array) as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < W.length; i++) {
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
