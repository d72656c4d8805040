// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so no conv layer can train on wasm.
// This one composes the backend's own kernels: per kernel tap, one strided slice and one matrix product.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const BACKEND = 'wasm';

/**
 * The TensorInfos a kernel call makes along the way. Each one is disposed exactly once (reshapes
 * share data by reference count), whether the call finishes or throws.
 */
class Scratch {
  private readonly live = new Set<tf.TensorInfo>();

  constructor(private readonly backend: BackendWasm) {}

  keep(info: tf.TensorInfo): tf.TensorInfo {
    this.live.add(info);
    return info;
  }

  release(info: tf.TensorInfo): void {
    if (this.live.delete(info)) this.backend.disposeData(info.dataId);
  }

  releaseAll(): void {
    for (const info of this.live) this.backend.disposeData(info.dataId);
    this.live.clear();
  }
}

/** Runs another registered wasm kernel on the same backend; the caller owns the result. */
function runKernel(backend: BackendWasm, name: string, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  // Only present once '@tensorflow/tfjs-backend-wasm' has been imported.
  if (!kernel) throw new Error(`Conv2DBackpropFilter (wasm) needs the wasm kernel ${name}, which is not registered.`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return runKernel(backend, tf.Reshape, { x }, { shape });
}

/** `x` reshaped into a tensor with its own data, so that nothing keyed on its id outlives this call. */
function reshapedCopy(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, x.dtype);
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x));
  return out;
}

/**
 * dW = ∂L/∂filter of an NHWC, dilation-1 conv2d: for every tap (i, j) of the filter, the input
 * rows that tap saw, X_ij = x[:, i + s·oh, j + s·ow, :] as [rows, inC] with rows = batch·outH·outW,
 * give dW[i, j] = X_ij^T · DY, DY being dy as [rows, outC].
 *
 * The product is computed as DY^T · X_ij = dW[i, j]^T, because the wasm BatchMatMul reaches XNNPACK
 * only without transposes, and it caches a packed copy of its second operand until that tensor is
 * disposed: X_ij is a fresh tensor freed right after its product, whereas dy lives until the whole
 * backward pass ends. The [outC, inC] blocks are transposed into filter layout once at the end.
 */
function conv2DBackpropFilter({ inputs, backend: anyBackend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = anyBackend as BackendWasm;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm) supports dataFormat 'NHWC' only, got '${dataFormat}'.`);
  }
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`Conv2DBackpropFilter (wasm) needs rank-4 x and dy, got [${x.shape}] and [${dy.shape}].`);
  }
  const conv = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = conv;
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = conv;
  const expectedDy = [batchSize, outHeight, outWidth, outChannels];
  if (dy.shape.some((size, axis) => size !== expectedDy[axis])) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy is [${dy.shape}], the convolution gives [${expectedDy}].`);
  }
  const rows = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth;
  // Zeros below and right of x, as far as the last tap reaches: fewer than padInfo says when 'valid'
  // leaves rows unused, more when ceil rounding reaches past it. Outside x is zero, as in conv2d.
  const spanHeight = filterHeight + strideHeight * (outHeight - 1);
  const spanWidth = filterWidth + strideWidth * (outWidth - 1);
  const padBottom = Math.max(0, spanHeight - padInfo.top - inHeight);
  const padRight = Math.max(0, spanWidth - padInfo.left - inWidth);

  const scratch = new Scratch(backend);
  try {
    const dyRows = scratch.keep(reshape(backend, dy, [rows, outChannels]));
    const dyT = scratch.keep(runKernel(backend, tf.Transpose, { x: dyRows }, { perm: [1, 0] })); // [outC, rows]
    scratch.release(dyRows);

    const padded =
      padInfo.top + padBottom + padInfo.left + padRight === 0
        ? x
        : scratch.keep(
            runKernel(backend, tf.PadV2, { x }, {
              paddings: [[0, 0], [padInfo.top, padBottom], [padInfo.left, padRight], [0, 0]],
              constantValue: 0,
            }),
          ); // [batch, top + inH + bottom, left + inW + right, inC]

    const blocks = scratch.keep(backend.makeOutput([taps, outChannels, inChannels], 'float32'));
    for (let i = 0; i < filterHeight; i++) {
      for (let j = 0; j < filterWidth; j++) {
        const window = scratch.keep(
          runKernel(backend, tf.StridedSlice, { x: padded }, {
            begin: [0, i, j, 0],
            end: [batchSize, i + strideHeight * (outHeight - 1) + 1, j + strideWidth * (outWidth - 1) + 1, inChannels],
            strides: [1, strideHeight, strideWidth, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          }),
        ); // [batch, outH, outW, inC]
        // A 1×1, stride-1, unpadded window is x itself: copied, so that XNNPACK's cache never keys on x.
        const tapRows = scratch.keep(
          window.dataId === x.dataId ? reshapedCopy(backend, window, [rows, inChannels]) : reshape(backend, window, [rows, inChannels]),
        ); // [rows, inC]
        scratch.release(window);
        const product = scratch.keep(
          runKernel(backend, tf.BatchMatMul, { a: dyT, b: tapRows }, { transposeA: false, transposeB: false }),
        ); // [outC, inC]
        scratch.release(tapRows);
        const tap = i * filterWidth + j;
        backend.typedArrayFromHeap(blocks).set(backend.typedArrayFromHeap(product), tap * outChannels * inChannels);
        scratch.release(product);
      }
    }
    const filterBlocks = scratch.keep(runKernel(backend, tf.Transpose, { x: blocks }, { perm: [0, 2, 1] })); // [taps, inC, outC]
    return reshape(backend, filterBlocks, filterShape); // [kh, kw, inC, outC]
  } finally {
    scratch.releaseAll();
  }
}

/** Registers the kernel for the wasm backend; calling it again does nothing. */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND)) return;
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName: BACKEND, kernelFunc: conv2DBackpropFilter });
}
