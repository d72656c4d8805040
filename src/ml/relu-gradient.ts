// ReLU's gradient in one pass. tfjs-core's is dy · cast(step(x)): three full-size kernels and two
// temporaries (Step, Cast, Multiply: 2% of a k=16 step here); on wasm this kernel reads dy and the
// ReLU's output once and writes the input gradient, as SIMD (kernels/elementwise-wat.ts: a
// JavaScript loop took 5 ns per element here, mispredicting the sign). Other backends keep tfjs's ops.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ELEMENTWISE_LANES } from './kernels/wasm-kernels';
import { addressOf, heap, wasmKernelsOf } from './wasm-tensors';

const KERNEL = 'FinetuneLabReluBackprop';

function reluBackpropWasm({ inputs, backend: anyBackend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = anyBackend as BackendWasm;
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const out = backend.makeOutput(dy.shape, 'float32');
  const count = tf.util.sizeFromShape(dy.shape);
  const kernels = wasmKernelsOf(backend);
  // Our kernel takes whole vectors; the tail (or, without our kernels, everything) is done here.
  const vectors = kernels ? count - (count % ELEMENTWISE_LANES) : 0;
  kernels?.reluBackprop({ dy: addressOf(backend, dy), y: addressOf(backend, y), dx: addressOf(backend, out), count: vectors });
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const [gradient, activation, dx] = [dy, y, out].map((t) => heap(backend, t)) as [Float32Array, Float32Array, Float32Array];
  for (let i = vectors; i < count; i++) dx[i] = activation[i]! > 0 ? gradient[i]! : 0;
  return out;
}

/** Registers the wasm kernel; calling it again does nothing. */
export function registerWasmReluBackprop(): void {
  if (!tf.getKernel(KERNEL, 'wasm')) tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: reluBackpropWasm });
}

/** dy where y = relu(x) is positive, 0 elsewhere: ReLU's input gradient (x or y: the same sign). */
export function reluBackprop(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getKernel(KERNEL, tf.getBackend())) return tf.engine().runKernel(KERNEL, { dy, y }, {}) as tf.Tensor;
  return tf.mul(dy, tf.cast(tf.step(y), 'float32'));
}

const gradient: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => reluBackprop(dy as tf.Tensor, saved[0]!) }),
};

/** Replaces tfjs-core's Relu gradient, for every backend; calling it again does nothing. */
export function registerReluGradient(): void {
  if (tf.getGradient(tf.Relu) !== gradient) tf.registerGradient(gradient);
}
