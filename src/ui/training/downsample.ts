// What the step chart draws: at most `maxPoints` points however long the run, each the mean of
// its bucket (the store keeps every step).

export interface SeriesPoint {
  step: number;
  loss: number;
  smoothed: number;
}

/** TensorBoard's default smoothing weight. */
export const DEFAULT_SMOOTHING = 0.6;
/** The slider's top: 0.999 averages over ~1,000 steps. */
export const MAX_SMOOTHING = 0.999;

/**
 * TensorBoard's smoothing, then bucket means down to `maxPoints`: an exponential moving average
 * with weight `smoothing` (0: the raw losses), divided by 1 − smoothing^n after n points. Without
 * that debiasing the average starts at 0 (or, started at the first loss, drags it along: a fixed
 * 0.9 showed 0.45 where the losses were ≈ 0).
 */
export function stepSeries(losses: readonly { step: number; loss: number }[], maxPoints = 400, smoothing = DEFAULT_SMOOTHING): SeriesPoint[] {
  const full: SeriesPoint[] = [];
  let accumulated = 0;
  let count = 0;
  for (const { step, loss } of losses) {
    if (!Number.isFinite(loss)) continue;
    accumulated = accumulated * smoothing + (1 - smoothing) * loss;
    count += 1;
    const debias = smoothing === 1 ? 1 : 1 - smoothing ** count;
    full.push({ step, loss, smoothed: accumulated / debias });
  }
  if (full.length <= maxPoints) return full;
  const bucket = Math.ceil(full.length / maxPoints);
  const out: SeriesPoint[] = [];
  for (let i = 0; i < full.length; i += bucket) {
    const slice = full.slice(i, i + bucket);
    out.push({
      step: slice[slice.length - 1]!.step,
      loss: slice.reduce((a, p) => a + p.loss, 0) / slice.length,
      smoothed: slice[slice.length - 1]!.smoothed,
    });
  }
  return out;
}
