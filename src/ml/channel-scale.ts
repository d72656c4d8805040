// A weight times one factor per output channel, the step that folds a BatchNorm into its
// convolution (W·s), and its way back: a folded convolution's filter gradient G as its own
// weights' (G·s), with Σ_k W·G per channel for γ's gradient (trainable-conv-batchnorm.ts). They
// run on every trainable weight at every step; tfjs-wasm's broadcasting Multiply took 2.5 ns per
// element in Chromium here (176 ms of a k=16 step for the three of them), our SIMD kernels
// (kernels/elementwise-wat.ts) stream them, and the gradient's two products and sum are one pass.
// Elsewhere (other backends, channels not in fours), tfjs ops.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { channelSums } from './channel-sums';
import { ELEMENTWISE_LANES } from './kernels/wasm-kernels';
import { addressOf, runningWasmKernels, sumOverThreads, wasmKernelsOf } from './wasm-tensors';

const SCALE = 'FinetuneLabScaleChannels';
const SCALE_GRADIENT = 'FinetuneLabScaleGradient';

type KernelArgs = Parameters<tf.KernelFunc>[0];

// Registered for wasm, and called only where our kernels are bound (usesOurKernels).
function scaleChannelsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const kernels = wasmKernelsOf(backend)!;
  const { x, scale } = args.inputs as { x: tf.TensorInfo; scale: tf.TensorInfo };
  const channels = scale.shape[0]!;
  const out = backend.makeOutput(x.shape, 'float32');
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  kernels.scaleChannels({ x: addressOf(backend, x), scale: addressOf(backend, scale), out: addressOf(backend, out), rows, channels });
  return out;
}

function scaleGradientWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const kernels = wasmKernelsOf(backend)!;
  const { g, w, scale } = args.inputs as { g: tf.TensorInfo; w: tf.TensorInfo; scale: tf.TensorInfo };
  const channels = scale.shape[0]!;
  const rows = tf.util.sizeFromShape(g.shape) / channels;
  const out = backend.makeOutput(g.shape, 'float32');
  const dots = backend.makeOutput([channels], 'float32');
  const [gAt, wAt, scaleAt, outAt] = [g, w, scale, out].map((t) => addressOf(backend, t)) as [number, number, number, number];
  sumOverThreads(backend, kernels, channels, dots, (totals, blocks) => kernels.scaleGradient({ g: gAt, w: wAt, scale: scaleAt, out: outAt, totals, blocks, rows, channels }));
  return [out, dots];
}

/** Registers the wasm kernels; calling it again does nothing. */
export function registerWasmChannelScale(): void {
  if (!tf.getKernel(SCALE, 'wasm')) tf.registerKernel({ kernelName: SCALE, backendName: 'wasm', kernelFunc: scaleChannelsWasm });
  if (!tf.getKernel(SCALE_GRADIENT, 'wasm')) tf.registerKernel({ kernelName: SCALE_GRADIENT, backendName: 'wasm', kernelFunc: scaleGradientWasm });
}

/** Whether the running backend has our kernel `name` and our kernels take `channels`. */
function usesOurKernels(name: string, channels: number): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined && runningWasmKernels() !== undefined && channels % ELEMENTWISE_LANES === 0;
}

/** x · scale, scale one factor per channel of x's last axis (no gradient: it serves inside ops that have their own). */
export function scaleChannels(x: tf.Tensor, scale: tf.Tensor1D): tf.Tensor {
  if (usesOurKernels(SCALE, scale.shape[0])) return tf.engine().runKernel(SCALE, { x, scale }, {}) as tf.Tensor;
  return tf.mul(x, scale);
}

/** [g · scale, Σ over every axis but the last of w · g]: a folded filter gradient as its weights'. */
export function scaleGradient(g: tf.Tensor, w: tf.Tensor, scale: tf.Tensor1D): [tf.Tensor, tf.Tensor1D] {
  if (usesOurKernels(SCALE_GRADIENT, scale.shape[0])) return tf.engine().runKernel(SCALE_GRADIENT, { g, w, scale }, {}) as unknown as [tf.Tensor, tf.Tensor1D];
  return [tf.mul(g, scale), channelSums(tf.mul(w, g))];
}
