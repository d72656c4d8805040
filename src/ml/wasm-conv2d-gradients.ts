// The two gradients of conv2d on wasm. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, and
// its Conv2DBackpropInput is a scalar C++ loop (0.77 GMAC/s here, 60% of a k=16 step), while the
// forward Conv2D (ours, wasm-conv2d.ts, or XNNPACK's) runs at 10–17 GMAC/s per core and on every
// thread; tfjs-wasm's BatchMatMul does neither when an operand is transposed. So:
// - input gradient, 1×1: a 1×1 convolution of dy with the filter transposed ([outC, inC]), then,
//   for stride 2, the result spread over the input's even positions;
// - input gradient, stride 1: a convolution of dy with the filter rotated 180° and its channels
//   swapped, padded by (kernel − 1 − padding) on each side;
//   both on our convolution kernel, which packs the filter rotated and transposed in one pass
//   (pack_weights_rotated) where its channels fit; tfjs-wasm's Transpose took 12–20 ns per element
//   of a 2 M-element filter here, ~0.3 s of a k=16 step. Elsewhere, Transpose and the registered
//   Conv2D;
// - filter gradient, 3×3 stride 1 'same': the gradient of its Winograd form (kernels/winograd-wat.ts),
//   2.25× fewer multiply-adds (measured in Node on 1 thread at batch 4: 2.05–2.15× faster at 56²,
//   28² and 14², 1.5× at 7²);
// - other filter gradients: our own kernel (kernels/filter-gradient-wat.ts: an indirect matrix product
//   with relaxed SIMD's fused multiply-add where the engine has it) wherever the channels fit its
//   tile (every ResNet50 layer but the stem, whose input has 3 channels); otherwise one matrix
//   product im2col(x)^T · dy, as a 1×1 convolution of im2col(x)^T ([1, 1, taps·inC, rows],
//   rows = batch·outH·outW) with dy as its filter.
// Any other shape (the 7×7/2 stem's input gradient, which the lab never needs) keeps tfjs's kernel.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { filterGradientScratchBytes, winogradGradientChunk, winogradGradientScratchBytes, winogradPlaneBytes, winogradTiles, type WasmKernels } from './kernels/wasm-kernels';
import { isWinograd, ourConv } from './wasm-conv2d';
import { addressOf, heap, pixelAddressTable, runKernel, Scratch, WASM_BACKEND as BACKEND, wasmKernelsOf, winogradTables } from './wasm-tensors';

type ConvInfo = tf.backend_util.Conv2DInfo;

function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return runKernel(backend, tf.Reshape, { x }, { shape });
}

function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return runKernel(backend, tf.Transpose, { x }, { perm });
}

/** The registered forward convolution (ours where it applies, else XNNPACK's), NHWC, dilation 1. */
function conv2d(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, pad: 'valid' | tf.backend_util.ExplicitPadding): tf.TensorInfo {
  return runKernel(backend, tf.Conv2D, { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
}

function convInfo(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: tf.Conv2DBackpropFilterAttrs['pad']; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function checkNhwc(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') throw new Error(`${kernel} (wasm) supports dataFormat 'NHWC' only, got '${dataFormat}'.`);
}

function checkDy(kernel: string, dy: tf.TensorInfo, conv: ConvInfo): void {
  const expected = [conv.batchSize, conv.outHeight, conv.outWidth, conv.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((size, axis) => size !== expected[axis])) {
    throw new Error(`${kernel} (wasm): dy is [${dy.shape}], the convolution gives [${expected}].`);
  }
}

/** Output rows im2colTransposed fills together: their source pixels stay in L1 across channels. */
const ROW_BLOCK = 64;

/**
 * im2col(x)^T, [taps·inC, rows] (rows = batch·outH·outW): row (tap, c) holds channel c of the input
 * pixel each output position's window has under that tap, zero where it falls in the padding.
 * Filled a block of output positions at a time, so that the strided reads hit cache.
 */
function im2colTransposed(backend: BackendWasm, x: tf.TensorInfo, conv: ConvInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = conv;
  const rows = batchSize * outHeight * outWidth;
  const out = backend.makeOutput([filterHeight * filterWidth * inChannels, rows], 'float32');
  // Views are taken after every allocation: growing the wasm memory detaches older ones.
  const dst = heap(backend, out);
  const src = heap(backend, x);
  const offsets = new Int32Array(ROW_BLOCK);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      const tapRow = (i * filterWidth + j) * inChannels;
      for (let first = 0; first < rows; first += ROW_BLOCK) {
        const count = Math.min(ROW_BLOCK, rows - first);
        for (let n = 0; n < count; n++) {
          const r = first + n;
          const ow = r % outWidth;
          const oh = Math.floor(r / outWidth) % outHeight;
          const b = Math.floor(r / (outWidth * outHeight));
          const ih = oh * strideHeight + i - padInfo.top;
          const iw = ow * strideWidth + j - padInfo.left;
          offsets[n] = ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth ? -1 : ((b * inHeight + ih) * inWidth + iw) * inChannels;
        }
        for (let c = 0; c < inChannels; c++) {
          const at = (tapRow + c) * rows + first;
          for (let n = 0; n < count; n++) {
            const offset = offsets[n]!;
            dst[at + n] = offset < 0 ? 0 : src[offset + c]!;
          }
        }
      }
    }
  }
  return out;
}

/** A copy of `x` with its own data, reshaped. */
function reshapedCopy(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, x.dtype);
  heap(backend, out).set(heap(backend, x));
  return out;
}

/**
 * dW by our kernel. Instead of im2col(x), it gets a table of addresses: for each tap and output
 * position, where in x the input pixel under that tap starts, or a zero row in the padding.
 */
function indirectFilterGradient(backend: BackendWasm, kernels: WasmKernels, x: tf.TensorInfo, dy: tf.TensorInfo, conv: ConvInfo, filterShape: number[]): tf.TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = conv;
  const rows = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth;
  const scratch = new Scratch(backend);
  try {
    const offsets = pixelAddressTable(backend, scratch, x, conv, rows);
    const parts = kernels.threads;
    // Where the kernel copies its rows first (wide layers), each thread's room for the copies.
    const copies = scratch.keep(backend.makeOutput([Math.max(1, (parts * filterGradientScratchBytes(inChannels, outChannels)) / Float32Array.BYTES_PER_ELEMENT)], 'float32'));
    const dw = scratch.keep(backend.makeOutput(filterShape, 'float32')); // [kh, kw, inC, outC]
    heap(backend, dw).fill(0);
    kernels.filterGradient({ offsets: addressOf(backend, offsets), dy: addressOf(backend, dy), dw: addressOf(backend, dw), scratch: addressOf(backend, copies), parts, rows, channels: inChannels, outChannels, taps });
    return scratch.give(dw);
  } finally {
    scratch.releaseAll();
  }
}

/**
 * dW of a 3×3 stride-1 'same' convolution by our Winograd kernels (kernels/winograd-wat.ts): the
 * gradient of the Winograd form of the convolution, which is the convolution exactly, in 2.25×
 * fewer multiply-adds than indirectFilterGradient's.
 */
function winogradFilterGradient(backend: BackendWasm, kernels: WasmKernels, x: tf.TensorInfo, dy: tf.TensorInfo, conv: ConvInfo, filterShape: number[]): tf.TensorInfo {
  const { inChannels, outChannels } = conv;
  const tiles = winogradTiles(conv);
  const parts = kernels.threads;
  const scratch = new Scratch(backend);
  const float32s = (count: number) => scratch.keep(backend.makeOutput([count], 'float32'));
  try {
    const transformed = float32s((16 * winogradPlaneBytes(inChannels, outChannels)) / Float32Array.BYTES_PER_ELEMENT);
    const threadScratch = float32s((parts * winogradGradientScratchBytes(inChannels, outChannels)) / Float32Array.BYTES_PER_ELEMENT);
    const dw = scratch.keep(backend.makeOutput(filterShape, 'float32'));
    // dy's tiles past the output's edge read zeros, as x's padding does.
    const { outputs: gradients, ...tables } = winogradTables(backend, scratch, conv, x, dy, outChannels, winogradGradientChunk(inChannels, outChannels), false);
    // Not zeroed: the products read a chunk's rows of V and D up to its last tile only (the
    // forward's register tiles read up to 3 rows past it, hence its fill), and here the scratch is
    // 2 MB a thread, 4 MB of stores a call.
    kernels.winogradFilterGradient({
      ...tables,
      gradients,
      transformed: addressOf(backend, transformed),
      dw: addressOf(backend, dw),
      scratch: addressOf(backend, threadScratch),
      parts,
      tiles,
      channels: inChannels,
      outChannels,
    });
    return scratch.give(dw);
  } finally {
    scratch.releaseAll();
  }
}

/**
 * dW = ∂L/∂filter = im2col(x)^T · DY, DY being dy as [rows, outC]: by our kernel where the
 * channels fit its tile, else by XNNPACK. XNNPACK computes it as a 1×1
 * convolution whose "image" is im2col(x)^T (taps·inC pixels of `rows` channels) and whose filter
 * is DY: the filter is the operand XNNPACK repacks on every call (the im2col matrix as filter cost
 * 9× more at 3×3), and its output is the filter gradient in filter layout. The filter is a copy of
 * dy, so the operator XNNPACK caches for it goes when the copy does, not when dy does.
 */
function conv2DBackpropFilter({ inputs, backend: anyBackend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = anyBackend as BackendWasm;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  checkNhwc('Conv2DBackpropFilter', dataFormat);
  if (x.shape.length !== 4) throw new Error(`Conv2DBackpropFilter (wasm) needs a rank-4 x, got [${x.shape}].`);
  const conv = convInfo(x.shape, filterShape, { strides, pad, dimRoundingMode });
  checkDy('Conv2DBackpropFilter', dy, conv);
  const kernels = wasmKernelsOf(backend);
  if (kernels && isWinograd(kernels, conv)) return winogradFilterGradient(backend, kernels, x, dy, conv, filterShape);
  if (kernels?.fitsFilterGradient(conv.inChannels, conv.outChannels)) return indirectFilterGradient(backend, kernels, x, dy, conv, filterShape);
  const rows = conv.batchSize * conv.outHeight * conv.outWidth;
  const columns = conv.filterHeight * conv.filterWidth * conv.inChannels;

  const scratch = new Scratch(backend);
  try {
    const filter = scratch.keep(reshapedCopy(backend, dy, [1, 1, rows, conv.outChannels]));
    const colsT = scratch.keep(im2colTransposed(backend, x, conv)); // [taps·inC, rows]
    const image = scratch.keep(reshape(backend, colsT, [1, 1, columns, rows]));
    scratch.release(colsT);
    const product = scratch.keep(conv2d(backend, image, filter, 'valid')); // [1, 1, taps·inC, outC]
    return reshape(backend, product, filterShape); // [kh, kw, inC, outC]
  } finally {
    scratch.releaseAll();
  }
}

/** The filter as the input gradient's convolution needs it: [kh, kw, outC, inC], rotated 180°. */
function rotatedTransposedFilter(backend: BackendWasm, filter: tf.TensorInfo, scratch: Scratch): tf.TensorInfo {
  const [kh, kw, inC, outC] = filter.shape as [number, number, number, number];
  const swapped = scratch.keep(transpose(backend, filter, [0, 1, 3, 2])); // [kh, kw, outC, inC]
  if (kh * kw === 1) return swapped;
  const out = scratch.keep(backend.makeOutput([kh, kw, outC, inC], 'float32'));
  const dst = heap(backend, out);
  const src = heap(backend, swapped);
  const tapSize = outC * inC;
  for (let tap = 0; tap < kh * kw; tap++) {
    const from = (kh * kw - 1 - tap) * tapSize;
    dst.set(src.subarray(from, from + tapSize), tap * tapSize);
  }
  scratch.release(swapped);
  return out;
}

/** `small` [batch, oh, ow, C] placed at every stride-th position of a zero [batch, H, W, C]. */
function spread(backend: BackendWasm, small: tf.TensorInfo, shape: number[], conv: ConvInfo): tf.TensorInfo {
  const [batch, height, width, channels] = shape as [number, number, number, number];
  const out = backend.makeOutput(shape, 'float32');
  const dst = heap(backend, out);
  const src = heap(backend, small);
  dst.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < conv.outHeight; i++) {
      for (let j = 0; j < conv.outWidth; j++) {
        const from = ((b * conv.outHeight + i) * conv.outWidth + j) * channels;
        const to = ((b * height + i * conv.strideHeight) * width + j * conv.strideWidth) * channels;
        dst.set(src.subarray(from, from + channels), to);
      }
    }
  }
  return out;
}

let tfjsConv2DBackpropInput: tf.KernelConfig | undefined;

/** dX = ∂L/∂x, as a forward convolution where the shape allows (every input gradient ResNet50 needs). */
function conv2DBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  checkNhwc('Conv2DBackpropInput', dataFormat);
  const conv = convInfo(inputShape, filter.shape, { strides, pad, dimRoundingMode });
  checkDy('Conv2DBackpropInput', dy, conv);
  const { filterHeight: kh, filterWidth: kw, strideHeight, strideWidth, padInfo } = conv;
  const unpadded = padInfo.top + padInfo.bottom + padInfo.left + padInfo.right === 0;
  const flipped = [kh - 1 - padInfo.top, kh - 1 - padInfo.bottom, kw - 1 - padInfo.left, kw - 1 - padInfo.right] as const;
  const pointwise = kh === 1 && kw === 1 && unpadded;
  const strideOne = strideHeight === 1 && strideWidth === 1 && flipped.every((p) => p >= 0);
  if (!pointwise && !strideOne) return tfjsConv2DBackpropInput!.kernelFunc(args) as tf.TensorInfo;

  const padding: tf.backend_util.ExplicitPadding = [[0, 0], [flipped[0], flipped[1]], [flipped[2], flipped[3]], [0, 0]];
  const kernels = wasmKernelsOf(backend);
  const [outChannels, inChannels] = [conv.outChannels, conv.inChannels];
  if (kernels?.fitsRotatedWeights(outChannels, inChannels)) {
    // dy [batch, outH, outW, outC] ⊛ the filter rotated and transposed: [kh, kw, outC, inC].
    const gradientConv = convInfo(dy.shape, [kh, kw, outChannels, inChannels], { strides: 1, pad: pointwise ? 'valid' : padding });
    const dx = ourConv(backend, kernels, dy, filter, null, false, gradientConv, true);
    if (strideHeight === 1 && strideWidth === 1) return dx;
    try {
      return spread(backend, dx, inputShape, conv);
    } finally {
      backend.disposeData(dx.dataId);
    }
  }
  const scratch = new Scratch(backend);
  try {
    const rotated = rotatedTransposedFilter(backend, filter, scratch);
    const dx = scratch.keep(conv2d(backend, dy, rotated, pointwise ? 'valid' : padding)); // [batch, oh, ow, inC] for 1×1
    scratch.release(rotated);
    if (strideHeight === 1 && strideWidth === 1) return scratch.give(dx);
    return spread(backend, dx, inputShape, conv);
  } finally {
    scratch.releaseAll();
  }
}

/**
 * Registers both kernels for the wasm backend (tfjs's input gradient stays the fallback for
 * shapes not written as a forward convolution); calling it again does nothing.
 */
export function registerWasmConv2DGradients(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND)?.kernelFunc !== conv2DBackpropFilter) {
    tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: BACKEND, kernelFunc: conv2DBackpropFilter });
  }
  const current = tf.getKernel(tf.Conv2DBackpropInput, BACKEND);
  if (current && current.kernelFunc !== conv2DBackpropInput) {
    tfjsConv2DBackpropInput = current;
    tf.unregisterKernel(tf.Conv2DBackpropInput, BACKEND);
    // tfjs's setup (binding its wasm function) still runs when the backend starts after this.
    tf.registerKernel({ kernelName: tf.Conv2DBackpropInput, backendName: BACKEND, kernelFunc: conv2DBackpropInput, setupFunc: current.setupFunc });
  }
}
