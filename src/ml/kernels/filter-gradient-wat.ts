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
// 12–14 GMAC/s, 128 gave 9, 4,096 gave 5 (the lines were evicted between tiles); for wide layers
// fewer rows do better, and the caller picks KC per layer (wasm-kernels.ts, filterGradientBlockRows).

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

/** One output position: 2 loads of dy, 4 splats of x, 8 multiply-adds. */
function innerStep(fma: FmaKind): string {
  const lines = ['(local.set $xRow (i32.add (i32.load (local.get $offset)) (local.get $channelBytes)))'];
  for (let j = 0; j < VECTORS; j++) lines.push(`(local.set $dy${j} (v128.load offset=${j * 16} (local.get $dyRow)))`);
  for (let i = 0; i < TILE_CHANNELS; i++) {
    lines.push(`(local.set $x (v128.load32_splat offset=${i * 4} (local.get $xRow)))`);
    for (let j = 0; j < VECTORS; j++) {
      lines.push(`(local.set ${accumulator(i, j)} ${multiplyAdd(fma, '(local.get $x)', `(local.get $dy${j})`, `(local.get ${accumulator(i, j)})`)})`);
    }
  }
  lines.push('(local.set $offset (i32.add (local.get $offset) (i32.const 4)))');
  lines.push('(local.set $dyRow (i32.add (local.get $dyRow) (local.get $rowBytes)))');
  return lines.join('\n            ');
}

/** The text of the export `filter_gradient`, described in the comment inside. */
export function filterGradientFunction(fma: FmaKind): string {
  const accumulators = repeatTile((i, j) => `(local ${accumulator(i, j)} v128)`);
  const dyVectors = Array.from({ length: VECTORS }, (_, j) => `(local $dy${j} v128)`).join(' ');
  const tileRow = (i: number) => `(i32.add (local.get $dwTile) (i32.mul (i32.const ${i}) (local.get $rowBytes)))`;
  const load = repeatTile((i, j) => `(local.set ${accumulator(i, j)} (v128.load offset=${j * 16} ${tileRow(i)}))`);
  const store = repeatTile((i, j) => `(v128.store offset=${j * 16} ${tileRow(i)} (local.get ${accumulator(i, j)}))`);
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
          (local.set $o (i32.const 0))
          (loop $outLoop
            (local.set $dwTile (i32.add (local.get $tapDw) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $outChannels)) (local.get $o)) (i32.const 2))))
          ${load}
            (local.set $offset (i32.add (local.get $tapOffsets) (i32.shl (local.get $first) (i32.const 2))))
            (local.set $offsetEnd (i32.add (local.get $offset) (i32.shl (local.get $count) (i32.const 2))))
            (local.set $dyRow (i32.add (local.get $dyBase) (i32.shl (i32.add (i32.mul (local.get $first) (local.get $outChannels)) (local.get $o)) (i32.const 2))))
            (loop $step
            ${innerStep(fma)}
              (br_if $step (i32.lt_u (local.get $offset) (local.get $offsetEnd))))
          ${store}
            (local.set $o (i32.add (local.get $o) (i32.const ${TILE_OUT_CHANNELS})))
            (br_if $outLoop (i32.lt_u (local.get $o) (local.get $outChannels))))
          (local.set $c (i32.add (local.get $c) (i32.const ${TILE_CHANNELS})))
          (br $channelLoop)))
        (local.set $first (i32.add (local.get $first) (local.get $block)))
        (br $blockLoop)))
      (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
      (br $tapLoop))))
`;
}
