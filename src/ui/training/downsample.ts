// What the step chart draws: at most `maxPoints` points however long the run, each the mean of
// its bucket (the store keeps every step), and the smoothed loss of every step for its CSV.

export interface SeriesPoint {
  /** The bucket's last step. */
  step: number;
  /** The bucket's first step (`step` itself when the point is one step). */
  from: number;
  loss: number;
  smoothed: number;
}

/** TensorBoard's default smoothing weight. */
export const DEFAULT_SMOOTHING = 0.6;
/** The slider's top: 0.999 averages over ~1,000 steps. */
export const MAX_SMOOTHING = 0.999;

/**
 * TensorBoard's smoothing of every loss, in input order: an exponential moving average with
 * weight `smoothing` (0: the raw losses), divided by 1 − smoothing^n after n finite losses. Without
 * that debiasing the average starts at 0 (or, started at the first loss, drags it along: a fixed
 * 0.9 showed 0.45 where the losses were ≈ 0). A failed step (NaN, ±Infinity) is skipped: null.
 */
export function smoothLosses(losses: readonly number[], smoothing = DEFAULT_SMOOTHING): (number | null)[] {
  let accumulated = 0;
  let count = 0;
  return losses.map((loss) => {
    if (!Number.isFinite(loss)) return null;
    accumulated = accumulated * smoothing + (1 - smoothing) * loss;
    count += 1;
    const debias = smoothing === 1 ? 1 : 1 - smoothing ** count;
    return accumulated / debias;
  });
}

/** The smoothed losses (smoothLosses), then bucket means down to `maxPoints`, failed steps left out. */
export function stepSeries(losses: readonly { step: number; loss: number }[], maxPoints = 400, smoothing = DEFAULT_SMOOTHING): SeriesPoint[] {
  const smoothed = smoothLosses(
    losses.map((s) => s.loss),
    smoothing,
  );
  const full: SeriesPoint[] = [];
  losses.forEach(({ step, loss }, i) => {
    const value = smoothed[i];
    if (value !== null && value !== undefined) full.push({ step, from: step, loss, smoothed: value });
  });
  if (full.length <= maxPoints) return full;
  const bucket = Math.ceil(full.length / maxPoints);
  const out: SeriesPoint[] = [];
  for (let i = 0; i < full.length; i += bucket) {
    const slice = full.slice(i, i + bucket);
    out.push({
      step: slice[slice.length - 1]!.step,
      from: slice[0]!.step,
      loss: slice.reduce((a, p) => a + p.loss, 0) / slice.length,
      smoothed: slice[slice.length - 1]!.smoothed,
    });
  }
  return out;
}
