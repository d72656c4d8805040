// Conv2D and FusedConv2D on wasm through our kernel (kernels/conv-wat.ts: an indirect matrix
// product with relaxed SIMD's fused multiply-add where the engine has it, split over the kernels'
// helper threads), in place of tfjs-backend-wasm's XNNPACK ones, which it ships built without that
// multiply-add. Ours takes NHWC, dilation 1, output channels in multiples of 8, a bias of one value
// per output channel, and no activation or relu: every convolution of ResNet50, its folded
// segments and its input gradients (wasm-conv2d-gradients.ts). The 3×3 stride-1 'same' ones (45% of
// ResNet50's multiply-adds) and their input gradients run as Winograd convolutions
// (kernels/winograd-wat.ts: 2.25× fewer multiply-adds; measured in Node on 1 thread at batch 4,
// 2.0–2.15× faster at 56², 28² and 14², 1.6× at 7², where 2 × 2 tiles cover 8 × 8 for 7 × 7,
// within 3e-6 of the direct convolution relative to its largest output). Anything else keeps
// tfjs's kernel.
// That includes the stem, although XNNPACK alone runs its 3 input channels faster (38 against 66
// ms per batch of 4 in Chromium): with the stem on XNNPACK, a k=16 step took 5.8–6.4 s instead of
// 4.0–4.3 s in the same sitting, its thread pool seemingly slowing the kernels that follow.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convRowStride, winogradChunk, winogradPlaneBytes, winogradScratchBytes, winogradTiles, type WasmKernels } from './kernels/wasm-kernels';
import { addressOf, heap, pixelAddressTable, Scratch, WASM_BACKEND, wasmKernelsOf, winogradTables } from './wasm-tensors';

type ConvInfo = tf.backend_util.Conv2DInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * y = x ⊛ filter (+ bias) (then relu), by our kernel; the caller owns y. With `rotated`, `filter`
 * is the filter of the convolution whose input gradient this computes (see ConvCall.rotated), and
 * `conv` this convolution's geometry.
 */
export function ourConv(backend: BackendWasm, kernels: WasmKernels, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | null, relu: boolean, conv: ConvInfo, rotated = false): tf.TensorInfo {
  if (isWinograd(kernels, conv)) return winogradConv(backend, kernels, x, filter, bias, relu, conv, rotated);
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = conv;
  const rows = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth;
  const rowStride = convRowStride(rows);
  const scratch = new Scratch(backend);
  try {
    const offsets = pixelAddressTable(backend, scratch, x, conv, rowStride);
    const packed = scratch.keep(backend.makeOutput([taps * inChannels * outChannels], 'float32'));
    const y = scratch.keep(backend.makeOutput([batchSize, outHeight, outWidth, outChannels], 'float32'));
    kernels.conv({
      offsets: addressOf(backend, offsets),
      weights: addressOf(backend, filter),
      rotated,
      packed: addressOf(backend, packed),
      bias: bias ? addressOf(backend, bias) : null,
      y: addressOf(backend, y),
      rows,
      channels: inChannels,
      outChannels,
      taps,
      relu,
    });
    return scratch.give(y);
  } finally {
    scratch.releaseAll();
  }
}

/** Whether `conv` is a 3×3 stride-1 'same' convolution that the Winograd kernel takes. */
export function isWinograd(kernels: WasmKernels, conv: ConvInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo, inHeight, inWidth, outHeight, outWidth } = conv;
  const same = padInfo.top === 1 && padInfo.left === 1 && padInfo.bottom === 1 && padInfo.right === 1 && outHeight === inHeight && outWidth === inWidth;
  return filterHeight === 3 && filterWidth === 3 && strideHeight === 1 && strideWidth === 1 && same && kernels.fitsWinograd(conv.inChannels, conv.outChannels);
}

/** ourConv for a 3×3 stride-1 'same' convolution, by the Winograd kernel (kernels/winograd-wat.ts). */
function winogradConv(backend: BackendWasm, kernels: WasmKernels, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | null, relu: boolean, conv: ConvInfo, rotated: boolean): tf.TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels } = conv;
  const tiles = winogradTiles(conv);
  const chunk = winogradChunk(inChannels, outChannels);
  const parts = kernels.threads;
  const plane = winogradPlaneBytes(inChannels, outChannels) / Float32Array.BYTES_PER_ELEMENT;
  const scratch = new Scratch(backend);
  const float32s = (count: number) => scratch.keep(backend.makeOutput([count], 'float32'));
  try {
    const packed = float32s(9 * plane);
    const transformed = float32s(16 * plane);
    const threadScratch = float32s((parts * winogradScratchBytes(inChannels, outChannels)) / Float32Array.BYTES_PER_ELEMENT);
    const y = scratch.keep(backend.makeOutput([batchSize, outHeight, outWidth, outChannels], 'float32'));
    const tables = winogradTables(backend, scratch, conv, x, y, outChannels, chunk, true);
    // Rows of V past a chunk's last tile are read, not used: zeros rather than whatever was there.
    heap(backend, threadScratch).fill(0);
    kernels.winogradConv({
      ...tables,
      weights: addressOf(backend, filter),
      rotated,
      packed: addressOf(backend, packed),
      transformed: addressOf(backend, transformed),
      bias: bias ? addressOf(backend, bias) : null,
      scratch: addressOf(backend, threadScratch),
      parts,
      tiles,
      channels: inChannels,
      outChannels,
      relu,
    });
    return scratch.give(y);
  } finally {
    scratch.releaseAll();
  }
}

/** The convolution's geometry when our kernel can take it, else null. */
function ourGeometry(kernels: WasmKernels | undefined, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): ConvInfo | null {
  if (!kernels || attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4) return null;
  const conv = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const empty = conv.batchSize * conv.outHeight * conv.outWidth * conv.inChannels === 0;
  return conv.dilationHeight === 1 && conv.dilationWidth === 1 && !empty && kernels.fitsConv(conv.outChannels) ? conv : null;
}

const tfjsKernels = new Map<string, tf.KernelConfig>();

function conv2D(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const kernels = wasmKernelsOf(backend);
  const conv = ourGeometry(kernels, x, filter, args.attrs as unknown as tf.Conv2DAttrs);
  if (!conv) return tfjsKernels.get(tf.Conv2D)!.kernelFunc(args) as tf.TensorInfo;
  return ourConv(backend, kernels!, x, filter, null, false, conv);
}

function fusedConv2D(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
  const kernels = wasmKernelsOf(backend);
  const conv = ourGeometry(kernels, x, filter, attrs);
  const activationOk = attrs.activation === 'linear' || attrs.activation === 'relu';
  const biasOk = !bias || (bias.dtype === 'float32' && conv !== null && tf.util.sizeFromShape(bias.shape) === conv.outChannels);
  if (!conv || !activationOk || !biasOk || preluActivationWeights) return tfjsKernels.get(tf.FusedConv2D)!.kernelFunc(args) as tf.TensorInfo;
  return ourConv(backend, kernels!, x, filter, bias ?? null, attrs.activation === 'relu', conv);
}

/**
 * Registers both for the wasm backend, tfjs's own staying the fallback; calling it again does
 * nothing. Before the backend starts: tfjs's setup (binding its wasm functions) still runs then.
 */
export function registerWasmConv2D(): void {
  for (const [name, kernelFunc] of [
    [tf.Conv2D, conv2D],
    [tf.FusedConv2D, fusedConv2D],
  ] as const) {
    const current = tf.getKernel(name, WASM_BACKEND);
    if (!current || current.kernelFunc === kernelFunc) continue;
    tfjsKernels.set(name, current);
    tf.unregisterKernel(name, WASM_BACKEND);
    tf.registerKernel({ kernelName: name, backendName: WASM_BACKEND, kernelFunc, setupFunc: current.setupFunc });
  }
}
