// Our wasm kernels (kernels-wat.ts), instantiated on tfjs-backend-wasm's own memory so that they
// read and write tensors where the backend keeps them, with no copy; on a shared memory (the
// threaded build) each call can split its work over helper threads.

import { CONV_BLOCK_TAP_CHANNELS, CONV_FLAG_BIAS, CONV_FLAG_RELU, CONV_TILE_OUT_CHANNELS, CONV_TILE_ROWS } from './conv-wat';
import { ELEMENTWISE_LANES } from './elementwise-wat';
import { TILE_CHANNELS, TILE_OUT_CHANNELS } from './filter-gradient-wat';
import { KERNELS_WASM } from './generated/kernels-wasm';
import { KERNEL_EXPORTS, type FmaKind } from './kernels-wat';
import { startKernelThreads, type KernelThreads, type KernelThreadWorker } from './kernel-threads';

export { ELEMENTWISE_LANES };

const L1_SETS = 64;
const CACHE_LINE_BYTES = 64;
const FILTER_GRADIENT_LINES_PER_SET = 16;

/** L1 sets that rows `bytes` apart fall in (64 sets of 64-byte lines: address bits 6–11). */
function setsOfRows(bytes: number): number {
  if (bytes % CACHE_LINE_BYTES !== 0) return L1_SETS;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return (L1_SETS * CACHE_LINE_BYTES) / gcd(bytes, L1_SETS * CACHE_LINE_BYTES);
}

/**
 * Output positions per cache block of the filter gradient (filter-gradient-wat.ts): the most of
 * 32, 16 or 8 whose lines of x and dy do not crowd one L1 set. A block touches a line per row of
 * each, rows `channels · 4` bytes apart; rows 4 KB apart (1,024-channel pixels) all fall in one of
 * L1's 64 sets, and more lines than its ways (8–12) evict each other between tiles. Measured here
 * (Node, 1 thread, GMAC/s at 8 / 16 / 32 rows): 1×1 1024→256 @14 22.7 / 15.0 / 12.5, 1×1
 * 512→2048 @7 22.6 / 17.6 / 15.9, 1×1 512→128 @28 19.8 / 24.4 / 22.4, 1×1 256→64 @56 16.8 / 21.9 /
 * 23.6, 3×3 512→512 @7 22.7 / 26.4 / 23.6, 3×3 64→64 @56 20.4 / 25.7 / 24.6. A budget of 16 lines
 * per set (the prefetcher absorbs some) picks the best of the three for each of these.
 */
export function filterGradientBlockRows(channels: number, outChannels: number): number {
  const linesPerSet = (rows: number, bytes: number) => Math.ceil(rows / setsOfRows(bytes));
  const fits = (rows: number) => linesPerSet(rows, channels * 4) + linesPerSet(rows, outChannels * 4) <= FILTER_GRADIENT_LINES_PER_SET;
  return [32, 16].find(fits) ?? 8;
}

/** Rows per block of filter_gradient_copied (measured: 16 to 128 within 4% of each other). */
const FILTER_GRADIENT_COPIED_ROWS = 32;

/**
 * How the filter gradient runs: where fewer than 32 rows would fit the sets, its rows are copied a
 * line apart first (filter_gradient_copied), 32 at a time. Measured here (Node, 1 thread, GMAC/s,
 * as rows fit the sets → copied): 1×1 1024→256 @14 26.0 → 29.4–30.1, 1×1 512→2048 @7 24.7–25.1 →
 * 29.3–30.1, 3×3 512→512 @7 28.5–29.3 → 29.3–30.1; for layers whose rows fit, copying lost 0–9%
 * (1×1 256→64 @56 28.3–29.2 → 26.3–27.0).
 */
export function filterGradientPlan(channels: number, outChannels: number): { block: number; copied: boolean } {
  const block = filterGradientBlockRows(channels, outChannels);
  return block < 32 ? { block: FILTER_GRADIENT_COPIED_ROWS, copied: true } : { block, copied: false };
}

/** Scratch bytes one thread of the filter gradient needs for its copies: 0 where it copies none. */
export function filterGradientScratchBytes(channels: number, outChannels: number): number {
  const { block, copied } = filterGradientPlan(channels, outChannels);
  return copied ? block * ((channels + outChannels) * Float32Array.BYTES_PER_ELEMENT + 2 * CACHE_LINE_BYTES) : 0;
}

/** Byte addresses in the kernels' memory, and the sizes they hold. */
export interface FilterGradientCall {
  /** [taps, rows] i32: each tap's address of x's pixel per output position (or of a zero row). */
  offsets: number;
  /** [rows, outChannels] f32. */
  dy: number;
  /** [taps, channels, outChannels] f32, zeroed by the caller; the products are added to it. */
  dw: number;
  /** Scratch of filterGradientScratchBytes for each of `parts` threads (none if that is 0): the call splits over no more. */
  scratch: number;
  parts: number;
  rows: number;
  channels: number;
  outChannels: number;
  taps: number;
}

export interface ConvCall {
  /** [taps, convRowStride(rows)] i32: each tap's address of x's pixel per output position, a zero row past `rows`. */
  offsets: number;
  /**
   * [taps, channels, outChannels] f32; or, with `rotated`, [taps, outChannels, channels]: the filter
   * of the convolution whose input gradient this one computes, used rotated 180° and transposed.
   */
  weights: number;
  rotated?: boolean;
  /** Scratch of taps · channels · outChannels f32, for the packed weights. */
  packed: number;
  /** [outChannels] f32, or null. */
  bias: number | null;
  /** [rows, outChannels] f32, written. */
  y: number;
  rows: number;
  channels: number;
  outChannels: number;
  taps: number;
  relu: boolean;
}

/** What both Winograd calls take besides their tensors. */
interface WinogradCallBase {
  /** [tiles, 16] i32: fillWinogradTables' window addresses. */
  pixels: number;
  /** Scratch of winogradScratchBytes (or winogradGradientScratchBytes) for each of `parts` threads: the call splits over no more. */
  scratch: number;
  parts: number;
  /** [winogradChunk (or winogradGradientChunk)] i32: r · channels · 4 for each r. */
  rowTable: number;
  tiles: number;
  channels: number;
  outChannels: number;
}

export interface WinogradCall extends WinogradCallBase {
  /** [tiles, 4] i32: fillWinogradTables' output addresses. */
  outputs: number;
  /** The weights, as ConvCall's (3 × 3 taps). */
  weights: number;
  rotated?: boolean;
  /** Scratch of 9 planes, and of 16 planes, of winogradPlaneBytes each. */
  packed: number;
  transformed: number;
  /** [outChannels] f32, or null. */
  bias: number | null;
  relu: boolean;
}

export interface WinogradFilterGradientCall extends WinogradCallBase {
  /** [tiles, 4] i32: fillWinogradTables' output addresses, into dy, a zero row past its edge. */
  gradients: number;
  /** Scratch of 16 planes of winogradPlaneBytes. */
  transformed: number;
  /** [3, 3, channels, outChannels] f32, written. */
  dw: number;
}

export interface ReluBackpropCall {
  /** Addresses of dy, y (ReLU's output) and dx, each `count` f32. */
  dy: number;
  y: number;
  dx: number;
  /** A multiple of ELEMENTWISE_LANES. */
  count: number;
}

export interface ChannelSumsCall {
  /** [rows, channels] f32, channels a multiple of ELEMENTWISE_LANES. */
  x: number;
  /** [blocks, channels] f64, zeroed by the caller: each thread adds its rows' sums to its own row. */
  totals: number;
  /** Rows of totals: the call splits over this many threads at most. */
  blocks: number;
  rows: number;
  channels: number;
}

export interface AdamCall {
  /** Addresses of the weight, gradient and moments, and of the new weight and moments, each `count` f32. */
  w: number;
  g: number;
  m: number;
  v: number;
  w2: number;
  m2: number;
  v2: number;
  /** A multiple of ELEMENTWISE_LANES. */
  count: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The learning rate with Adam's bias correction folded in. */
  rate: number;
}

export interface ScaleChannelsCall {
  /** [rows, channels] f32 (channels a multiple of ELEMENTWISE_LANES), [channels] f32, and the [rows, channels] output. */
  x: number;
  scale: number;
  out: number;
  rows: number;
  channels: number;
}

export interface ScaleGradientCall {
  /** [rows, channels] f32: a filter gradient, and the weights it is of. */
  g: number;
  w: number;
  /** [channels] f32. */
  scale: number;
  /** [rows, channels] f32: g · scale. */
  out: number;
  /** [blocks, channels] f64, zeroed by the caller: each thread adds its rows' Σ w·g to its own row. */
  totals: number;
  /** Rows of totals: the call splits over this many threads at most. */
  blocks: number;
  rows: number;
  channels: number;
}

export interface WasmKernels {
  /** Which multiply-add the engine could run. */
  readonly fma: FmaKind;
  /** Threads a call runs on now: 1, plus the helpers that have started. */
  readonly threads: number;
  /** Whether the memory is shared (tfjs-backend-wasm's threaded build), so helpers can start. */
  readonly sharedMemory: boolean;
  /** Whether the channels fit the filter gradient's register tile. */
  fitsFilterGradient(channels: number, outChannels: number): boolean;
  filterGradient(call: FilterGradientCall): void;
  /** Whether the output channels fit the convolution's register tile (any input channels do). */
  fitsConv(outChannels: number): boolean;
  /** Whether a convolution may take its weights `rotated` (its channels in fours too). */
  fitsRotatedWeights(channels: number, outChannels: number): boolean;
  conv(call: ConvCall): void;
  /** Whether a 3×3 stride-1 'same' convolution of these channels can run as winogradConv. */
  fitsWinograd(channels: number, outChannels: number): boolean;
  /** The same convolution as `conv` for 3×3 stride 1 'same', in 2.25× fewer multiply-adds (winograd-wat.ts). */
  winogradConv(call: WinogradCall): void;
  /** filterGradient for a 3×3 stride-1 'same' convolution that fitsWinograd, through its Winograd form. */
  winogradFilterGradient(call: WinogradFilterGradientCall): void;
  reluBackprop(call: ReluBackpropCall): void;
  channelSums(call: ChannelSumsCall): void;
  adam(call: AdamCall): void;
  scaleChannels(call: ScaleChannelsCall): void;
  scaleGradient(call: ScaleGradientCall): void;
  /**
   * Starts `count` helper threads (shared memory only: a no-op otherwise, or if they run already).
   * Calls must then come from a thread that may block (a worker, or Node), never a page.
   */
  startThreads(count: number, spawn: () => KernelThreadWorker): void;
  /** Ends the helper threads; calls run on the caller's thread alone from then on. */
  stopThreads(): void;
}

const WINOGRAD_TAPS = 9;
const WINOGRAD_ELEMENTS = 16;
/**
 * What a chunk's V and M may take together: half of a 512 KB L2, the rest for weights. (Measured
 * here, Node, 1 thread: chunks of 8 to 64 tiles came within noise of each other, at every stage.)
 */
const WINOGRAD_CHUNK_BYTES = 256 * 1024;
/** The same for the filter gradient's V and D (measured: chunks of 32 to 256 tiles within 5%). */
const WINOGRAD_GRADIENT_CHUNK_BYTES = 2 * 1024 * 1024;

/**
 * Bytes between the planes of the Winograd convolution's weights (9 taps, or 16 elements): a
 * plane's floats and one cache line, so that planes never fall a multiple of 4 KB apart.
 */
export function winogradPlaneBytes(channels: number, outChannels: number): number {
  return channels * outChannels * Float32Array.BYTES_PER_ELEMENT + CACHE_LINE_BYTES;
}

/** Tiles per chunk: the most (a multiple of 4, from 4 to 32) whose V and M fit WINOGRAD_CHUNK_BYTES. */
export function winogradChunk(channels: number, outChannels: number): number {
  const perTile = WINOGRAD_ELEMENTS * (channels + outChannels) * Float32Array.BYTES_PER_ELEMENT;
  return Math.max(4, Math.min(32, Math.floor(WINOGRAD_CHUNK_BYTES / perTile / 4) * 4));
}

/** Scratch bytes one thread of the Winograd convolution needs: its chunk's V and M, each in 16 planes of a line's slack. */
export function winogradScratchBytes(channels: number, outChannels: number): number {
  const chunk = winogradChunk(channels, outChannels);
  return WINOGRAD_ELEMENTS * (chunk * (channels + outChannels) * Float32Array.BYTES_PER_ELEMENT + 2 * CACHE_LINE_BYTES);
}

/**
 * Tiles per chunk of the Winograd filter gradient: more than the convolution's, since each chunk
 * also reads and writes all of dU (16 weight-sized planes); the most (a multiple of 4, from 32 to
 * 256) whose V and D fit WINOGRAD_GRADIENT_CHUNK_BYTES.
 */
export function winogradGradientChunk(channels: number, outChannels: number): number {
  const perTile = WINOGRAD_ELEMENTS * (channels + outChannels) * Float32Array.BYTES_PER_ELEMENT;
  return Math.max(32, Math.min(256, Math.floor(WINOGRAD_GRADIENT_CHUNK_BYTES / perTile / 4) * 4));
}

/** Scratch bytes one thread of the Winograd filter gradient needs: its chunk's V and D, and its products' copies. */
export function winogradGradientScratchBytes(channels: number, outChannels: number): number {
  const chunk = winogradGradientChunk(channels, outChannels);
  const planes = WINOGRAD_ELEMENTS * (chunk * (channels + outChannels) * Float32Array.BYTES_PER_ELEMENT + 2 * CACHE_LINE_BYTES);
  return planes + filterGradientScratchBytes(channels, outChannels);
}

/** Tiles of 2 × 2 output positions of a 'same' 3×3 stride-1 convolution. */
export function winogradTiles(conv: ConvGeometry): number {
  return conv.batchSize * Math.ceil(conv.outHeight / 2) * Math.ceil(conv.outWidth / 2);
}

/**
 * The Winograd convolution's tables (winograd-wat.ts), for a 'same' 3×3 stride-1 `conv`: for each
 * tile, `pixels` gets the 16 addresses of its 4 × 4 input window in x (at `xAddress`; `zeroAddress`
 * in the padding) and `outputs` the 4 of its output pixels in y (`sinkAddress` past the edge).
 */
export function fillWinogradTables(pixels: Int32Array, outputs: Int32Array, conv: ConvGeometry, xAddress: number, zeroAddress: number, yAddress: number, outChannels: number, sinkAddress: number): void {
  const { batchSize, outHeight: height, outWidth: width, inChannels } = conv;
  const pixelBytes = inChannels * Float32Array.BYTES_PER_ELEMENT;
  const outBytes = outChannels * Float32Array.BYTES_PER_ELEMENT;
  let tile = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let top = 0; top < height; top += 2) {
      for (let left = 0; left < width; left += 2, tile++) {
        for (let i = 0; i < 4; i++) {
          const h = top - 1 + i;
          for (let j = 0; j < 4; j++) {
            const w = left - 1 + j;
            pixels[tile * 16 + i * 4 + j] = h >= 0 && h < height && w >= 0 && w < width ? xAddress + ((b * height + h) * width + w) * pixelBytes : zeroAddress;
          }
        }
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            const h = top + i;
            const w = left + j;
            outputs[tile * 4 + i * 2 + j] = h < height && w < width ? yAddress + ((b * height + h) * width + w) * outBytes : sinkAddress;
          }
        }
      }
    }
  }
}

/** Rows of the convolution's offsets table per tap: `rows` rounded up to a whole register tile. */
export function convRowStride(rows: number): number {
  return Math.ceil(rows / CONV_TILE_ROWS) * CONV_TILE_ROWS;
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
 * The kernels' `offsets` table, [taps, rowStride]: for each tap and output position, the byte
 * address of the input pixel under that tap (x NHWC at `xAddress`), or `zeroAddress` where it falls
 * in the padding and past the last position. What im2col(x) would copy, as addresses: one int per
 * pixel instead of inChannels floats.
 */
export function fillPixelAddresses(table: Int32Array, conv: ConvGeometry, xAddress: number, zeroAddress: number, rowStride = conv.batchSize * conv.outHeight * conv.outWidth): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = conv;
  const pixelBytes = inChannels * Float32Array.BYTES_PER_ELEMENT;
  const rows = batchSize * outHeight * outWidth;
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      // The output columns whose tap j falls inside x: [first, end).
      const left = j - padInfo.left;
      const first = Math.min(outWidth, Math.max(0, Math.ceil(-left / strideWidth)));
      const end = Math.max(first, Math.min(outWidth, Math.ceil((inWidth - left) / strideWidth)));
      let at = (i * filterWidth + j) * rowStride;
      for (let b = 0; b < batchSize; b++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * strideHeight + i - padInfo.top;
          if (ih < 0 || ih >= inHeight) {
            table.fill(zeroAddress, at, at + outWidth);
          } else {
            // Row by row as runs of zeros and of addresses a stride apart: one add an entry, where a
            // bounds test and an address per entry took ~2.5 ns each (6 ms for the stem at batch 4).
            // Addresses past 2³¹ wrap to negative int32s; the kernels read them as unsigned.
            table.fill(zeroAddress, at, at + first);
            let address = xAddress + ((b * inHeight + ih) * inWidth + first * strideWidth + left) * pixelBytes;
            const step = strideWidth * pixelBytes;
            for (let ow = first; ow < end; ow++, address += step) table[at + ow] = address;
            table.fill(zeroAddress, at + end, at + outWidth);
          }
          at += outWidth;
        }
      }
      table.fill(zeroAddress, at, at + rowStride - rows);
    }
  }
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The multiply-add this engine runs best: relaxed SIMD's fused one where it validates. */
export const BEST_FMA: FmaKind = WebAssembly.validate(bytesOf(KERNELS_WASM.relaxedPlain)) ? 'relaxed' : 'mulAdd';

type KernelFunction = (...args: number[]) => void;

/** [first, end) of part `part` of `parts` of `size`, in whole units of `unit`. */
function split(size: number, unit: number, part: number, parts: number): [number, number] {
  const units = Math.ceil(size / unit);
  return [Math.floor((part * units) / parts) * unit, Math.min(size, Math.floor(((part + 1) * units) / parts) * unit)];
}

/**
 * Elements below which a one-pass kernel runs on one thread: waking a helper costs tens of µs,
 * what ~64 K elements take to stream.
 */
const ELEMENTWISE_SPLIT_MIN = 1 << 16;

/** Elements per share of a one-pass kernel: whole cache lines, so no two threads write one. */
const ELEMENTWISE_SHARE_UNIT = 16;

/** A float32's bits as an int32 (the threads pass i32 arguments). */
function floatBits(value: number): number {
  return new Int32Array(Float32Array.of(value).buffer)[0]!;
}

const bound = new WeakMap<WebAssembly.Memory, WasmKernels>();

/** The kernels on `memory`, with `fma` (default: BEST_FMA); one instance per memory, the first binding's `fma` winning. */
export function bindWasmKernels(memory: WebAssembly.Memory, fma: FmaKind = BEST_FMA): WasmKernels {
  const known = bound.get(memory);
  if (known) return known;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const variant = `${fma}${shared ? 'Shared' : 'Plain'}` as const;
  // Compiled synchronously: ~10 KB, bound in the training worker only (Chromium long refused more
  // than 4 KB this way on a page's main thread; 8 MB now).
  const module = new WebAssembly.Module(bytesOf(KERNELS_WASM[variant]));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const filterGradient = exports.filter_gradient as KernelFunction;
  const filterGradientCopied = exports.filter_gradient_copied as KernelFunction;
  const conv = exports.conv as KernelFunction;
  const packWeights = exports.pack_weights as KernelFunction;
  const packWeightsRotated = exports.pack_weights_rotated as KernelFunction;
  const reluBackprop = exports.relu_backprop as KernelFunction;
  const channelSums = exports.channel_sums as KernelFunction;
  const adam = exports.adam as KernelFunction;
  const scaleChannels = exports.scale_channels as KernelFunction;
  const scaleGradient = exports.scale_gradient as KernelFunction;
  const winogradWeights = exports.winograd_weights as KernelFunction;
  const winogradConv = exports.winograd_conv as KernelFunction;
  const winogradFilterGradient = exports.winograd_filter_gradient as KernelFunction;
  const winogradFilterOutput = exports.winograd_filter_output as KernelFunction;
  let helpers: KernelThreads | null = null;

  /** Runs `args(part)` on `parts` threads (this one included; `parts` at most kernels.threads). */
  const runSplit = (name: (typeof KERNEL_EXPORTS)[number], run: KernelFunction, parts: number, args: (part: number) => number[]) => {
    if (parts === 1 || !helpers) {
      run(...args(0));
      return;
    }
    const shares = Array.from({ length: parts - 1 }, (_, i) => args(i + 1));
    helpers.run(name, shares, () => run(...args(0)));
  };

  /**
   * Packs a convolution's weights into its panels (see ConvCall), on this thread: split over
   * threads by panels, k=0 steps took 272 ms against 261 in the same sitting (Chromium, three
   * runs of each, alternating): a memory-bound copy gains less than waking a helper costs.
   */
  const pack = (weights: number, packed: number, taps: number, channels: number, outChannels: number, rotated: boolean) => {
    const panels = outChannels / CONV_TILE_OUT_CHANNELS;
    if (rotated) packWeightsRotated(weights, packed, taps, channels, outChannels, 0, panels);
    else packWeights(weights, packed, taps * channels, outChannels, 0, panels);
  };

  /** Threads for a kernel that splits `rows` rows into `blocks` rows of totals at most. */
  const rowParts = (rows: number, channels: number, blocks: number) => (elementwiseParts(rows * channels) === 1 ? 1 : Math.min(blocks, kernels.threads, rows));

  /** Threads for a one-pass kernel over `count` elements. */
  const elementwiseParts = (count: number) => (count < ELEMENTWISE_SPLIT_MIN ? 1 : Math.min(kernels.threads, Math.ceil(count / ELEMENTWISE_SHARE_UNIT)));

  const kernels: WasmKernels = {
    fma,
    sharedMemory: shared,
    get threads() {
      return 1 + (helpers?.ready ?? 0);
    },
    fitsFilterGradient: (channels, outChannels) => channels > 0 && outChannels > 0 && channels % TILE_CHANNELS === 0 && outChannels % TILE_OUT_CHANNELS === 0,
    filterGradient: ({ offsets, dy, dw, scratch, parts: scratchParts, rows, channels, outChannels, taps }) => {
      const { block, copied } = filterGradientPlan(channels, outChannels);
      // Each thread takes whole tiles of input channels: the rows of dW it writes are its own.
      const parts = Math.min(kernels.threads, channels / TILE_CHANNELS, copied ? scratchParts : Infinity);
      const scratchBytes = filterGradientScratchBytes(channels, outChannels);
      const args = (part: number) => [offsets, dy, dw, rows, channels, outChannels, taps, ...split(channels, TILE_CHANNELS, part, parts), block, 0, scratch + part * scratchBytes];
      if (copied) runSplit('filter_gradient_copied', filterGradientCopied, parts, args);
      else runSplit('filter_gradient', filterGradient, parts, args);
    },
    fitsConv: (outChannels) => outChannels > 0 && outChannels % CONV_TILE_OUT_CHANNELS === 0,
    fitsRotatedWeights: (channels, outChannels) => kernels.fitsConv(outChannels) && channels % ELEMENTWISE_LANES === 0,
    conv: ({ offsets, weights, rotated, packed, bias, y, rows, channels, outChannels, taps, relu }) => {
      pack(weights, packed, taps, channels, outChannels, rotated === true);
      const block = Math.max(1, Math.min(channels, Math.floor(CONV_BLOCK_TAP_CHANNELS / taps)));
      const flags = (bias === null ? 0 : CONV_FLAG_BIAS) | (relu ? CONV_FLAG_RELU : 0);
      // Each thread takes whole tiles of output positions: the rows of y it writes are its own.
      const parts = Math.min(kernels.threads, Math.ceil(rows / CONV_TILE_ROWS));
      const common = [offsets, packed, bias ?? 0, y, rows, channels, outChannels, taps, block];
      runSplit('conv', conv, parts, (part) => [...common, ...split(rows, CONV_TILE_ROWS, part, parts), flags, 0]);
    },
    fitsWinograd: (channels, outChannels) => channels > 0 && channels % ELEMENTWISE_LANES === 0 && kernels.fitsConv(outChannels),
    winogradConv: ({ pixels, outputs, weights, rotated, packed, transformed, bias, scratch, parts: scratchParts, rowTable, tiles, channels, outChannels, relu }) => {
      const plane = winogradPlaneBytes(channels, outChannels);
      const tapBytes = channels * outChannels * Float32Array.BYTES_PER_ELEMENT;
      // Each tap packed on its own plane; for an input gradient, the filter's tap 8 − t is tap t.
      for (let tap = 0; tap < WINOGRAD_TAPS; tap++) {
        pack(weights + (rotated ? WINOGRAD_TAPS - 1 - tap : tap) * tapBytes, packed + tap * plane, 1, channels, outChannels, rotated === true);
      }
      const panels = outChannels / CONV_TILE_OUT_CHANNELS;
      const weightParts = Math.min(kernels.threads, panels);
      runSplit('winograd_weights', winogradWeights, weightParts, (part) => [packed, transformed, channels, plane, ...split(panels, 1, part, weightParts)]);
      const chunk = winogradChunk(channels, outChannels);
      const scratchBytes = winogradScratchBytes(channels, outChannels);
      const flags = (bias === null ? 0 : CONV_FLAG_BIAS) | (relu ? CONV_FLAG_RELU : 0);
      // Each thread takes a range of tiles, and its own scratch for their V and M.
      const parts = Math.min(kernels.threads, scratchParts, tiles);
      runSplit('winograd_conv', winogradConv, parts, (part) => {
        const v = scratch + part * scratchBytes;
        const m = v + WINOGRAD_ELEMENTS * (chunk * channels * 4 + CACHE_LINE_BYTES);
        return [pixels, outputs, transformed, plane, bias ?? 0, v, m, rowTable, channels, outChannels, ...split(tiles, 1, part, parts), chunk, flags];
      });
    },
    winogradFilterGradient: ({ pixels, gradients, transformed, dw, scratch, parts: scratchParts, rowTable, tiles, channels, outChannels }) => {
      const plane = winogradPlaneBytes(channels, outChannels);
      new Uint8Array(memory.buffer, transformed, WINOGRAD_ELEMENTS * plane).fill(0);
      const chunk = winogradGradientChunk(channels, outChannels);
      const scratchBytes = winogradGradientScratchBytes(channels, outChannels);
      const { block, copied } = filterGradientPlan(channels, outChannels);
      // Each thread takes whole tiles of input channels, as filterGradient's: the rows of dU it
      // writes are its own; each transforms every tile's dy for itself.
      const parts = Math.min(kernels.threads, scratchParts, channels / TILE_CHANNELS);
      runSplit('winograd_filter_gradient', winogradFilterGradient, parts, (part) => {
        const v = scratch + part * scratchBytes;
        const d = v + WINOGRAD_ELEMENTS * (chunk * channels * 4 + CACHE_LINE_BYTES);
        const copies = copied ? d + WINOGRAD_ELEMENTS * (chunk * outChannels * 4 + CACHE_LINE_BYTES) : 0;
        return [pixels, gradients, transformed, plane, v, d, rowTable, channels, outChannels, tiles, ...split(channels, TILE_CHANNELS, part, parts), chunk, block, copies];
      });
      const outputParts = Math.min(kernels.threads, channels);
      runSplit('winograd_filter_output', winogradFilterOutput, outputParts, (part) => [transformed, plane, dw, channels, outChannels, ...split(channels, 1, part, outputParts)]);
    },
    reluBackprop: ({ dy, y, dx, count }) => {
      const parts = elementwiseParts(count);
      runSplit('relu_backprop', reluBackprop, parts, (part) => [dy, y, dx, ...split(count, ELEMENTWISE_SHARE_UNIT, part, parts)]);
    },
    channelSums: ({ x, totals, blocks, rows, channels }) => {
      // Split by rows: each thread adds into its own row of totals.
      const parts = rowParts(rows, channels, blocks);
      const totalsOf = (part: number) => totals + part * channels * Float64Array.BYTES_PER_ELEMENT;
      runSplit('channel_sums', channelSums, parts, (part) => [x, totalsOf(part), channels, ...split(rows, 1, part, parts)]);
    },
    adam: ({ w, g, m, v, w2, m2, v2, count, beta1, beta2, epsilon, rate }) => {
      const parts = elementwiseParts(count);
      const constants = [beta1, beta2, epsilon, rate].map(floatBits);
      const tensors = [w, g, m, v, w2, m2, v2];
      runSplit('adam', adam, parts, (part) => [...tensors, ...split(count, ELEMENTWISE_SHARE_UNIT, part, parts), ...constants]);
    },
    scaleChannels: ({ x, scale, out, rows, channels }) => {
      const parts = rowParts(rows, channels, kernels.threads);
      runSplit('scale_channels', scaleChannels, parts, (part) => [x, scale, out, channels, ...split(rows, 1, part, parts)]);
    },
    scaleGradient: ({ g, w, scale, out, totals, blocks, rows, channels }) => {
      const parts = rowParts(rows, channels, blocks);
      const totalsOf = (part: number) => totals + part * channels * Float64Array.BYTES_PER_ELEMENT;
      const common = [g, w, scale, out];
      runSplit('scale_gradient', scaleGradient, parts, (part) => [...common, totalsOf(part), channels, ...split(rows, 1, part, parts)]);
    },
    startThreads(count, spawn) {
      if (!shared || helpers || count < 1) return;
      helpers = startKernelThreads({ module, memory, exportNames: KERNEL_EXPORTS, count, spawn });
    },
    stopThreads() {
      helpers?.destroy();
      helpers = null;
    },
  };
  bound.set(memory, kernels);
  return kernels;
}
