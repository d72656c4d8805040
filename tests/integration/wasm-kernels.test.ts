// Our wasm kernels straight on a wasm memory, as tfjs-backend-wasm's builds give it (plain, and
// shared with a helper thread), with both multiply-adds, against float64 references.

import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng';
import type { FmaKind } from '../../src/ml/kernels/kernels-wat';
import { startKernelThreads } from '../../src/ml/kernels/kernel-threads';
import type { ConvGeometry, WasmKernels } from '../../src/ml/kernels/wasm-kernels';
import { nodeKernelThread } from '../helpers/node-kernel-thread';
import { relativeMaxError } from '../helpers/relative-error';

// Node 20 has relaxed SIMD behind a flag (Chromium ≥ 114 and Node ≥ 22 without); it must be set
// before the kernels' module checks for it, hence the dynamic import.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const { BEST_FMA, bindWasmKernels, convRowStride, fillPixelAddresses, fillWinogradTables, filterGradientScratchBytes, winogradChunk, winogradGradientChunk, winogradGradientScratchBytes, winogradPlaneBytes, winogradScratchBytes, winogradTiles } = await import('../../src/ml/kernels/wasm-kernels');
const { KERNELS_WASM } = await import('../../src/ml/kernels/generated/kernels-wasm');

// float32 sums of up to ~4,600 products, in blocks, against float64: measured up to 3e-6.
const RELATIVE_TOLERANCE = 1e-5;

interface Case {
  name: string;
  /** [batch, height, width, inC] */
  input: [number, number, number, number];
  kernel: number;
  stride: number;
  pad: number;
  outChannels: number;
}

const geometry = (c: Case): ConvGeometry => {
  const [batchSize, inHeight, inWidth, inChannels] = c.input;
  const out = (size: number) => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;
  return { batchSize, inHeight, inWidth, inChannels, outHeight: out(inHeight), outWidth: out(inWidth), filterHeight: c.kernel, filterWidth: c.kernel, strideHeight: c.stride, strideWidth: c.stride, padInfo: { top: c.pad, left: c.pad } };
};

const rowsOf = (g: ConvGeometry) => g.batchSize * g.outHeight * g.outWidth;
const tapsOf = (g: ConvGeometry) => g.filterHeight * g.filterWidth;

/** Calls fn(tap, xAt, row) for every output position and tap whose pixel lies inside x. */
function forEachWindow(g: ConvGeometry, fn: (tap: number, xAt: number, row: number) => void): void {
  for (let b = 0; b < g.batchSize; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let i = 0; i < g.filterHeight; i++)
          for (let j = 0; j < g.filterWidth; j++) {
            const ih = oh * g.strideHeight + i - g.padInfo.top;
            const iw = ow * g.strideWidth + j - g.padInfo.left;
            if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
            fn(i * g.filterWidth + j, ((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels, (b * g.outHeight + oh) * g.outWidth + ow);
          }
}

/** dW [kh, kw, inC, outC] of the loss Σ conv(x, W) · dy, in float64. */
function filterGradientReference(g: ConvGeometry, outC: number, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(tapsOf(g) * g.inChannels * outC);
  forEachWindow(g, (tap, xAt, row) => {
    for (let c = 0; c < g.inChannels; c++) for (let o = 0; o < outC; o++) dw[(tap * g.inChannels + c) * outC + o]! += x[xAt + c]! * dy[row * outC + o]!;
  });
  return dw;
}

/** y [rows, outC] = conv(x, w) + bias, then relu if asked, in float64. */
function convReference(g: ConvGeometry, outC: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean): Float64Array {
  const y = new Float64Array(rowsOf(g) * outC);
  for (let row = 0; row < rowsOf(g); row++) for (let o = 0; o < outC; o++) y[row * outC + o] = bias ? bias[o]! : 0;
  forEachWindow(g, (tap, xAt, row) => {
    for (let c = 0; c < g.inChannels; c++) for (let o = 0; o < outC; o++) y[row * outC + o]! += x[xAt + c]! * w[(tap * g.inChannels + c) * outC + o]!;
  });
  return relu ? y.map((v) => Math.max(v, 0)) : y;
}

const PAGE_BYTES = 65_536;

/** Places arrays in `memory` from byte 1024 on (growing it as needed) and returns their addresses. */
function layOut(memory: WebAssembly.Memory, sizes: Record<string, number>): Record<string, number> {
  let next = 1024;
  const at: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = next;
    next = (next + bytes + 63) & ~63;
  }
  const missingPages = Math.ceil(next / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
  if (missingPages > 0) memory.grow(missingPages);
  new Uint8Array(memory.buffer, 1024, next - 1024).fill(0);
  return at;
}

function randomArray(length: number, random: () => number): Float32Array {
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

function runFilterGradient(memory: WebAssembly.Memory, kernels: WasmKernels, c: Case, seed: number): number {
  const g = geometry(c);
  const random = createPrng(seed);
  const x = randomArray(c.input.reduce((a, b) => a * b), random);
  const dy = randomArray(rowsOf(g) * c.outChannels, random);
  const taps = tapsOf(g);
  const parts = kernels.threads;
  const at = layOut(memory, { x: x.byteLength, zero: g.inChannels * 4, dy: dy.byteLength, offsets: taps * rowsOf(g) * 4, dw: taps * g.inChannels * c.outChannels * 4, copies: parts * filterGradientScratchBytes(g.inChannels, c.outChannels) });
  new Float32Array(memory.buffer).set(x, at.x! / 4);
  new Float32Array(memory.buffer).set(dy, at.dy! / 4);
  fillPixelAddresses(new Int32Array(memory.buffer, at.offsets, taps * rowsOf(g)), g, at.x!, at.zero!);
  kernels.filterGradient({ offsets: at.offsets!, dy: at.dy!, dw: at.dw!, scratch: at.copies!, parts, rows: rowsOf(g), channels: g.inChannels, outChannels: c.outChannels, taps });
  const got = new Float32Array(memory.buffer, at.dw, taps * g.inChannels * c.outChannels);
  return relativeMaxError(got, filterGradientReference(g, c.outChannels, x, dy));
}

function runConv(memory: WebAssembly.Memory, kernels: WasmKernels, c: Case, seed: number, options: { bias: boolean; relu: boolean }): number {
  const g = geometry(c);
  const random = createPrng(seed);
  const x = randomArray(c.input.reduce((a, b) => a * b), random);
  const taps = tapsOf(g);
  const w = randomArray(taps * g.inChannels * c.outChannels, random);
  const bias = options.bias ? randomArray(c.outChannels, random) : null;
  const stride = convRowStride(rowsOf(g));
  const at = layOut(memory, { x: x.byteLength, zero: g.inChannels * 4, w: w.byteLength, packed: w.byteLength, bias: c.outChannels * 4, offsets: taps * stride * 4, y: rowsOf(g) * c.outChannels * 4 + 64 });
  const f32 = new Float32Array(memory.buffer);
  f32.set(x, at.x! / 4);
  f32.set(w, at.w! / 4);
  if (bias) f32.set(bias, at.bias! / 4);
  // Past y, a guard that no tile's padding rows may touch.
  f32.fill(7, (at.y! + rowsOf(g) * c.outChannels * 4) / 4, (at.y! + rowsOf(g) * c.outChannels * 4 + 64) / 4);
  fillPixelAddresses(new Int32Array(memory.buffer, at.offsets, taps * stride), g, at.x!, at.zero!, stride);
  kernels.conv({ offsets: at.offsets!, weights: at.w!, packed: at.packed!, bias: bias ? at.bias! : null, y: at.y!, rows: rowsOf(g), channels: g.inChannels, outChannels: c.outChannels, taps, relu: options.relu });
  const after = new Float32Array(memory.buffer);
  const guard = after.subarray((at.y! + rowsOf(g) * c.outChannels * 4) / 4, (at.y! + rowsOf(g) * c.outChannels * 4 + 64) / 4);
  expect([...guard].every((v) => v === 7)).toBe(true);
  const got = after.subarray(at.y! / 4, at.y! / 4 + rowsOf(g) * c.outChannels);
  return relativeMaxError(got, convReference(g, c.outChannels, x, w, bias, options.relu));
}

/**
 * The Winograd convolution of a 3×3 pad-1 case against the direct float64 reference; with
 * `rotated`, its weights are given as the filter [taps, outC, inC] of the convolution whose input
 * gradient it computes. Asserts that nothing past y is written (tiles past the edge go to the sink).
 */
function runWinograd(memory: WebAssembly.Memory, kernels: WasmKernels, c: Case & { bias: boolean; relu: boolean; rotated: boolean }, seed: number): number {
  const g = geometry(c);
  const random = createPrng(seed);
  const x = randomArray(c.input.reduce((a, b) => a * b), random);
  const [inC, outC] = [g.inChannels, c.outChannels];
  const given = randomArray(9 * inC * outC, random);
  // The weights [tap, inC, outC] the reference convolves with.
  const w = c.rotated ? Float32Array.from({ length: given.length }, (_, i) => given[((8 - Math.floor(i / (inC * outC))) * outC + (i % outC)) * inC + (Math.floor(i / outC) % inC)]!) : given;
  const bias = c.bias ? randomArray(outC, random) : null;
  const tiles = winogradTiles(g);
  const plane = winogradPlaneBytes(inC, outC);
  const parts = kernels.threads;
  const yBytes = rowsOf(g) * outC * 4;
  const at = layOut(memory, {
    x: x.byteLength, zero: inC * 4, sink: outC * 4, w: given.byteLength, packed: 9 * plane, transformed: 16 * plane, bias: outC * 4,
    pixels: tiles * 64, outputs: tiles * 16, rowTable: winogradChunk(inC, outC) * 4, scratch: parts * winogradScratchBytes(inC, outC), y: yBytes + 64,
  });
  const f32 = new Float32Array(memory.buffer);
  f32.set(x, at.x! / 4);
  f32.set(given, at.w! / 4);
  if (bias) f32.set(bias, at.bias! / 4);
  f32.fill(7, (at.y! + yBytes) / 4, (at.y! + yBytes + 64) / 4);
  const i32 = new Int32Array(memory.buffer);
  fillWinogradTables(i32.subarray(at.pixels! / 4, at.pixels! / 4 + tiles * 16), i32.subarray(at.outputs! / 4, at.outputs! / 4 + tiles * 4), g, at.x!, at.zero!, at.y!, outC, at.sink!);
  for (let r = 0; r < winogradChunk(inC, outC); r++) i32[at.rowTable! / 4 + r] = r * inC * 4;
  kernels.winogradConv({ pixels: at.pixels!, outputs: at.outputs!, weights: at.w!, rotated: c.rotated, packed: at.packed!, transformed: at.transformed!, bias: bias ? at.bias! : null, scratch: at.scratch!, parts, rowTable: at.rowTable!, tiles, channels: inC, outChannels: outC, relu: c.relu });
  const after = new Float32Array(memory.buffer);
  expect([...after.subarray((at.y! + yBytes) / 4, (at.y! + yBytes + 64) / 4)].every((v) => v === 7)).toBe(true);
  return relativeMaxError(after.subarray(at.y! / 4, at.y! / 4 + rowsOf(g) * outC), convReference(g, outC, x, w, bias, c.relu));
}

/** The Winograd filter gradient of a 3×3 pad-1 case against the direct float64 reference. */
function runWinogradFilterGradient(memory: WebAssembly.Memory, kernels: WasmKernels, c: Case, seed: number): number {
  const g = geometry(c);
  const random = createPrng(seed);
  const x = randomArray(c.input.reduce((a, b) => a * b), random);
  const [inC, outC] = [g.inChannels, c.outChannels];
  const dy = randomArray(rowsOf(g) * outC, random);
  const tiles = winogradTiles(g);
  const parts = kernels.threads;
  const at = layOut(memory, {
    x: x.byteLength, dy: dy.byteLength, zero: Math.max(inC, outC) * 4, transformed: 16 * winogradPlaneBytes(inC, outC), pixels: tiles * 64, gradients: tiles * 16,
    rowTable: winogradGradientChunk(inC, outC) * 4, scratch: parts * winogradGradientScratchBytes(inC, outC), dw: 9 * inC * outC * 4,
  });
  const f32 = new Float32Array(memory.buffer);
  f32.set(x, at.x! / 4);
  f32.set(dy, at.dy! / 4);
  // Stale scratch must not matter (the caller does not zero it): NaN anywhere read would show.
  f32.fill(NaN, at.scratch! / 4, at.scratch! / 4 + (parts * winogradGradientScratchBytes(inC, outC)) / 4);
  const i32 = new Int32Array(memory.buffer);
  fillWinogradTables(i32.subarray(at.pixels! / 4, at.pixels! / 4 + tiles * 16), i32.subarray(at.gradients! / 4, at.gradients! / 4 + tiles * 4), g, at.x!, at.zero!, at.dy!, outC, at.zero!);
  for (let r = 0; r < winogradGradientChunk(inC, outC); r++) i32[at.rowTable! / 4 + r] = r * inC * 4;
  kernels.winogradFilterGradient({ pixels: at.pixels!, gradients: at.gradients!, transformed: at.transformed!, dw: at.dw!, scratch: at.scratch!, parts, rowTable: at.rowTable!, tiles, channels: inC, outChannels: outC });
  return relativeMaxError(new Float32Array(memory.buffer, at.dw, 9 * inC * outC), filterGradientReference(g, outC, x, dy));
}

/**
 * The one-pass kernels (relu_backprop, channel_sums, adam, scale_channels, scale_gradient) at `count` elements, against float64
 * loops: the largest relative error of the three. Sizes from 2¹⁶ elements are split over helpers.
 */
function runElementwise(memory: WebAssembly.Memory, kernels: WasmKernels, count: number, channels: number, seed: number): number {
  const random = createPrng(seed);
  const [a, b, c, d] = [0, 1, 2, 3].map(() => randomArray(count, random)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const v = d.map(Math.abs);
  const bytes = count * 4;
  const scale = randomArray(channels, random);
  const at = layOut(memory, { a: bytes, b: bytes, c: bytes, v: bytes, dx: bytes, w2: bytes, m2: bytes, v2: bytes, scale: channels * 4, scaled: bytes, gradient: bytes, totals: kernels.threads * channels * 8, dots: kernels.threads * channels * 8 });
  const f32 = new Float32Array(memory.buffer);
  [a, b, c, v].forEach((values, i) => f32.set(values, at[['a', 'b', 'c', 'v'][i]!]! / 4));
  f32.set(scale, at.scale! / 4);
  kernels.reluBackprop({ dy: at.a!, y: at.b!, dx: at.dx!, count });
  kernels.scaleChannels({ x: at.a!, scale: at.scale!, out: at.scaled!, rows: count / channels, channels });
  kernels.scaleGradient({ g: at.a!, w: at.b!, scale: at.scale!, out: at.gradient!, totals: at.dots!, blocks: kernels.threads, rows: count / channels, channels });
  kernels.channelSums({ x: at.a!, totals: at.totals!, blocks: kernels.threads, rows: count / channels, channels });
  const [beta1, beta2, epsilon, rate] = [0.9, 0.999, 1e-7, 1e-3];
  kernels.adam({ w: at.a!, g: at.b!, m: at.c!, v: at.v!, w2: at.w2!, m2: at.m2!, v2: at.v2!, count, beta1, beta2, epsilon, rate });

  const view = (name: string, length = count) => new Float32Array(memory.buffer, at[name], length);
  const reluExpected = Float64Array.from(a, (dy, i) => (b[i]! > 0 ? dy : 0));
  const sums = new Float64Array(channels);
  const dots = new Float64Array(channels);
  a.forEach((value, i) => {
    sums[i % channels]! += value;
    dots[i % channels]! += value * b[i]!;
  });
  /** Σ over the threads' rows of f64 totals at `name`. */
  const totalsAt = (name: string) => {
    const totals = new Float64Array(memory.buffer, at[name], kernels.threads * channels);
    return Float32Array.from({ length: channels }, (_, ch) => Array.from({ length: kernels.threads }, (_, t) => totals[t * channels + ch]!).reduce((x, y) => x + y, 0));
  };
  const scaledExpected = Float64Array.from(a, (value, i) => value * scale[i % channels]!);
  const m2 = Float64Array.from(c, (m, i) => beta1 * m + (1 - beta1) * b[i]!);
  const v2 = Float64Array.from(v, (second, i) => beta2 * second + (1 - beta2) * b[i]! * b[i]!);
  const w2 = Float64Array.from(a, (w, i) => w - (rate * m2[i]!) / (Math.sqrt(v2[i]!) + epsilon));
  return Math.max(
    relativeMaxError(view('dx'), reluExpected),
    relativeMaxError(totalsAt('totals'), sums),
    relativeMaxError(view('scaled'), scaledExpected),
    relativeMaxError(view('gradient'), scaledExpected),
    relativeMaxError(totalsAt('dots'), dots),
    relativeMaxError(view('m2'), m2),
    relativeMaxError(view('v2'), v2),
    relativeMaxError(view('w2'), w2),
  );
}

// Below and above the size from which a call is split; channels as ResNet50's, rows that leave a
// partial group of four (1,100 = 4·275, 37 = 4·9 + 1).
const ELEMENTWISE_CASES = [
  { name: '37 rows × 64 channels (one thread)', rows: 37, channels: 64 },
  { name: '1,100 rows × 64 channels (split)', rows: 1100, channels: 64 },
  { name: '129 rows × 2,048 channels (split)', rows: 129, channels: 2048 },
];

// ResNet50's filter gradients that fit the kernel's tile, at small sizes, wide ones whose rows the
// kernel copies first (1,024 and 512 channels) in whole and partial blocks, and the smallest tile
// with rows that leave a partial cache block (6·6·2 = 72 = 2·32 + 8).
const FILTER_GRADIENT_CASES: Case[] = [
  { name: '3×3/1 pad 1, 64→64', input: [2, 6, 6, 64], kernel: 3, stride: 1, pad: 1, outChannels: 64 },
  { name: '1×1/2, 256→128 (odd size)', input: [2, 7, 7, 256], kernel: 1, stride: 2, pad: 0, outChannels: 128 },
  { name: '1×1/1, 1024→256 (rows copied: 50 = 32 + 18)', input: [2, 5, 5, 1024], kernel: 1, stride: 1, pad: 0, outChannels: 256 },
  { name: '3×3/1 pad 1, 512→512, batch 1 (rows copied)', input: [1, 3, 3, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512 },
  { name: '3×3/1 pad 1, 512→512, 6 × 7 (rows copied: 42 = 32 + 10)', input: [1, 6, 7, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512 },
  { name: '3×3/1 pad 1, 4→8 (one tile, a partial block)', input: [2, 6, 6, 4], kernel: 3, stride: 1, pad: 1, outChannels: 8 },
];

// ResNet50's convolutions at small sizes: the stem (3 input channels), several channel blocks
// (3×3 512: 2,048 / 9 = 227 channels per block), and rows that leave a partial tile (2·3·3 = 18).
const CONV_CASES: (Case & { bias: boolean; relu: boolean })[] = [
  { name: 'stem 7×7/2 valid, 3→64, bias, relu', input: [1, 22, 22, 3], kernel: 7, stride: 2, pad: 0, outChannels: 64, bias: true, relu: true },
  { name: '3×3/1 pad 1, 64→64, bias, relu', input: [2, 6, 6, 64], kernel: 3, stride: 1, pad: 1, outChannels: 64, bias: true, relu: true },
  { name: '1×1/2, 256→128 (odd size), bias', input: [2, 7, 7, 256], kernel: 1, stride: 2, pad: 0, outChannels: 128, bias: true, relu: false },
  { name: '1×1/1, 1024→256, relu', input: [2, 4, 4, 1024], kernel: 1, stride: 1, pad: 0, outChannels: 256, bias: false, relu: true },
  { name: '3×3/1 pad 1, 512→512 (3 channel blocks), bias, relu', input: [1, 3, 3, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512, bias: true, relu: true },
  { name: '3×3/1 pad 1, 5→8 (a partial tile), no bias, no relu', input: [2, 3, 3, 5], kernel: 3, stride: 1, pad: 1, outChannels: 8, bias: false, relu: false },
];

// ResNet50's 3×3 convolutions and their input gradients (rotated weights) at small sizes: an odd
// size (7 × 7: the last tiles' second row and column fall past the edge), a batch of 1 with 512
// channels, and more tiles than a chunk takes (2·7·7 = 98 tiles, chunks of 32 at 16 + 8 channels
// in the convolution; 5·7 = 35 tiles, chunks of 32 at 512 + 512 in the filter gradient).
const WINOGRAD_CASES: (Case & { bias: boolean; relu: boolean; rotated: boolean })[] = [
  { name: '3×3/1 pad 1, 64→64, bias, relu', input: [2, 6, 6, 64], kernel: 3, stride: 1, pad: 1, outChannels: 64, bias: true, relu: true, rotated: false },
  { name: '3×3/1 pad 1, 128→64 (odd size), input gradient', input: [1, 7, 7, 128], kernel: 3, stride: 1, pad: 1, outChannels: 64, bias: false, relu: false, rotated: true },
  { name: '3×3/1 pad 1, 512→512, batch 1, bias', input: [1, 3, 3, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512, bias: true, relu: false, rotated: false },
  { name: '3×3/1 pad 1, 16→8, 98 tiles, relu, input gradient', input: [2, 13, 14, 16], kernel: 3, stride: 1, pad: 1, outChannels: 8, bias: false, relu: true, rotated: true },
  { name: '3×3/1 pad 1, 512→512, 35 tiles', input: [1, 9, 14, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512, bias: false, relu: false, rotated: false },
];

const FMAS: FmaKind[] = ['mulAdd', 'relaxed'];

describe('our wasm kernels', () => {
  it('find relaxed SIMD here once the flag is set, so both multiply-adds are tested', () => {
    expect(BEST_FMA).toBe('relaxed');
  });

  describe.each(FMAS)('%s, one thread (a plain memory, as in Node and unisolated pages)', (fma) => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = bindWasmKernels(memory, fma);

    it.each(FILTER_GRADIENT_CASES.map((c, i) => [c.name, c, i] as const))('filter gradient: %s', (_name, c, i) => {
      expect(kernels.threads).toBe(1);
      expect(runFilterGradient(memory, kernels, c, 300 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(CONV_CASES.map((c, i) => [c.name, c, i] as const))('convolution: %s', (_name, c, i) => {
      expect(runConv(memory, kernels, c, 400 + i, c)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(WINOGRAD_CASES.map((c, i) => [c.name, c, i] as const))('Winograd convolution: %s', (_name, c, i) => {
      expect(runWinograd(memory, kernels, c, 450 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(WINOGRAD_CASES.map((c, i) => [c.name, c, i] as const))('Winograd filter gradient: %s', (_name, c, i) => {
      expect(runWinogradFilterGradient(memory, kernels, c, 470 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(ELEMENTWISE_CASES.map((c, i) => [c.name, c, i] as const))('ReLU gradient, channel sums, Adam, channel scaling: %s', (_name, c, i) => {
      expect(runElementwise(memory, kernels, c.rows * c.channels, c.channels, 500 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });
  });

  describe.each(FMAS)('%s, split over a helper thread (a shared memory, as in the threaded build)', (fma) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65_536, shared: true });
    const kernels = bindWasmKernels(memory, fma);
    kernels.startThreads(1, nodeKernelThread);
    afterAll(() => kernels.stopThreads());

    it.each(FILTER_GRADIENT_CASES.map((c, i) => [c.name, c, i] as const))('filter gradient: %s', async (_name, c, i) => {
      await expect.poll(() => kernels.threads, { timeout: 30_000 }).toBe(2);
      expect(runFilterGradient(memory, kernels, c, 300 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(CONV_CASES.map((c, i) => [c.name, c, i] as const))('convolution: %s', async (_name, c, i) => {
      await expect.poll(() => kernels.threads, { timeout: 30_000 }).toBe(2);
      expect(runConv(memory, kernels, c, 400 + i, c)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(WINOGRAD_CASES.map((c, i) => [c.name, c, i] as const))('Winograd convolution: %s', async (_name, c, i) => {
      await expect.poll(() => kernels.threads, { timeout: 30_000 }).toBe(2);
      expect(runWinograd(memory, kernels, c, 450 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(WINOGRAD_CASES.map((c, i) => [c.name, c, i] as const))('Winograd filter gradient: %s', async (_name, c, i) => {
      await expect.poll(() => kernels.threads, { timeout: 30_000 }).toBe(2);
      expect(runWinogradFilterGradient(memory, kernels, c, 470 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });

    it.each(ELEMENTWISE_CASES.map((c, i) => [c.name, c, i] as const))('ReLU gradient, channel sums, Adam, channel scaling: %s', async (_name, c, i) => {
      await expect.poll(() => kernels.threads, { timeout: 30_000 }).toBe(2);
      expect(runElementwise(memory, kernels, c.rows * c.channels, c.channels, 500 + i)).toBeLessThan(RELATIVE_TOLERANCE);
    });
  });

  it('fails a call whose helper traps with a clear error, and uses no helper after that', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const module = new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM.mulAddShared), (ch) => ch.charCodeAt(0)));
    const threads = startKernelThreads({ module, memory, exportNames: ['filter_gradient'], count: 1, spawn: nodeKernelThread });
    try {
      await expect.poll(() => threads.ready, { timeout: 30_000 }).toBe(1);
      let ownRan = false;
      // One tap, one row, 4→8 channels: the helper's dy lies past the 64 KiB memory and traps.
      const share = [0, 1 << 20, 4096, 1, 4, 8, 1, 0, 4, 32];
      expect(() => threads.run('filter_gradient', [share], () => (ownRan = true))).toThrow('A kernel thread failed while computing its share of a convolution or gradient.');
      expect(ownRan).toBe(true);
      expect(threads.ready).toBe(0);
    } finally {
      threads.destroy();
    }
  });
});
