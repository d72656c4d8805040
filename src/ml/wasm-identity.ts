// tf.clone on wasm without a copy. Every tensor a kernel saves for its backward pass goes through
// tf.clone, and tfjs-backend-wasm's Identity copies the data (the cpu backend's shares it by
// reference count): on a k=16 step that is a second copy of every activation the backward pass
// keeps, and of every trainable weight (186 ms per step in Chromium here, and memory). Tensor
// data is never written after its kernel made it (a variable's assign takes new data), so sharing
// is safe, as it is for Reshape.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let copying: tf.KernelConfig | undefined;

function sharedIdentity(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return copying!.kernelFunc(args) as tf.TensorInfo;
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Replaces tfjs-backend-wasm's Identity with one that shares data; calling it again does nothing. */
export function registerWasmSharedIdentity(): void {
  const current = tf.getKernel(tf.Identity, 'wasm');
  if (!current || current.kernelFunc === sharedIdentity) return;
  copying = current;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ kernelName: tf.Identity, backendName: 'wasm', kernelFunc: sharedIdentity, setupFunc: current.setupFunc });
}
