// The WebAssembly text of our forward convolution kernel (NHWC, dilation 1), generated here so that
// its register tile is written once (kernels-wat.ts puts it in the module with the others). It is
// an indirect matrix product, like XNNPACK's: for each output position r and output channel o,
//   y[r, o] = bias[o] + Σ_tap Σ_c x[offsets[tap, r] + c] · w[tap, c, o],   then relu if asked,
// offsets[tap, r] being the address of the input pixel under that tap for output position r (or of
// a zero row in the padding). The input gradients of ResNet50's convolutions are forward
// convolutions too (wasm-conv2d-gradients.ts), so this kernel serves both.
//
// A tile of 4 output positions × 8 output channels lives in 8 registers while c runs over a block
// of input channels for every tap; the weights are first packed into panels of 8 output channels,
// so that a tile reads its weights in order. Measured (Node 20, 1 thread, relaxed SIMD, against
// XNNPACK in the same process): 3×3 64→64 @56 17.1 GMAC/s against 11.0; 1×1 1024→256 @14 16.4
// against 10.7; 3×3 512→512 @7 11.0 against 9.4. Six positions per tile (12 registers) or the
// channel loop unrolled by 4 made TurboFan spill accumulators to the stack: 9–11 GMAC/s.

import { multiplyAdd, type FmaKind } from './fma-wat';

/** Output positions per register tile: each a splat-loaded x pixel. */
export const CONV_TILE_ROWS = 4;
/** Output channels per register tile: two f32x4 loads of w. */
export const CONV_TILE_OUT_CHANNELS = 8;
const VECTORS = CONV_TILE_OUT_CHANNELS / 4;
/** Bytes of one input channel's weights in a packed panel: 8 output channels. */
const PANEL_ROW_BYTES = CONV_TILE_OUT_CHANNELS * 4;

/**
 * Taps × input channels per cache block: y is read and written once per block, so large blocks
 * win (measured: 2,048 gave 16–17 GMAC/s where 128 gave 4–12 and 512 gave 13–14).
 */
export const CONV_BLOCK_TAP_CHANNELS = 2048;

/** Bits of the kernel's `flags` argument. */
export const CONV_FLAG_BIAS = 1;
export const CONV_FLAG_RELU = 2;

const acc = (i: number, j: number) => `$acc${i}_${j}`;

function perTile(line: (i: number, j: number) => string, indent: string): string {
  const lines: string[] = [];
  for (let i = 0; i < CONV_TILE_ROWS; i++) for (let j = 0; j < VECTORS; j++) lines.push(line(i, j));
  return lines.join(`\n${indent}`);
}

function perRow(line: (i: number) => string, indent: string): string {
  return Array.from({ length: CONV_TILE_ROWS }, (_, i) => line(i)).join(`\n${indent}`);
}

/** One input channel: 2 loads of the packed w, ROWS splats of x, 2·ROWS multiply-adds. */
function innerStep(fma: FmaKind, indent: string): string {
  const lines: string[] = [];
  for (let j = 0; j < VECTORS; j++) lines.push(`(local.set $w${j} (v128.load offset=${j * 16} (local.get $wRow)))`);
  for (let i = 0; i < CONV_TILE_ROWS; i++) {
    lines.push(`(local.set $x (v128.load32_splat (local.get $p${i})))`);
    for (let j = 0; j < VECTORS; j++) lines.push(`(local.set ${acc(i, j)} ${multiplyAdd(fma, '(local.get $x)', `(local.get $w${j})`, `(local.get ${acc(i, j)})`)})`);
    lines.push(`(local.set $p${i} (i32.add (local.get $p${i}) (i32.const 4)))`);
  }
  lines.push(`(local.set $wRow (i32.add (local.get $wRow) (i32.const ${PANEL_ROW_BYTES})))`);
  lines.push('(local.set $c (i32.add (local.get $c) (i32.const 1)))');
  return lines.join(`\n${indent}`);
}

/** The text of the exports `conv` and `pack_weights`, described in the comments inside. */
export function convFunctions(fma: FmaKind): string {
  const rowValid = (i: number) => `(i32.lt_u (i32.add (local.get $r) (i32.const ${i})) (local.get $rows))`;
  const yRow = (i: number) => `(i32.add (local.get $yTile) (i32.mul (i32.const ${i}) (local.get $rowBytes)))`;
  const zero = '(v128.const i32x4 0 0 0 0)';
  return `
  ;; Writes y [rows, outChannels] (outChannels a multiple of ${CONV_TILE_OUT_CHANNELS}) for the output positions
  ;; [rowBegin, rowEnd) (rowBegin a multiple of ${CONV_TILE_ROWS}):
  ;;   offsets [taps, stride] i32, stride = rows rounded up to ${CONV_TILE_ROWS}: byte address of x's pixel
  ;;           (a row of channels floats) per tap and output position, a zero row past rows
  ;;   w       the weights [taps · channels, outChannels] as pack_weights leaves them
  ;;   bias    [outChannels] f32, read if flags & ${CONV_FLAG_BIAS};  relu if flags & ${CONV_FLAG_RELU}
  ;;   block   input channels per cache block
  ;;   xBase   added to every address in offsets (0, or the base of a table of relative ones)
  ;; Every address is a byte offset into the imported memory.
  (func $conv (export "conv")
    (param $offsets i32) (param $w i32) (param $bias i32) (param $y i32) (param $rows i32) (param $channels i32)
    (param $outChannels i32) (param $taps i32) (param $block i32) (param $rowBegin i32) (param $rowEnd i32) (param $flags i32)
    (param $xBase i32)
    (local $stride i32) (local $rowBytes i32) (local $c0 i32) (local $cEnd i32) (local $r i32) (local $o i32)
    (local $tap i32) (local $channelStart i32) (local $yTile i32) (local $tapOffsets i32) (local $panel i32) (local $wRow i32) (local $c i32)
    ${perRow((i) => `(local $p${i} i32)`, '    ')}
    ${perTile((i, j) => `(local ${acc(i, j)} v128)`, '    ')}
    (local $w0 v128) (local $w1 v128) (local $x v128) (local $b0 v128) (local $b1 v128)
    (local.set $stride (i32.mul (i32.div_u (i32.add (local.get $rows) (i32.const ${CONV_TILE_ROWS - 1})) (i32.const ${CONV_TILE_ROWS})) (i32.const ${CONV_TILE_ROWS})))
    (local.set $rowBytes (i32.shl (local.get $outChannels) (i32.const 2)))
    (block $blocksDone (loop $blockLoop
      (br_if $blocksDone (i32.ge_u (local.get $c0) (local.get $channels)))
      (local.set $cEnd (select
        (local.get $channels)
        (i32.add (local.get $c0) (local.get $block))
        (i32.gt_u (i32.add (local.get $c0) (local.get $block)) (local.get $channels))))
      (local.set $r (local.get $rowBegin))
      (block $rowsDone (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (local.set $o (i32.const 0))
        (loop $outLoop
          (local.set $yTile (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $outChannels)) (local.get $o)) (i32.const 2))))
          ;; This tile's panel: [taps · channels, ${CONV_TILE_OUT_CHANNELS}], the (o / ${CONV_TILE_OUT_CHANNELS})-th.
          (local.set $panel (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $o) (i32.const 3)) (i32.shl (i32.mul (local.get $taps) (local.get $channels)) (i32.const 5)))))
          ;; The first block starts from the bias (or 0), the others from what y holds.
          (if (i32.eqz (local.get $c0))
            (then
              (local.set $b0 ${zero})
              (local.set $b1 ${zero})
              (if (i32.and (local.get $flags) (i32.const ${CONV_FLAG_BIAS}))
                (then
                  (local.set $b0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
                  (local.set $b1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
              ${perTile((i, j) => `(local.set ${acc(i, j)} (local.get $b${j}))`, '              ')})
            (else
              ${perTile((i, j) => `(local.set ${acc(i, j)} (if (result v128) ${rowValid(i)} (then (v128.load offset=${j * 16} ${yRow(i)})) (else ${zero})))`, '              ')}))
          (local.set $tap (i32.const 0))
          (local.set $channelStart (i32.add (local.get $xBase) (i32.shl (local.get $c0) (i32.const 2))))
          (loop $tapLoop
            (local.set $tapOffsets (i32.add (local.get $offsets) (i32.shl (i32.add (i32.mul (local.get $tap) (local.get $stride)) (local.get $r)) (i32.const 2))))
            ${perRow((i) => `(local.set $p${i} (i32.add (i32.load offset=${i * 4} (local.get $tapOffsets)) (local.get $channelStart)))`, '            ')}
            (local.set $wRow (i32.add (local.get $panel) (i32.shl (i32.add (i32.mul (local.get $tap) (local.get $channels)) (local.get $c0)) (i32.const 5))))
            (local.set $c (local.get $c0))
            (loop $channelLoop
              ${innerStep(fma, '              ')}
              (br_if $channelLoop (i32.lt_u (local.get $c) (local.get $cEnd))))
            (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
            (br_if $tapLoop (i32.lt_u (local.get $tap) (local.get $taps))))
          (if (i32.and (i32.eq (local.get $cEnd) (local.get $channels)) (i32.ne (i32.and (local.get $flags) (i32.const ${CONV_FLAG_RELU})) (i32.const 0)))
            (then
              ${perTile((i, j) => `(local.set ${acc(i, j)} (f32x4.max (local.get ${acc(i, j)}) ${zero}))`, '              ')}))
          ${perRow((i) => `(if ${rowValid(i)} (then ${Array.from({ length: VECTORS }, (_, j) => `(v128.store offset=${j * 16} ${yRow(i)} (local.get ${acc(i, j)}))`).join(' ')}))`, '          ')}
          (local.set $o (i32.add (local.get $o) (i32.const ${CONV_TILE_OUT_CHANNELS})))
          (br_if $outLoop (i32.lt_u (local.get $o) (local.get $outChannels))))
        (local.set $r (i32.add (local.get $r) (i32.const ${CONV_TILE_ROWS})))
        (br $rowLoop)))
      (local.set $c0 (local.get $cEnd))
      (br $blockLoop))))
  ;; Packs weights [k, outChannels] (k = taps · channels) at $from into outChannels / ${CONV_TILE_OUT_CHANNELS}
  ;; panels [k, ${CONV_TILE_OUT_CHANNELS}] at $to, so that a tile reads its weights in order: panels [panelBegin, panelEnd).
  (func (export "pack_weights") (param $from i32) (param $to i32) (param $k i32) (param $outChannels i32) (param $panelBegin i32) (param $panelEnd i32)
    (local $o i32) (local $row i32) (local $src i32) (local $oEnd i32)
    (local.set $o (i32.mul (local.get $panelBegin) (i32.const ${CONV_TILE_OUT_CHANNELS})))
    (local.set $oEnd (i32.mul (local.get $panelEnd) (i32.const ${CONV_TILE_OUT_CHANNELS})))
    (local.set $to (i32.add (local.get $to) (i32.mul (i32.mul (local.get $panelBegin) (local.get $k)) (i32.const ${PANEL_ROW_BYTES}))))
    (block $done (loop $panels
      (br_if $done (i32.ge_u (local.get $o) (local.get $oEnd)))
      (local.set $src (i32.add (local.get $from) (i32.shl (local.get $o) (i32.const 2))))
      (local.set $row (i32.const 0))
      (block $rowsDone (loop $panelRows
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $k)))
        (v128.store (local.get $to) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $src)))
        (local.set $to (i32.add (local.get $to) (i32.const ${PANEL_ROW_BYTES})))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $outChannels) (i32.const 2))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $panelRows)))
      (local.set $o (i32.add (local.get $o) (i32.const ${CONV_TILE_OUT_CHANNELS})))
      (br $panels))))
`;
}

/** i8x16.shuffle's byte indices for these 32-bit lanes (0–3: the first operand's, 4–7: the second's). */
function lanes(...picks: number[]): string {
  return picks.flatMap((lane) => [0, 1, 2, 3].map((byte) => lane * 4 + byte)).join(' ');
}

/** Sets $<out>q to lane q of rows $r<first> … $r<first + 3> (a 4 × 4 transpose), with $p0–$p3 as scratch. */
function transpose4(first: number, out: string, indent: string): string {
  const row = (j: number) => `(local.get $r${first + j})`;
  const pair = (q: number) => `(local.get $p${q})`;
  const shuffle = (picks: number[], a: string, b: string) => `(i8x16.shuffle ${lanes(...picks)} ${a} ${b})`;
  const interleaveLow = [0, 4, 1, 5];
  const interleaveHigh = [2, 6, 3, 7];
  const firstHalves = [0, 1, 4, 5];
  const secondHalves = [2, 3, 6, 7];
  return [
    `(local.set $p0 ${shuffle(interleaveLow, row(0), row(1))})`, // a0 b0 a1 b1
    `(local.set $p1 ${shuffle(interleaveHigh, row(0), row(1))})`, // a2 b2 a3 b3
    `(local.set $p2 ${shuffle(interleaveLow, row(2), row(3))})`, // c0 d0 c1 d1
    `(local.set $p3 ${shuffle(interleaveHigh, row(2), row(3))})`, // c2 d2 c3 d3
    `(local.set $${out}0 ${shuffle(firstHalves, pair(0), pair(2))})`, // a0 b0 c0 d0
    `(local.set $${out}1 ${shuffle(secondHalves, pair(0), pair(2))})`,
    `(local.set $${out}2 ${shuffle(firstHalves, pair(1), pair(3))})`,
    `(local.set $${out}3 ${shuffle(secondHalves, pair(1), pair(3))})`,
  ].join(`\n${indent}`);
}

/** The text of the export `pack_weights_rotated`, described in the comment inside. */
export function packRotatedFunction(): string {
  const indent = '          ';
  const loads = Array.from({ length: 8 }, (_, j) => `(local.set $r${j} (v128.load (i32.add (local.get $src) (i32.mul (i32.const ${j}) (local.get $rowBytes)))))`);
  const stores = Array.from({ length: 4 }, (_, q) => `(v128.store offset=${q * PANEL_ROW_BYTES} (local.get $dst) (local.get $lo${q})) (v128.store offset=${q * PANEL_ROW_BYTES + 16} (local.get $dst) (local.get $hi${q}))`);
  return `
  ;; For an input gradient computed as a convolution: packs the weights of the convolution whose
  ;; input gradient it is, rotated 180° and transposed, straight into this convolution's panels.
  ;; $from holds f [taps, outChannels, channels] (that convolution's filter: its input channels are
  ;; our output channels); panel g, row (t, c) gets f[taps − 1 − t, 8g … 8g + 7, c]. Four channels
  ;; at a time: 8 loads, two 4 × 4 transposes by shuffles, 8 stores (channels a multiple of 4).
  ;; Panels [panelBegin, panelEnd).
  (func (export "pack_weights_rotated") (param $from i32) (param $to i32) (param $taps i32) (param $channels i32) (param $outChannels i32) (param $panelBegin i32) (param $panelEnd i32)
    (local $t i32) (local $g i32) (local $c i32) (local $src i32) (local $dst i32) (local $rowBytes i32) (local $panelBytes i32) (local $gEnd i32)
    ${Array.from({ length: 8 }, (_, j) => `(local $r${j} v128)`).join(' ')}
    ${Array.from({ length: 4 }, (_, q) => `(local $p${q} v128) (local $lo${q} v128) (local $hi${q} v128)`).join(' ')}
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $panelBytes (i32.mul (i32.mul (local.get $taps) (local.get $channels)) (i32.const ${PANEL_ROW_BYTES})))
    (local.set $gEnd (i32.mul (local.get $panelEnd) (i32.const ${CONV_TILE_OUT_CHANNELS})))
    (block $tapsDone (loop $tapLoop
      (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $taps)))
      (local.set $g (i32.mul (local.get $panelBegin) (i32.const ${CONV_TILE_OUT_CHANNELS})))
      (block $panelsDone (loop $panelLoop
        (br_if $panelsDone (i32.ge_u (local.get $g) (local.get $gEnd)))
        ;; f[taps − 1 − t, g, 0], and row (t, 0) of panel g / 8.
        (local.set $src (i32.add (local.get $from) (i32.mul (i32.add (i32.mul (i32.sub (i32.sub (local.get $taps) (i32.const 1)) (local.get $t)) (local.get $outChannels)) (local.get $g)) (local.get $rowBytes))))
        (local.set $dst (i32.add (i32.add (local.get $to) (i32.mul (i32.shr_u (local.get $g) (i32.const 3)) (local.get $panelBytes))) (i32.mul (i32.mul (local.get $t) (local.get $channels)) (i32.const ${PANEL_ROW_BYTES}))))
        (local.set $c (i32.const 0))
        (block $channelsDone (loop $channelLoop
          (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channels)))
          ${loads.join(`\n${indent}`)}
          ${transpose4(0, 'lo', indent)}
          ${transpose4(4, 'hi', indent)}
          ${stores.join(`\n${indent}`)}
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * PANEL_ROW_BYTES})))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $channelLoop)))
        (local.set $g (i32.add (local.get $g) (i32.const ${CONV_TILE_OUT_CHANNELS})))
        (br $panelLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tapLoop))))
`;
}
