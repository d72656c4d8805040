// Conv2D and FusedConv2D on wasm through our kernel give the cpu backend's results on every conv
// shape of ResNet50, keep tfjs's kernels for what ours does not take, and leak nothing.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createPrng } from '../../src/core/prng';
import { registerWasmConv2D } from '../../src/ml/wasm-conv2d';
import { runningWasmKernels } from '../../src/ml/wasm-tensors';
import { relativeMaxError } from '../helpers/relative-error';

// float32 sums of up to 4,608 products, in another order than the cpu's loop: measured up to 4e-7.
const RELATIVE_TOLERANCE = 1e-5;

type Shape4 = [number, number, number, number];

interface ConvCase {
  name: string;
  input: Shape4;
  filter: Shape4;
  strides: number;
  pad: 'valid' | 'same';
  dilations?: number;
}

// Every conv shape of Keras' ResNet50 at a small size, and an odd row count (a partial tile).
const RESNET50_CASES: ConvCase[] = [
  { name: 'stem 7×7/2 valid, 3→64', input: [2, 22, 22, 3], filter: [7, 7, 3, 64], strides: 2, pad: 'valid' },
  { name: '1×1/1, 64→256', input: [2, 6, 6, 64], filter: [1, 1, 64, 256], strides: 1, pad: 'valid' },
  { name: '1×1/1, 1024→256', input: [2, 4, 4, 1024], filter: [1, 1, 1024, 256], strides: 1, pad: 'valid' },
  { name: '1×1/1, 2048→512', input: [1, 3, 3, 2048], filter: [1, 1, 2048, 512], strides: 1, pad: 'valid' },
  { name: '1×1/2, 512→1024 (shortcut)', input: [1, 6, 6, 512], filter: [1, 1, 512, 1024], strides: 2, pad: 'valid' },
  { name: '3×3/1 same, 64→64', input: [2, 6, 6, 64], filter: [3, 3, 64, 64], strides: 1, pad: 'same' },
  { name: '3×3/1 same, 512→512', input: [1, 3, 3, 512], filter: [3, 3, 512, 512], strides: 1, pad: 'same' },
  { name: '3×3/1 same, 8→16, 1×5×5 (25 rows)', input: [1, 5, 5, 8], filter: [3, 3, 8, 16], strides: 1, pad: 'same' },
];

// What ours leaves to tfjs: output channels not a multiple of 8, dilation.
const FALLBACK_CASES: ConvCase[] = [
  { name: '3×3/1 same, 5→6 (6 output channels)', input: [2, 7, 7, 5], filter: [3, 3, 5, 6], strides: 1, pad: 'same' },
  { name: '3×3 dilation 2, 8→8', input: [1, 9, 9, 8], filter: [3, 3, 8, 8], strides: 1, pad: 'valid', dilations: 2 },
];

function randomTensor(shape: number[], seed: number): Float32Array {
  const random = createPrng(seed);
  return Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => random() * 2 - 1);
}

type Variant = 'conv2d' | 'fused, bias, relu' | 'fused, bias, linear' | 'fused, relu, no bias' | 'fused, elu (tfjs)';

async function convOn(backend: 'cpu' | 'wasm', c: ConvCase, variant: Variant, seed: number): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randomTensor(c.input, seed), c.input);
    const filter = tf.tensor4d(randomTensor(c.filter, seed + 1), c.filter);
    const bias = tf.tensor1d(randomTensor([c.filter[3]], seed + 2));
    const dilations = c.dilations ?? 1;
    if (variant === 'conv2d') return tf.conv2d(x, filter, c.strides, c.pad, 'NHWC', dilations).dataSync() as Float32Array;
    const activation = variant.includes('relu') ? 'relu' : variant.includes('elu') ? 'elu' : 'linear';
    const withBias = !variant.includes('no bias');
    return tf.fused.conv2d({ x, filter, strides: c.strides, pad: c.pad, dilations, activation, ...(withBias ? { bias } : {}) }).dataSync() as Float32Array;
  });
}

function wasmMemory() {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

describe('wasm Conv2D and FusedConv2D', () => {
  const tfjsConv2D = tf.getKernel(tf.Conv2D, 'wasm')?.kernelFunc;
  const tfjsFused = tf.getKernel(tf.FusedConv2D, 'wasm')?.kernelFunc;

  beforeAll(async () => {
    registerWasmConv2D();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it("replace tfjs-backend-wasm's own, registering once without warnings", () => {
    expect(tfjsConv2D).toBeDefined();
    expect(tf.getKernel(tf.Conv2D, 'wasm')?.kernelFunc).not.toBe(tfjsConv2D);
    expect(tf.getKernel(tf.FusedConv2D, 'wasm')?.kernelFunc).not.toBe(tfjsFused);
    const warn = vi.spyOn(console, 'warn');
    try {
      registerWasmConv2D();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('take every ResNet50 convolution', () => {
    const kernels = runningWasmKernels()!;
    expect(RESNET50_CASES.filter((c) => !kernels.fitsConv(c.filter[3])).map((c) => c.name)).toEqual([]);
  });

  const variants: Variant[] = ['conv2d', 'fused, bias, relu', 'fused, bias, linear', 'fused, relu, no bias'];
  describe.each(variants)('match the cpu reference: %s', (variant) => {
    it.each(RESNET50_CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
      const reference = await convOn('cpu', c, variant, 50 + i * 3);
      const wasm = await convOn('wasm', c, variant, 50 + i * 3);
      expect(relativeMaxError(wasm, reference)).toBeLessThan(RELATIVE_TOLERANCE);
    });
  });

  it.each([
    ...FALLBACK_CASES.map((c) => [c.name, c, 'fused, bias, relu'] as const),
    ['an activation ours does not take (elu)', RESNET50_CASES[5]!, 'fused, elu (tfjs)'] as const,
  ])("keep tfjs's kernel for %s, with the cpu's result", async (_name, c, variant) => {
    const reference = await convOn('cpu', c, variant, 7);
    expect(relativeMaxError(await convOn('wasm', c, variant, 7), reference)).toBeLessThan(RELATIVE_TOLERANCE);
  });

  it.each([
    ['3×3 same, fused with bias and relu', RESNET50_CASES[5]!, 'fused, bias, relu'],
    ['the stem, conv2d', RESNET50_CASES[0]!, 'conv2d'],
  ] as const)('leak no tensor or wasm buffer: %s', async (_name, c, variant) => {
    await convOn('wasm', c, variant, 9); // warm-up
    const before = wasmMemory();
    await convOn('wasm', c, variant, 9);
    await convOn('wasm', c, variant, 9);
    expect(wasmMemory()).toEqual(before);
  });
});
