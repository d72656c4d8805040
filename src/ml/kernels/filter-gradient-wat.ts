// The WebAssembly text of the filter-gradient kernel, generated here so that its unrolled inner loop
// is written once (kernels-wat.ts puts it in the module with the others). It is an indirect matrix
// product: for each tap of the window,
//   dW[tap, c, o] = Σ_k x[offsets[tap, k] + c] · dy[k, o]     (k over the batch's output positions)
// where offsets[tap, k] is the address of the input pixel under that tap for output position k, or
// of a zero row where the tap falls in the padding. So no im2col matrix is ever written: x and dy
// are read where tfjs-backend-wasm keeps them (the module imports its memory).
//
// Blocking: a tile of 4 input channels × 8 output channels lives in 8 SIMD registers while k runs
// over KC output positions; KC positions of x and dy (2 · KC cache lines) stay in L1 for every tile
// of the block. Measured here (Node, 1 thread, ResNet50's 3×3 64→64 @56 at batch 4): KC = 16–64 gave
// 12–14 GMAC/s, 128 gave 9, 4,096 gave 5 (the lines were evicted between tiles). Wide layers' rows
// crowd L1 sets (4 KB apart: one set), so for them filter_gradient_copied copies each block's rows
// a line apart first and keeps 32 rows a block; the caller picks (wasm-kernels.ts,
// filterGradientPlan).

import { multiplyAdd, type FmaKind } from './fma-wat';

/** Input channels per register tile: splat-loaded from x. */
export const TILE_CHANNELS = 4;
/** Output channels per register tile: two f32x4 loads from dy. */
export const TILE_OUT_CHANNELS = 8;
const VECTORS = TILE_OUT_CHANNELS / 4;

const accumulator = (i: number, j: number) => `$acc${i}_${j}`;

function repeatTile(line: (i: number, j: number) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < TILE_CHANNELS; i++) for (let j = 0; j < VECTORS; j++) lines.push(line(i, j));
  return lines.join('\n          ');
}

/** The products of one output position: 2 loads of dy at $dyRow, 4 splats of x at $xRow, 8 multiply-adds. */
function products(fma: FmaKind): string[] {
  const lines: string[] = [];
  for (let j = 0; j < VECTORS; j++) lines.push(`(local.set $dy${j} (v128.load offset=${j * 16} (local.get $dyRow)))`);
  for (let i = 0; i < TILE_CHANNELS; i++) {
    lines.push(`(local.set $x (v128.load32_splat offset=${i * 4} (local.get $xRow)))`);
    for (let j = 0; j < VECTORS; j++) {
      lines.push(`(local.set ${accumulator(i, j)} ${multiplyAdd(fma, '(local.get $x)', `(local.get $dy${j})`, `(local.get ${accumulator(i, j)})`)})`);
    }
  }
  return lines;
}

/** One output position, x's pixel read through the offsets table. */
function innerStep(fma: FmaKind): string {
  return [
    '(local.set $xRow (i32.add (i32.load (local.get $offset)) (local.get $channelBytes)))',
    ...products(fma),
    '(local.set $offset (i32.add (local.get $offset) (i32.const 4)))',
    '(local.set $dyRow (i32.add (local.get $dyRow) (local.get $rowBytes)))',
  ].join('\n            ');
}

/** One output position, from the block's copies. */
function copiedInnerStep(fma: FmaKind): string {
  return [...products(fma), '(local.set $xRow (i32.add (local.get $xRow) (local.get $xStride)))', '(local.set $dyRow (i32.add (local.get $dyRow) (local.get $dyStride)))'].join('\n            ');
}

/** Copies $count rows of $bytes (a multiple of 16) from $src, $srcStride apart, to $dst, $dstStride apart. */
const copyRows = `
  (func $copy_rows (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32) (param $bytes i32) (param $count i32)
    (local $at i32) (local $end i32)
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.eqz (local.get $count)))
      (local.set $at (i32.const 0))
      (local.set $end (local.get $bytes))
      (block $done (loop $copy
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (v128.store (i32.add (local.get $dst) (local.get $at)) (v128.load (i32.add (local.get $src) (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $copy)))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br $rowLoop))))`;

/**
 * The loop over output-channel tiles of one tile of input channels ($c) and tap: the accumulators
 * loaded from dW, `step` run over the block's positions (`start` sets its pointers; it repeats
 * while `more`), stored back.
 */
function outChannelTiles(start: string, step: string, more: string): string {
  const tileRow = (i: number) => `(i32.add (local.get $dwTile) (i32.mul (i32.const ${i}) (local.get $rowBytes)))`;
  const load = repeatTile((i, j) => `(local.set ${accumulator(i, j)} (v128.load offset=${j * 16} ${tileRow(i)}))`);
  const store = repeatTile((i, j) => `(v128.store offset=${j * 16} ${tileRow(i)} (local.get ${accumulator(i, j)}))`);
  return `(local.set $o (i32.const 0))
          (loop $outLoop
            (local.set $dwTile (i32.add (local.get $tapDw) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $outChannels)) (local.get $o)) (i32.const 2))))
          ${load}
            ${start}
            (loop $step
            ${step}
              (br_if $step ${more}))
          ${store}
            (local.set $o (i32.add (local.get $o) (i32.const ${TILE_OUT_CHANNELS})))
            (br_if $outLoop (i32.lt_u (local.get $o) (local.get $outChannels))))`;
}

/** The text of the export `filter_gradient`, described in the comment inside. */
function directFunction(fma: FmaKind): string {
  const accumulators = repeatTile((i, j) => `(local ${accumulator(i, j)} v128)`);
  const dyVectors = Array.from({ length: VECTORS }, (_, j) => `(local $dy${j} v128)`).join(' ');
  return `
  ;; Adds to dw [taps, channels, outChannels] the products of input channels [channelBegin,
  ;; channelEnd) (multiples of ${TILE_CHANNELS}; outChannels a multiple of ${TILE_OUT_CHANNELS}):
  ;;   offsets [taps, rows] i32: byte address of x's pixel (a row of channels floats) per tap and row
  ;;   dy      [rows, outChannels] f32
  ;;   block   output positions per cache block
  ;;   xBase   added to every address in offsets (0, or the base of a table of relative ones)
  ;; Every address is a byte offset into the imported memory; the caller zeroes dw first.
  (func $filter_gradient (export "filter_gradient")
    (param $offsets i32) (param $dyBase i32) (param $dw i32) (param $rows i32) (param $channels i32)
    (param $outChannels i32) (param $taps i32) (param $channelBegin i32) (param $channelEnd i32) (param $block i32)
    (param $xBase i32)
    (local $tap i32) (local $tapOffsets i32) (local $tapDw i32) (local $first i32) (local $count i32)
    (local $c i32) (local $o i32) (local $channelBytes i32) (local $rowBytes i32) (local $dwTile i32)
    (local $offset i32) (local $offsetEnd i32) (local $dyRow i32) (local $xRow i32)
    ${accumulators}
    ${dyVectors} (local $x v128)
    (local.set $rowBytes (i32.shl (local.get $outChannels) (i32.const 2)))
    (block $tapsDone (loop $tapLoop
      (br_if $tapsDone (i32.ge_u (local.get $tap) (local.get $taps)))
      (local.set $tapOffsets (i32.add (local.get $offsets) (i32.shl (i32.mul (local.get $tap) (local.get $rows)) (i32.const 2))))
      (local.set $tapDw (i32.add (local.get $dw) (i32.shl (i32.mul (i32.mul (local.get $tap) (local.get $channels)) (local.get $outChannels)) (i32.const 2))))
      (local.set $first (i32.const 0))
      (block $blocksDone (loop $blockLoop
        (br_if $blocksDone (i32.ge_u (local.get $first) (local.get $rows)))
        (local.set $count (select
          (local.get $block)
          (i32.sub (local.get $rows) (local.get $first))
          (i32.lt_u (local.get $block) (i32.sub (local.get $rows) (local.get $first)))))
        (local.set $c (local.get $channelBegin))
        (block $channelsDone (loop $channelLoop
          (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channelEnd)))
          (local.set $channelBytes (i32.add (local.get $xBase) (i32.shl (local.get $c) (i32.const 2))))
          ${outChannelTiles(
            `(local.set $offset (i32.add (local.get $tapOffsets) (i32.shl (local.get $first) (i32.const 2))))
            (local.set $offsetEnd (i32.add (local.get $offset) (i32.shl (local.get $count) (i32.const 2))))
            (local.set $dyRow (i32.add (local.get $dyBase) (i32.shl (i32.add (i32.mul (local.get $first) (local.get $outChannels)) (local.get $o)) (i32.const 2))))`,
            innerStep(fma),
            '(i32.lt_u (local.get $offset) (local.get $offsetEnd))',
          )}
          (local.set $c (i32.add (local.get $c) (i32.const ${TILE_CHANNELS})))
          (br $channelLoop)))
        (local.set $first (i32.add (local.get $first) (local.get $block)))
        (br $blockLoop)))
      (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
      (br $tapLoop))))
`;
}

/** The text of `$copy_rows` and of the export `filter_gradient_copied`, described in the comment inside. */
function copiedFunction(fma: FmaKind): string {
  const accumulators = repeatTile((i, j) => `(local ${accumulator(i, j)} v128)`);
  const dyVectors = Array.from({ length: VECTORS }, (_, j) => `(local $dy${j} v128)`).join(' ');
  return `${copyRows}
  ;; filter_gradient for rows whose lines crowd L1 sets (wide layers: 1,024-channel pixels are
  ;; 4 KB apart, all in one set): each block's rows of dy, and of x under each tap, are copied
  ;; first, a cache line more than a row apart, so blocks can be as long as for narrow layers.
  ;; The same arguments, and
  ;;   scratch this thread's: block · ((channelEnd − channelBegin) · 4 + outChannels · 4 + 128) bytes
  (func $filter_gradient_copied (export "filter_gradient_copied")
    (param $offsets i32) (param $dyBase i32) (param $dw i32) (param $rows i32) (param $channels i32)
    (param $outChannels i32) (param $taps i32) (param $channelBegin i32) (param $channelEnd i32) (param $block i32)
    (param $xBase i32) (param $scratch i32)
    (local $tap i32) (local $tapOffsets i32) (local $tapDw i32) (local $first i32) (local $count i32)
    (local $c i32) (local $o i32) (local $rowBytes i32) (local $dwTile i32) (local $k i32)
    (local $xStride i32) (local $dyStride i32) (local $xPack i32) (local $dyPack i32) (local $xColumn i32)
    (local $xRow i32) (local $xEnd i32) (local $dyRow i32) (local $channelBytes i32)
    ${accumulators}
    ${dyVectors} (local $x v128)
    (local.set $rowBytes (i32.shl (local.get $outChannels) (i32.const 2)))
    (local.set $channelBytes (i32.shl (i32.sub (local.get $channelEnd) (local.get $channelBegin)) (i32.const 2)))
    (local.set $xStride (i32.add (local.get $channelBytes) (i32.const 64)))
    (local.set $dyStride (i32.add (local.get $rowBytes) (i32.const 64)))
    (local.set $xPack (local.get $scratch))
    (local.set $dyPack (i32.add (local.get $scratch) (i32.mul (local.get $block) (local.get $xStride))))
    (block $blocksDone (loop $blockLoop
      (br_if $blocksDone (i32.ge_u (local.get $first) (local.get $rows)))
      (local.set $count (select
        (local.get $block)
        (i32.sub (local.get $rows) (local.get $first))
        (i32.lt_u (local.get $block) (i32.sub (local.get $rows) (local.get $first)))))
      (call $copy_rows (i32.add (local.get $dyBase) (i32.mul (local.get $first) (local.get $rowBytes))) (local.get $rowBytes)
        (local.get $dyPack) (local.get $dyStride) (local.get $rowBytes) (local.get $count))
      (local.set $tap (i32.const 0))
      (block $tapsDone (loop $tapLoop
        (br_if $tapsDone (i32.ge_u (local.get $tap) (local.get $taps)))
        ;; This tap's pixels of the block's rows, channels [channelBegin, channelEnd).
        (local.set $tapOffsets (i32.add (local.get $offsets) (i32.shl (i32.add (i32.mul (local.get $tap) (local.get $rows)) (local.get $first)) (i32.const 2))))
        (local.set $k (i32.const 0))
        (block $copiesDone (loop $copyLoop
          (br_if $copiesDone (i32.ge_u (local.get $k) (local.get $count)))
          (call $copy_rows
            (i32.add (i32.add (i32.load (i32.add (local.get $tapOffsets) (i32.shl (local.get $k) (i32.const 2)))) (local.get $xBase)) (i32.shl (local.get $channelBegin) (i32.const 2)))
            (i32.const 0) (i32.add (local.get $xPack) (i32.mul (local.get $k) (local.get $xStride))) (i32.const 0) (local.get $channelBytes) (i32.const 1))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $copyLoop)))
        (local.set $tapDw (i32.add (local.get $dw) (i32.shl (i32.mul (i32.mul (local.get $tap) (local.get $channels)) (local.get $outChannels)) (i32.const 2))))
        (local.set $c (local.get $channelBegin))
        (block $channelsDone (loop $channelLoop
          (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channelEnd)))
          (local.set $xColumn (i32.add (local.get $xPack) (i32.shl (i32.sub (local.get $c) (local.get $channelBegin)) (i32.const 2))))
          (local.set $xEnd (i32.add (local.get $xColumn) (i32.mul (local.get $count) (local.get $xStride))))
          ${outChannelTiles(
            `(local.set $xRow (local.get $xColumn))
            (local.set $dyRow (i32.add (local.get $dyPack) (i32.shl (local.get $o) (i32.const 2))))`,
            copiedInnerStep(fma),
            '(i32.lt_u (local.get $xRow) (local.get $xEnd))',
          )}
          (local.set $c (i32.add (local.get $c) (i32.const ${TILE_CHANNELS})))
          (br $channelLoop)))
        (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
        (br $tapLoop)))
      (local.set $first (i32.add (local.get $first) (local.get $block)))
      (br $blockLoop))))
`;
}

/** The text of the exports `filter_gradient` and `filter_gradient_copied` (and of `$copy_rows`). */
export function filterGradientFunction(fma: FmaKind): string {
  return `${directFunction(fma)}${copiedFunction(fma)}`;
}
