// The WebAssembly text of the Winograd convolution F(2×2, 3×3) (Lavin & Gray, 2015): a 3×3
// stride-1 convolution in 16 matrix products of a quarter of the output positions each, 2.25×
// fewer multiply-adds than the direct one. Every 2×2 block of output positions (a tile) is computed
// from the 4×4 input window under it:
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
// g a filter's 3×3 taps, d the window, ⊙ per element. Over channels the ⊙ becomes, for each of
// the 16 elements ξ of the 4×4 transformed tile, a matrix product M_ξ = V_ξ · U_ξ ([tiles,
// channels] · [channels, outChannels]), which our convolution kernel computes as a 1×1 convolution
// (conv-wat.ts). Bᵀ, G and Aᵀ hold 0, ±1 and ±½ only, so the transforms are additions (and halvings,
// which are exact) four channels at a time. ResNet50's 3×3 convolutions are all stride 1 with
// 'same' padding, and so are their input gradients (wasm-conv2d-gradients.ts).
//
// The filter gradient is the gradient of this form: dU_ξ = Σ_tiles V_ξᵀ · D_ξ with D = A dY Aᵀ,
// one matrix product per ξ on our filter-gradient kernel (filter-gradient-wat.ts), then
// dW = Gᵀ dU G. Since the form is exact, so is its gradient.
//
// A call works through its tiles a chunk at a time, so that the chunk's transformed input V and
// products M (or D) stay in cache between the transform that writes them and the one that reads them.

import { CONV_FLAG_BIAS, CONV_FLAG_RELU } from './conv-wat';

/** The 4 × 4 transformed tile's elements, ξ = 4i + j. */
const ELEMENTS = 16;

const get = (name: string) => `(local.get $${name})`;
const add = (a: string, b: string) => `(f32x4.add ${a} ${b})`;
const sub = (a: string, b: string) => `(f32x4.sub ${a} ${b})`;
const half = (a: string) => `(f32x4.mul ${a} (v128.const f32x4 0.5 0.5 0.5 0.5))`;
const locals = (names: string[], type: string) => names.map((name) => `(local $${name} ${type})`).join(' ');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** G·(g0, g1, g2): the filter transform along one axis. */
const filterTransform = (g: [string, string, string]): string[] => [g[0], half(add(add(g[0], g[1]), g[2])), half(add(sub(g[0], g[1]), g[2])), g[2]];
/** Bᵀ·(d0 … d3): the input transform along one axis. */
const inputTransform = (d: string[]): string[] => [sub(d[0]!, d[2]!), add(d[1]!, d[2]!), sub(d[2]!, d[1]!), sub(d[1]!, d[3]!)];
/** Aᵀ·(m0 … m3): the output transform along one axis. */
const outputTransform = (m: string[]): string[] => [add(add(m[0]!, m[1]!), m[2]!), sub(sub(m[1]!, m[2]!), m[3]!)];

function weightsFunction(): string {
  const taps = range(9).map((t) => `g${t}`);
  const rows = range(4).flatMap((i) => range(3).map((j) => `t${i}${j}`));
  const indent = '\n          ';
  const body: string[] = [];
  for (let t = 0; t < 9; t++) body.push(`(local.set $g${t} (v128.load offset=$HALF (i32.add (local.get $src) (i32.mul (i32.const ${t}) (local.get $plane)))))`);
  // Along the filter's rows (i), for each of its columns j: T = G g, 4 × 3.
  for (let j = 0; j < 3; j++) {
    const column = filterTransform([get(`g${j}`), get(`g${3 + j}`), get(`g${6 + j}`)]);
    column.forEach((value, i) => body.push(`(local.set $t${i}${j} ${value})`));
  }
  // Along its columns: U = T Gᵀ, 4 × 4, stored as element ξ = 4i + j's panel row.
  for (let i = 0; i < 4; i++) {
    const row = filterTransform([get(`t${i}0`), get(`t${i}1`), get(`t${i}2`)]);
    row.forEach((value, j) => body.push(`(v128.store offset=$HALF (i32.add (local.get $dst) (i32.mul (i32.const ${4 * i + j}) (local.get $plane))) ${value})`));
  }
  const halves = [0, 16].map((offset) => body.join(indent).replaceAll('$HALF', String(offset))).join(indent);
  return `
  ;; The filter transform U_ξ = (G g Gᵀ)_ξ for panels [panelBegin, panelEnd) of 8 output channels.
  ;; $from holds the 9 taps' weights and $to gets the 16 products' weights, each plane (a tap, or
  ;; an element ξ) packed as the convolution packs them (conv-wat.ts: outChannels / 8 panels
  ;; [channels, 8]), the planes $plane bytes apart. A plane of channels · outChannels floats plus
  ;; a cache line: planes a multiple of 4 KB apart put the 9 lines a step reads, and the 16 it
  ;; writes, in one L1 set (measured in Node, 512 → 512: 5–6 ms with the taps' planes 1 MB apart,
  ;; 0.7–0.9 ms with them a line off).
  (func (export "winograd_weights") (param $from i32) (param $to i32) (param $channels i32) (param $plane i32) (param $panelBegin i32) (param $panelEnd i32)
    (local $g i32) (local $c i32) (local $src i32) (local $dst i32) (local $panelBytes i32)
    ${locals(taps, 'v128')}
    ${locals(rows, 'v128')}
    (local.set $panelBytes (i32.shl (local.get $channels) (i32.const 5)))
    (local.set $g (local.get $panelBegin))
    (block $panelsDone (loop $panelLoop
      (br_if $panelsDone (i32.ge_u (local.get $g) (local.get $panelEnd)))
      (local.set $src (i32.add (local.get $from) (i32.mul (local.get $g) (local.get $panelBytes))))
      (local.set $dst (i32.add (local.get $to) (i32.mul (local.get $g) (local.get $panelBytes))))
      (local.set $c (i32.const 0))
      (block $channelsDone (loop $channelLoop
        (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channels)))
          ${halves}
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channelLoop)))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $panelLoop))))`;
}

/** The input transform, shared by the convolution and its filter gradient: the text of `$winograd_inputs`. */
function inputsFunction(): string {
  const indent = '\n          ';
  // Four channels of one tile: V = Bᵀ d B, d read through the window's 16 pixel addresses, a
  // column of the window at a time (each d loaded twice: it keeps 8 values live, where all 16 at
  // once would not fit the registers).
  const window = (i: number, j: number) => `(v128.load (i32.add (i32.load offset=${(4 * i + j) * 4} (local.get $pixels)) (local.get $channelBytes)))`;
  const body: string[] = [];
  for (let j = 0; j < 4; j++) {
    // Column j of d B: Bᵀ applied along the window's columns, for each of its rows i.
    const columnOf = (i: number) => inputTransform(range(4).map((k) => window(i, k)))[j]!;
    range(4).forEach((i) => body.push(`(local.set $r${i} ${columnOf(i)})`));
    inputTransform(range(4).map((i) => get(`r${i}`))).forEach((value, i) => {
      body.push(`(v128.store (i32.add (local.get $vAt) (i32.mul (i32.const ${4 * i + j}) (local.get $vPlane))) ${value})`);
    });
  }
  return `
  ;; V_ξ = (Bᵀ d B)_ξ for tiles [first, first + count) and the channels at bytes [byteBegin, byteEnd)
  ;; of a pixel: tile first + t's goes to row t of the 16 planes of [chunk, channels] at $v, $vPlane
  ;; bytes apart. pixelTable as winograd_conv's.
  (func $winograd_inputs (param $pixelTable i32) (param $v i32) (param $vPlane i32) (param $rowBytes i32) (param $first i32) (param $count i32) (param $byteBegin i32) (param $byteEnd i32)
    (local $t i32) (local $pixels i32) (local $vAt i32) (local $channelBytes i32) ${locals(range(4).map((i) => `r${i}`), 'v128')}
    (block $tilesDone (loop $tileLoop
      (br_if $tilesDone (i32.ge_u (local.get $t) (local.get $count)))
      (local.set $pixels (i32.add (local.get $pixelTable) (i32.shl (i32.add (local.get $first) (local.get $t)) (i32.const 6))))
      (local.set $vAt (i32.add (i32.add (local.get $v) (i32.mul (local.get $t) (local.get $rowBytes))) (local.get $byteBegin)))
      (local.set $channelBytes (local.get $byteBegin))
      (block $channelsDone (loop $channelLoop
        (br_if $channelsDone (i32.ge_u (local.get $channelBytes) (local.get $byteEnd)))
          ${body.join(indent)}
        (local.set $vAt (i32.add (local.get $vAt) (i32.const 16)))
        (local.set $channelBytes (i32.add (local.get $channelBytes) (i32.const 16)))
        (br $channelLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tileLoop))))`;
}

/** `(local.set $count …)`: the tiles of the chunk from $first, at most $chunk, up to $end. */
const chunkCount = (end: string) => `(local.set $count (select
        (local.get $chunk)
        (i32.sub ${end} (local.get $first))
        (i32.lt_u (local.get $chunk) (i32.sub ${end} (local.get $first)))))`;

/** A plane's bytes: $chunk rows of `rowBytes`, and a cache line more, for the reason winograd_weights gives. */
const planeOf = (rowBytes: string) => `(i32.add (i32.mul (local.get $chunk) ${rowBytes}) (i32.const 64))`;

/**
 * A loop over the chunk's tiles ($t from 0 to $count) and, in each, over outChannels four at a
 * time ($channelBytes): $<tile> gets the tile's row of `table` (4 addresses), $<at> its row of the
 * 16 planes at $<planes>, advanced with the channels, for `body` to read or write.
 */
function overTilesAndOutChannels(table: string, tile: string, planes: string, at: string, body: string): string {
  return `(local.set $t (i32.const 0))
      (block $tilesDone (loop $tileLoop
        (br_if $tilesDone (i32.ge_u (local.get $t) (local.get $count)))
        (local.set ${tile} (i32.add (local.get ${table}) (i32.shl (i32.add (local.get $first) (local.get $t)) (i32.const 4))))
        (local.set ${at} (i32.add (local.get ${planes}) (i32.mul (local.get $t) (local.get $outRowBytes))))
        (local.set $channelBytes (i32.const 0))
        (block $outChannelsDone (loop $outChannelLoop
          (br_if $outChannelsDone (i32.ge_u (local.get $channelBytes) (local.get $outRowBytes)))
            ${body}
          (local.set ${at} (i32.add (local.get ${at}) (i32.const 16)))
          (local.set $channelBytes (i32.add (local.get $channelBytes) (i32.const 16)))
          (br $outChannelLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tileLoop)))`;
}

function convFunction(): string {
  const indent = '\n            ';
  // The output transform of four output channels of one tile: Y = Aᵀ M A, then bias and relu.
  const product = (i: number, j: number) => `(v128.load (i32.add (local.get $mAt) (i32.mul (i32.const ${4 * i + j}) (local.get $mPlane))))`;
  const outputBody: string[] = [];
  for (let i = 0; i < 4; i++) {
    outputTransform(range(4).map((j) => product(i, j))).forEach((value, j) => outputBody.push(`(local.set $s${i}${j} ${value})`));
  }
  for (let j = 0; j < 2; j++) {
    outputTransform(range(4).map((i) => get(`s${i}${j}`))).forEach((value, i) => {
      const address = `(i32.add (i32.load offset=${(2 * i + j) * 4} (local.get $outputs)) (local.get $channelBytes))`;
      outputBody.push(`(local.set $y (f32x4.add ${value} (local.get $b)))`);
      outputBody.push(`(if (local.get $relu) (then (local.set $y (f32x4.max (local.get $y) (v128.const f32x4 0 0 0 0)))))`);
      outputBody.push(`(v128.store ${address} (local.get $y))`);
    });
  }
  const sums = range(4).flatMap((i) => range(2).map((j) => `s${i}${j}`));
  return `
  ;; y = x ⊛ g (+ bias) (then relu, by flags as the convolution's), 3×3 stride 1, for tiles
  ;; [tileBegin, tileEnd) of 2 × 2 output positions, $chunk tiles at a time (a multiple of 4):
  ;;   pixels  [tiles, 16] i32: the byte addresses of x's pixels (rows of channels floats) in each
  ;;           tile's 4 × 4 input window, row by row, a zero row in the padding
  ;;   outputs [tiles, 4] i32: where y's pixels of each tile go (rows of outChannels floats), a
  ;;           scratch row where they fall past the output's edge
  ;;   u       the 16 products' weights, as winograd_weights leaves them, $uPlane bytes apart
  ;;   v, m    this thread's scratch: 16 planes of [chunk, channels] and of [chunk, outChannels] f32,
  ;;           each plane followed by 64 bytes of slack
  ;;   rows    [chunk] i32: r · channels · 4 for each r (the products' row table, relative to v)
  ;; channels a multiple of 4, outChannels of 8.
  (func (export "winograd_conv")
    (param $pixelTable i32) (param $outputTable i32) (param $u i32) (param $uPlane i32) (param $bias i32) (param $v i32) (param $m i32) (param $rows i32)
    (param $channels i32) (param $outChannels i32) (param $tileBegin i32) (param $tileEnd i32) (param $chunk i32) (param $flags i32)
    (local $first i32) (local $count i32) (local $t i32) (local $xi i32) (local $outputs i32)
    (local $channelBytes i32) (local $rowBytes i32) (local $outRowBytes i32) (local $vPlane i32) (local $mPlane i32)
    (local $mAt i32) (local $relu i32)
    ${locals(sums, 'v128')} (local $b v128) (local $y v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $outRowBytes (i32.shl (local.get $outChannels) (i32.const 2)))
    (local.set $vPlane ${planeOf('(local.get $rowBytes)')})
    (local.set $mPlane ${planeOf('(local.get $outRowBytes)')})
    (local.set $relu (i32.and (local.get $flags) (i32.const ${CONV_FLAG_RELU})))
    (local.set $first (local.get $tileBegin))
    (block $chunksDone (loop $chunkLoop
      (br_if $chunksDone (i32.ge_u (local.get $first) (local.get $tileEnd)))
      ${chunkCount('(local.get $tileEnd)')}
      (call $winograd_inputs (local.get $pixelTable) (local.get $v) (local.get $vPlane) (local.get $rowBytes) (local.get $first) (local.get $count) (i32.const 0) (local.get $rowBytes))
      ;; M_ξ = V_ξ · U_ξ: a 1×1 convolution of the chunk's count rows.
      (local.set $xi (i32.const 0))
      (loop $productLoop
        (call $conv (local.get $rows) (i32.add (local.get $u) (i32.mul (local.get $xi) (local.get $uPlane))) (i32.const 0)
          (i32.add (local.get $m) (i32.mul (local.get $xi) (local.get $mPlane))) (local.get $count) (local.get $channels)
          (local.get $outChannels) (i32.const 1) (local.get $channels) (i32.const 0) (local.get $count) (i32.const 0)
          (i32.add (local.get $v) (i32.mul (local.get $xi) (local.get $vPlane))))
        (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
        (br_if $productLoop (i32.lt_u (local.get $xi) (i32.const ${ELEMENTS}))))
      ;; y = Aᵀ M A (+ bias) (relu) for the chunk's tiles.
      ${overTilesAndOutChannels('$outputTable', '$outputs', '$m', '$mAt', `(local.set $b (if (result v128) (i32.and (local.get $flags) (i32.const ${CONV_FLAG_BIAS}))
            (then (v128.load (i32.add (local.get $bias) (local.get $channelBytes))))
            (else (v128.const f32x4 0 0 0 0))))
            ${outputBody.join(indent)}`)}
      (local.set $first (i32.add (local.get $first) (local.get $count)))
      (br $chunkLoop))))`;
}

/** A·(a, b) = (a, a + b, a − b, −b): the transform of the output gradient along one axis (the output transform's transpose). */
const gradientTransform = (y: [string, string]): string[] => [y[0], add(y[0], y[1]), sub(y[0], y[1]), `(f32x4.neg ${y[1]})`];
/** Gᵀ·(u0 … u3): the filter transform's transpose along one axis. */
const filterGradientTransform = (u: string[]): string[] => {
  const halfSum = half(add(u[1]!, u[2]!));
  return [add(u[0]!, halfSum), half(sub(u[1]!, u[2]!)), add(halfSum, u[3]!)];
};

function filterGradientFunctions(): string {
  const indent = '\n            ';
  // Four output channels of one tile: D = A dY Aᵀ, dY the tile's 2 × 2 output gradient.
  const dy = (i: number, j: number) => `(v128.load (i32.add (i32.load offset=${(2 * i + j) * 4} (local.get $gradients)) (local.get $channelBytes)))`;
  const dyBody: string[] = [];
  for (let i = 0; i < 2; i++) gradientTransform([dy(i, 0), dy(i, 1)]).forEach((value, j) => dyBody.push(`(local.set $e${i}${j} ${value})`));
  for (let j = 0; j < 4; j++) {
    gradientTransform([get(`e0${j}`), get(`e1${j}`)]).forEach((value, i) => {
      dyBody.push(`(v128.store (i32.add (local.get $dAt) (i32.mul (i32.const ${4 * i + j}) (local.get $dPlane))) ${value})`);
    });
  }
  const rows = range(2).flatMap((i) => range(4).map((j) => `e${i}${j}`));
  // Four output channels of one input channel: dW = Gᵀ dU G, 3 × 3 taps from the 16 planes of dU.
  const du = (i: number, j: number) => `(v128.load (i32.add (local.get $duAt) (i32.mul (i32.const ${4 * i + j}) (local.get $uPlane))))`;
  const outputBody: string[] = [];
  for (let i = 0; i < 4; i++) filterGradientTransform(range(4).map((j) => du(i, j))).forEach((value, j) => outputBody.push(`(local.set $h${i}${j} ${value})`));
  for (let j = 0; j < 3; j++) {
    filterGradientTransform(range(4).map((i) => get(`h${i}${j}`))).forEach((value, i) => {
      outputBody.push(`(v128.store (i32.add (local.get $dwAt) (i32.mul (i32.const ${3 * i + j}) (local.get $tapBytes))) ${value})`);
    });
  }
  const partials = range(4).flatMap((i) => range(3).map((j) => `h${i}${j}`));
  return `
  ;; The filter gradient of winograd_conv's convolution: dU_ξ += V_ξᵀ · D_ξ over all tiles, for the
  ;; input channels [channelBegin, channelEnd) (multiples of 4), $chunk tiles at a time, where D =
  ;; A dY Aᵀ is the tiles' output gradient carried back through the output transform. So dU is the
  ;; gradient of the products' weights U; winograd_filter_output makes it the filter's.
  ;;   pixels     as winograd_conv's
  ;;   gradients  [tiles, 4] i32: the addresses of dy's pixels of each tile (rows of outChannels
  ;;              floats), a zero row past the output's edge
  ;;   du         16 planes of [channels, outChannels] f32, $uPlane bytes apart, zeroed by the caller
  ;;   v, d       this thread's scratch: 16 planes of [chunk, channels] and of [chunk, outChannels],
  ;;              each followed by 64 bytes of slack
  ;;   rows       [chunk] i32: r · channels · 4 for each r
  ;;   block      tiles per cache block of the products; blockScratch: filter_gradient_copied's scratch,
  ;;              or 0 for filter_gradient
  (func (export "winograd_filter_gradient")
    (param $pixelTable i32) (param $gradientTable i32) (param $du i32) (param $uPlane i32) (param $v i32) (param $d i32) (param $rows i32)
    (param $channels i32) (param $outChannels i32) (param $tiles i32) (param $channelBegin i32) (param $channelEnd i32) (param $chunk i32) (param $block i32)
    (param $blockScratch i32)
    (local $first i32) (local $count i32) (local $t i32) (local $xi i32) (local $gradients i32) (local $channelBytes i32)
    (local $rowBytes i32) (local $outRowBytes i32) (local $vPlane i32) (local $dPlane i32) (local $dAt i32)
    ${locals(rows, 'v128')}
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $outRowBytes (i32.shl (local.get $outChannels) (i32.const 2)))
    (local.set $vPlane ${planeOf('(local.get $rowBytes)')})
    (local.set $dPlane ${planeOf('(local.get $outRowBytes)')})
    (block $chunksDone (loop $chunkLoop
      (br_if $chunksDone (i32.ge_u (local.get $first) (local.get $tiles)))
      ${chunkCount('(local.get $tiles)')}
      (call $winograd_inputs (local.get $pixelTable) (local.get $v) (local.get $vPlane) (local.get $rowBytes) (local.get $first) (local.get $count)
        (i32.shl (local.get $channelBegin) (i32.const 2)) (i32.shl (local.get $channelEnd) (i32.const 2)))
      ;; D_ξ = (A dY Aᵀ)_ξ for the chunk's tiles, every output channel.
      ${overTilesAndOutChannels('$gradientTable', '$gradients', '$d', '$dAt', dyBody.join(indent))}
      ;; dU_ξ += V_ξᵀ · D_ξ over the chunk's count rows.
      (local.set $xi (i32.const 0))
      (loop $productLoop
        (if (local.get $blockScratch)
          (then (call $filter_gradient_copied (local.get $rows) (i32.add (local.get $d) (i32.mul (local.get $xi) (local.get $dPlane)))
            (i32.add (local.get $du) (i32.mul (local.get $xi) (local.get $uPlane))) (local.get $count) (local.get $channels) (local.get $outChannels)
            (i32.const 1) (local.get $channelBegin) (local.get $channelEnd) (local.get $block) (i32.add (local.get $v) (i32.mul (local.get $xi) (local.get $vPlane)))
            (local.get $blockScratch)))
          (else (call $filter_gradient (local.get $rows) (i32.add (local.get $d) (i32.mul (local.get $xi) (local.get $dPlane)))
            (i32.add (local.get $du) (i32.mul (local.get $xi) (local.get $uPlane))) (local.get $count) (local.get $channels) (local.get $outChannels)
            (i32.const 1) (local.get $channelBegin) (local.get $channelEnd) (local.get $block) (i32.add (local.get $v) (i32.mul (local.get $xi) (local.get $vPlane))))))
        (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
        (br_if $productLoop (i32.lt_u (local.get $xi) (i32.const ${ELEMENTS}))))
      (local.set $first (i32.add (local.get $first) (local.get $count)))
      (br $chunkLoop))))
  ;; dW = Gᵀ dU G for the input channels [channelBegin, channelEnd): from winograd_filter_gradient's
  ;; dU (16 planes, $uPlane bytes apart) to the filter's gradient [3, 3, channels, outChannels] at $dw.
  (func (export "winograd_filter_output") (param $du i32) (param $uPlane i32) (param $dw i32) (param $channels i32) (param $outChannels i32) (param $channelBegin i32) (param $channelEnd i32)
    (local $duAt i32) (local $dwAt i32) (local $end i32) (local $tapBytes i32)
    ${locals(partials, 'v128')}
    (local.set $tapBytes (i32.shl (i32.mul (local.get $channels) (local.get $outChannels)) (i32.const 2)))
    (local.set $duAt (i32.add (local.get $du) (i32.shl (i32.mul (local.get $channelBegin) (local.get $outChannels)) (i32.const 2))))
    (local.set $dwAt (i32.add (local.get $dw) (i32.shl (i32.mul (local.get $channelBegin) (local.get $outChannels)) (i32.const 2))))
    (local.set $end (i32.add (local.get $dw) (i32.shl (i32.mul (local.get $channelEnd) (local.get $outChannels)) (i32.const 2))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $dwAt) (local.get $end)))
        ${outputBody.join('\n        ')}
      (local.set $duAt (i32.add (local.get $duAt) (i32.const 16)))
      (local.set $dwAt (i32.add (local.get $dwAt) (i32.const 16)))
      (br $loop))))`;
}

/**
 * The text of the exports winograd_weights, winograd_conv, winograd_filter_gradient and
 * winograd_filter_output; the products call the module's `$conv` and `$filter_gradient`.
 */
export function winogradFunctions(): string {
  return `${weightsFunction()}\n${inputsFunction()}\n${convFunction()}\n${filterGradientFunctions()}\n`;
}
