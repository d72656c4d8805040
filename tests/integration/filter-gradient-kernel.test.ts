// Our filter-gradient kernel straight on a wasm memory, as tfjs-backend-wasm's builds give it
// (plain, and shared with helper threads), with both multiply-adds, against a float64 reference.

import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng';
import type { ConvGeometry } from '../../src/ml/kernels/filter-gradient-kernel';
import type { FmaKind } from '../../src/ml/kernels/filter-gradient-wat';
import { startKernelThreads } from '../../src/ml/kernels/kernel-threads';
import { nodeKernelThread } from '../helpers/node-kernel-thread';
import { relativeMaxError } from '../helpers/relative-error';

// Node 20 has relaxed SIMD behind a flag (Chromium ≥ 114 and Node ≥ 22 without); it must be set
// before the kernel module checks for it, hence the dynamic import.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const { BEST_FMA, bindFilterGradientKernel, fillPixelAddresses } = await import('../../src/ml/kernels/filter-gradient-kernel');

// float32 sums of up to ~1,600 products in blocks of 32, against float64: measured up to 3e-7.
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

// ResNet50's tile-aligned filter gradients at small sizes, and the smallest tile with rows that
// leave a partial cache block (6·6·2 = 72 = 2·32 + 8).
const CASES: Case[] = [
  { name: '3×3/1 pad 1, 64→64', input: [2, 6, 6, 64], kernel: 3, stride: 1, pad: 1, outChannels: 64 },
  { name: '1×1/2, 256→128 (odd size)', input: [2, 7, 7, 256], kernel: 1, stride: 2, pad: 0, outChannels: 128 },
  { name: '1×1/1, 1024→256', input: [2, 4, 4, 1024], kernel: 1, stride: 1, pad: 0, outChannels: 256 },
  { name: '3×3/1 pad 1, 512→512, batch 1', input: [1, 3, 3, 512], kernel: 3, stride: 1, pad: 1, outChannels: 512 },
  { name: '3×3/1 pad 1, 4→8 (one tile, a partial block)', input: [2, 6, 6, 4], kernel: 3, stride: 1, pad: 1, outChannels: 8 },
];

function geometry(c: Case): ConvGeometry {
  const [batchSize, inHeight, inWidth, inChannels] = c.input;
  const out = (size: number) => Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;
  return { batchSize, inHeight, inWidth, inChannels, outHeight: out(inHeight), outWidth: out(inWidth), filterHeight: c.kernel, filterWidth: c.kernel, strideHeight: c.stride, strideWidth: c.stride, padInfo: { top: c.pad, left: c.pad } };
}

/** dW [kh, kw, inC, outC] of the loss Σ conv(x, W) · dy, in float64. */
function reference(g: ConvGeometry, outChannels: number, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(g.filterHeight * g.filterWidth * g.inChannels * outChannels);
  for (let b = 0; b < g.batchSize; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let i = 0; i < g.filterHeight; i++)
          for (let j = 0; j < g.filterWidth; j++) {
            const ih = oh * g.strideHeight + i - g.padInfo.top;
            const iw = ow * g.strideWidth + j - g.padInfo.left;
            if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
            const xAt = ((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels;
            const dyAt = ((b * g.outHeight + oh) * g.outWidth + ow) * outChannels;
            for (let c = 0; c < g.inChannels; c++)
              for (let o = 0; o < outChannels; o++) dw[((i * g.filterWidth + j) * g.inChannels + c) * outChannels + o]! += x[xAt + c]! * dy[dyAt + o]!;
          }
  return dw;
}

const PAGE_BYTES = 65_536;

/** Lays the case out in `memory` from byte 1024 on, runs the kernel, returns dW. */
function runOn(memory: WebAssembly.Memory, fma: FmaKind, g: ConvGeometry, outChannels: number, x: Float32Array, dy: Float32Array) {
  const kernel = bindFilterGradientKernel(memory, fma);
  const rows = g.batchSize * g.outHeight * g.outWidth;
  const taps = g.filterHeight * g.filterWidth;
  let next = 1024;
  const place = (bytes: number) => {
    const address = next;
    next = (next + bytes + 63) & ~63;
    return address;
  };
  const dwBytes = taps * g.inChannels * outChannels * 4;
  const at = { x: place(x.length * 4), zero: place(g.inChannels * 4), dy: place(dy.length * 4), offsets: place(taps * rows * 4), dw: place(dwBytes) };
  const missingPages = Math.ceil(next / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
  if (missingPages > 0) memory.grow(missingPages);
  const f32 = new Float32Array(memory.buffer);
  f32.set(x, at.x / 4);
  f32.set(dy, at.dy / 4);
  f32.fill(0, at.zero / 4, at.zero / 4 + g.inChannels);
  f32.fill(0, at.dw / 4, (at.dw + dwBytes) / 4);
  fillPixelAddresses(new Int32Array(memory.buffer, at.offsets, taps * rows), g, at.x, at.zero);
  kernel.run({ offsets: at.offsets, dy: at.dy, dw: at.dw, rows, channels: g.inChannels, outChannels, taps });
  return { values: new Float32Array(memory.buffer, at.dw, dwBytes / 4).slice(), threads: kernel.threads };
}

function caseData(c: Case, g: ConvGeometry, seed: number) {
  const random = createPrng(seed);
  const rows = g.batchSize * g.outHeight * g.outWidth;
  return {
    x: Float32Array.from({ length: c.input.reduce((a, b) => a * b) }, () => random() * 2 - 1),
    dy: Float32Array.from({ length: rows * c.outChannels }, () => random() * 2 - 1),
  };
}

const FMAS: FmaKind[] = ['mulAdd', 'relaxed'];

describe('the filter-gradient kernel', () => {
  it('finds relaxed SIMD here once the flag is set, so both multiply-adds are tested', () => {
    expect(BEST_FMA).toBe('relaxed');
  });

  describe.each(FMAS)('%s, one thread (a plain memory, as in Node and unisolated pages)', (fma) => {
    it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
      const g = geometry(c);
      const data = caseData(c, g, 300 + i);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65_536 });
      const got = runOn(memory, fma, g, c.outChannels, data.x, data.dy);
      expect(got.threads).toBe(1);
      expect(relativeMaxError(got.values, reference(g, c.outChannels, data.x, data.dy))).toBeLessThan(RELATIVE_TOLERANCE);
    });
  });

  describe.each(FMAS)('%s, split over a helper thread (a shared memory, as in the threaded build)', (fma) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65_536, shared: true });
    const kernel = bindFilterGradientKernel(memory, fma);
    kernel.startThreads(1, nodeKernelThread);
    afterAll(() => kernel.stopThreads());

    it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
      await expect.poll(() => kernel.threads, { timeout: 30_000 }).toBe(2);
      const g = geometry(c);
      const data = caseData(c, g, 300 + i);
      const got = runOn(memory, fma, g, c.outChannels, data.x, data.dy);
      expect(got.threads).toBe(2);
      expect(relativeMaxError(got.values, reference(g, c.outChannels, data.x, data.dy))).toBeLessThan(RELATIVE_TOLERANCE);
    });
  });

  it('fails a call whose helper traps with a clear error, and uses no helper after that', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const module = new WebAssembly.Module(await wasmBytes('mulAddShared'));
    const threads = startKernelThreads({ module, memory, exportName: 'filter_gradient', count: 1, spawn: nodeKernelThread });
    try {
      await expect.poll(() => threads.ready, { timeout: 30_000 }).toBe(1);
      let ownRan = false;
      // One tap, one row, 4→8 channels: the helper's dy lies past the 64 KiB memory and traps.
      const share = [0, 1 << 20, 4096, 1, 4, 8, 1, 0, 4, 32];
      expect(() => threads.run([share], () => (ownRan = true))).toThrow('A kernel thread failed while computing its share of a gradient.');
      expect(ownRan).toBe(true);
      expect(threads.ready).toBe(0);
    } finally {
      threads.destroy();
    }
  });
});

async function wasmBytes(variant: 'mulAddShared'): Promise<Uint8Array<ArrayBuffer>> {
  const { FILTER_GRADIENT_WASM } = await import('../../src/ml/kernels/generated/filter-gradient-wasm');
  return Uint8Array.from(atob(FILTER_GRADIENT_WASM[variant]), (c) => c.charCodeAt(0));
}
