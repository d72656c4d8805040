// The filter-gradient kernel (filter-gradient-wat.ts), instantiated on tfjs-backend-wasm's own
// memory so that it reads x and dy and writes dW where the backend keeps them, with no copy; on a
// shared memory (the threaded build) it can split each call's channels over helper threads.

import { FILTER_GRADIENT_WASM } from './generated/filter-gradient-wasm';
import { TILE_CHANNELS, TILE_OUT_CHANNELS, type FmaKind } from './filter-gradient-wat';
import { startKernelThreads, type KernelThreads, type KernelThreadWorker } from './kernel-threads';

/** Output positions per cache block (see filter-gradient-wat.ts for the measurement). */
const BLOCK_ROWS = 32;

const EXPORT_NAME = 'filter_gradient';

/** Byte addresses in the kernel's memory, and the sizes they hold. */
export interface FilterGradientCall {
  /** [taps, rows] i32: each tap's address of x's pixel per output position (or of a zero row). */
  offsets: number;
  /** [rows, outChannels] f32. */
  dy: number;
  /** [taps, channels, outChannels] f32, zeroed by the caller; the products are added to it. */
  dw: number;
  rows: number;
  channels: number;
  outChannels: number;
  taps: number;
}

export interface FilterGradientKernel {
  /** Which multiply-add the engine could run. */
  readonly fma: FmaKind;
  /** Threads a call runs on now: 1, plus the helpers that have started. */
  readonly threads: number;
  /** Whether `channels` and `outChannels` fit the kernel's register tile. */
  fits(channels: number, outChannels: number): boolean;
  run(call: FilterGradientCall): void;
  /**
   * Starts `count` helper threads (shared memory only: a no-op otherwise, or if they run already).
   * Calls must then come from a thread that may block (a worker, or Node), never a page.
   */
  startThreads(count: number, spawn: () => KernelThreadWorker): void;
  /** Ends the helper threads; calls run on the caller's thread alone from then on. */
  stopThreads(): void;
}

type Exports = { [EXPORT_NAME]: (...args: number[]) => void };

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const relaxedSimd = WebAssembly.validate(bytesOf(FILTER_GRADIENT_WASM.relaxedPlain));

const bound = new WeakMap<WebAssembly.Memory, FilterGradientKernel>();

/** [first, end) of part `part` of `parts`, in whole tiles of `tile` channels. */
function channelRange(channels: number, part: number, parts: number): [number, number] {
  const tiles = channels / TILE_CHANNELS;
  return [Math.floor((part * tiles) / parts) * TILE_CHANNELS, Math.floor(((part + 1) * tiles) / parts) * TILE_CHANNELS];
}

/** A convolution's geometry, as tfjs's Conv2DInfo gives it (dilation 1). */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padInfo: { top: number; left: number };
}

/**
 * The kernel's `offsets` table, [taps, rows]: for each tap and output position, the byte address
 * of the input pixel under that tap (x NHWC at `xAddress`), or `zeroAddress` where it falls in the
 * padding. What im2col(x) would copy, as addresses: 1 int per pixel instead of inChannels floats.
 */
export function fillPixelAddresses(table: Int32Array, conv: ConvGeometry, xAddress: number, zeroAddress: number): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = conv;
  const pixelBytes = inChannels * Float32Array.BYTES_PER_ELEMENT;
  let at = 0;
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      for (let b = 0; b < batchSize; b++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * strideHeight + i - padInfo.top;
          for (let ow = 0; ow < outWidth; ow++) {
            const iw = ow * strideWidth + j - padInfo.left;
            const inside = ih >= 0 && ih < inHeight && iw >= 0 && iw < inWidth;
            // Addresses past 2³¹ wrap to negative int32s; the kernel reads them as unsigned.
            table[at++] = inside ? xAddress + ((b * inHeight + ih) * inWidth + iw) * pixelBytes : zeroAddress;
          }
        }
      }
    }
  }
}

/** The multiply-add this engine runs best: relaxed SIMD's fused one where it validates. */
export const BEST_FMA: FmaKind = relaxedSimd ? 'relaxed' : 'mulAdd';

/**
 * The kernel on `memory`, with `fma` (default: BEST_FMA); one instance per memory, the first
 * binding's `fma` winning.
 */
export function bindFilterGradientKernel(memory: WebAssembly.Memory, fma: FmaKind = BEST_FMA): FilterGradientKernel {
  const known = bound.get(memory);
  if (known) return known;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const variant = `${fma}${shared ? 'Shared' : 'Plain'}` as const;
  // Under 1 KB, so compiling synchronously is allowed on any thread.
  const module = new WebAssembly.Module(bytesOf(FILTER_GRADIENT_WASM[variant]));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Exports;
  let helpers: KernelThreads | null = null;
  const kernel: FilterGradientKernel = {
    fma,
    get threads() {
      return 1 + (helpers?.ready ?? 0);
    },
    fits: (channels, outChannels) => channels > 0 && outChannels > 0 && channels % TILE_CHANNELS === 0 && outChannels % TILE_OUT_CHANNELS === 0,
    run: ({ offsets, dy, dw, rows, channels, outChannels, taps }) => {
      const parts = Math.min(1 + (helpers?.ready ?? 0), channels / TILE_CHANNELS);
      const args = (part: number) => [offsets, dy, dw, rows, channels, outChannels, taps, ...channelRange(channels, part, parts), BLOCK_ROWS];
      if (parts === 1 || !helpers) {
        exports[EXPORT_NAME](...args(0));
        return;
      }
      const shares = Array.from({ length: helpers.ready }, (_, i) => (i + 1 < parts ? args(i + 1) : [offsets, dy, dw, rows, channels, outChannels, taps, 0, 0, BLOCK_ROWS]));
      helpers.run(shares, () => exports[EXPORT_NAME](...args(0)));
    },
    startThreads(count, spawn) {
      if (!shared || helpers || count < 1) return;
      helpers = startKernelThreads({ module, memory, exportName: EXPORT_NAME, count, spawn });
    },
    stopThreads() {
      helpers?.destroy();
      helpers = null;
    },
  };
  bound.set(memory, kernel);
  return kernel;
}
