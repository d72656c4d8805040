// The WebAssembly text of our one-pass kernels over whole tensors, the steps of training that are
// not matrix products: ReLU's input gradient, the per-channel sums of the bias and BatchNorm
// gradients, Adam's update, and a folded BatchNorm's per-channel scaling of a weight and its
// gradient. Each is bound by memory, not arithmetic; as JavaScript loops they took 10% of a k=16
// step here (the ReLU mask's branch mispredicts on every other element), as
// SIMD they read and write each element once, four at a time. Ranges are in elements, multiples of
// 4; the caller runs the tail, and splits the range over the kernels' threads.

/** Elements per call's range: a multiple of this (one SIMD vector). */
export const ELEMENTWISE_LANES = 4;

const byteRange = `
    (local.set $at (i32.shl (local.get $begin) (i32.const 2)))
    (local.set $stop (i32.shl (local.get $end) (i32.const 2)))`;

const reluBackprop = `
  ;; dx[i] = y[i] > 0 ? dy[i] : 0 for i in [begin, end): ReLU's input gradient, y its output.
  (func (export "relu_backprop") (param $dy i32) (param $y i32) (param $dx i32) (param $begin i32) (param $end i32)
    (local $at i32) (local $stop i32)${byteRange}
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $at) (local.get $stop)))
      (v128.store (i32.add (local.get $dx) (local.get $at))
        (v128.and
          (v128.load (i32.add (local.get $dy) (local.get $at)))
          (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $at))) (v128.const f32x4 0 0 0 0))))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $loop))))`;

/** Adds `vector` (f32x4: channels c..c+3) to the f64 totals at $total, $total + 16. */
const addToTotals = (vector: string) => `
        (local.set $v ${vector})
        (v128.store (local.get $total) (f64x2.add (v128.load (local.get $total)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $total)
          (f64x2.add (v128.load offset=16 (local.get $total)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))`;

const channelSums = `
  ;; totals[c] += Σ x[r, c] over rows [rowBegin, rowEnd), for x [rows, channels] f32 (channels a
  ;; multiple of 4) and totals [channels] f64: float64, because float32 loses digits over 10⁴+ rows.
  ;; Four rows are added in float32 first: a quarter of the loads and stores of the totals.
  (func (export "channel_sums") (param $x i32) (param $totals i32) (param $channels i32) (param $rowBegin i32) (param $rowEnd i32)
    (local $rowBytes i32) (local $row i32) (local $at i32) (local $stop i32) (local $total i32) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $row (local.get $rowBegin))
    (block $quadsDone (loop $quads
      (br_if $quadsDone (i32.gt_u (i32.add (local.get $row) (i32.const 4)) (local.get $rowEnd)))
      (local.set $at (i32.add (local.get $x) (i32.mul (local.get $row) (local.get $rowBytes))))
      (local.set $stop (i32.add (local.get $at) (local.get $rowBytes)))
      (local.set $total (local.get $totals))
      (block $done (loop $loop
        (br_if $done (i32.ge_u (local.get $at) (local.get $stop)))${addToTotals(`(f32x4.add
          (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $at) (local.get $rowBytes))))
          (f32x4.add
            (v128.load (i32.add (local.get $at) (i32.shl (local.get $rowBytes) (i32.const 1))))
            (v128.load (i32.add (local.get $at) (i32.mul (local.get $rowBytes) (i32.const 3))))))`)}
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $total (i32.add (local.get $total) (i32.const 32)))
        (br $loop)))
      (local.set $row (i32.add (local.get $row) (i32.const 4)))
      (br $quads)))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rowEnd)))
      (local.set $at (i32.add (local.get $x) (i32.mul (local.get $row) (local.get $rowBytes))))
      (local.set $stop (i32.add (local.get $at) (local.get $rowBytes)))
      (local.set $total (local.get $totals))
      (block $done (loop $loop
        (br_if $done (i32.ge_u (local.get $at) (local.get $stop)))${addToTotals('(v128.load (local.get $at))')}
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $total (i32.add (local.get $total) (i32.const 32)))
        (br $loop)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rows))))`;

const splat = (bits: string) => `(f32x4.splat (f32.reinterpret_i32 (local.get ${bits})))`;

const adam = `
  ;; One Adam step over [begin, end), into new tensors (w2, m2, v2):
  ;;   m2 = β1·m + (1 − β1)·g;  v2 = β2·v + (1 − β2)·g²;  w2 = w − rate·m2/(√v2 + ε)
  ;; β1, β2, ε and the bias-corrected rate come as the bits of float32s (the threads pass i32s).
  (func (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $w2 i32) (param $m2 i32) (param $v2 i32)
    (param $begin i32) (param $end i32) (param $beta1Bits i32) (param $beta2Bits i32) (param $epsilonBits i32) (param $rateBits i32)
    (local $at i32) (local $stop i32) (local $beta1 v128) (local $beta2 v128) (local $epsilon v128) (local $rate v128)
    (local $oneMinusBeta1 v128) (local $oneMinusBeta2 v128) (local $grad v128) (local $first v128) (local $second v128)${byteRange}
    (local.set $beta1 ${splat('$beta1Bits')})
    (local.set $beta2 ${splat('$beta2Bits')})
    (local.set $epsilon ${splat('$epsilonBits')})
    (local.set $rate ${splat('$rateBits')})
    (local.set $oneMinusBeta1 (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $beta1)))
    (local.set $oneMinusBeta2 (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $beta2)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $at) (local.get $stop)))
      (local.set $grad (v128.load (i32.add (local.get $g) (local.get $at))))
      (local.set $first (f32x4.add
        (f32x4.mul (local.get $beta1) (v128.load (i32.add (local.get $m) (local.get $at))))
        (f32x4.mul (local.get $oneMinusBeta1) (local.get $grad))))
      (local.set $second (f32x4.add
        (f32x4.mul (local.get $beta2) (v128.load (i32.add (local.get $v) (local.get $at))))
        (f32x4.mul (local.get $oneMinusBeta2) (f32x4.mul (local.get $grad) (local.get $grad)))))
      (v128.store (i32.add (local.get $m2) (local.get $at)) (local.get $first))
      (v128.store (i32.add (local.get $v2) (local.get $at)) (local.get $second))
      (v128.store (i32.add (local.get $w2) (local.get $at))
        (f32x4.sub
          (v128.load (i32.add (local.get $w) (local.get $at)))
          (f32x4.div (f32x4.mul (local.get $rate) (local.get $first)) (f32x4.add (f32x4.sqrt (local.get $second)) (local.get $epsilon)))))
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $loop))))`;

/** Loops $at over the rows [rowBegin, rowEnd) of [rows, channels] f32 data at $x, 4 channels per `body`, $total and $s alongside. */
const perChannelLoop = (body: string) => `
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $at (i32.mul (local.get $rowBegin) (local.get $rowBytes)))
    (local.set $end (i32.mul (local.get $rowEnd) (local.get $rowBytes)))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $at) (local.get $end)))
      (local.set $stop (i32.add (local.get $at) (local.get $rowBytes)))
      (local.set $s (local.get $scale))
      (local.set $total (local.get $totals))
      (block $done (loop $loop
        (br_if $done (i32.ge_u (local.get $at) (local.get $stop)))${body}
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $total (i32.add (local.get $total) (i32.const 32)))
        (br $loop)))
      (br $rows)))`;

const perChannelLocals = '(local $rowBytes i32) (local $at i32) (local $end i32) (local $stop i32) (local $s i32) (local $total i32) (local $v v128)';

const scaleChannels = `
  ;; out[r, c] = x[r, c] · scale[c] over rows [rowBegin, rowEnd) of [rows, channels] (channels a
  ;; multiple of 4): a weight times one factor per output channel (BatchNorm folded in).
  (func (export "scale_channels") (param $x i32) (param $scale i32) (param $out i32) (param $channels i32) (param $rowBegin i32) (param $rowEnd i32)
    (local $totals i32) ${perChannelLocals}${perChannelLoop(`
        (v128.store (i32.add (local.get $out) (local.get $at))
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $at))) (v128.load (local.get $s))))`)})`;

const scaleGradient = `
  ;; The filter gradient G of a folded convolution, back to its own weights: over rows
  ;; [rowBegin, rowEnd) of [rows, channels],
  ;;   out[r, c] = g[r, c] · scale[c]     totals[c] += w[r, c] · g[r, c]  (f64: the γ gradient's Σ_k W·G)
  (func (export "scale_gradient") (param $g i32) (param $w i32) (param $scale i32) (param $out i32) (param $totals i32)
    (param $channels i32) (param $rowBegin i32) (param $rowEnd i32)
    ${perChannelLocals} (local $grad v128)${perChannelLoop(`
        (local.set $grad (v128.load (i32.add (local.get $g) (local.get $at))))
        (v128.store (i32.add (local.get $out) (local.get $at)) (f32x4.mul (local.get $grad) (v128.load (local.get $s))))${addToTotals('(f32x4.mul (local.get $grad) (v128.load (i32.add (local.get $w) (local.get $at))))')}`)})`;

/** The text of the exports `relu_backprop`, `channel_sums`, `adam`, `scale_channels` and `scale_gradient`. */
export function elementwiseFunctions(): string {
  return `${reluBackprop}${channelSums}${adam}${scaleChannels}${scaleGradient}`;
}
