// What the step chart draws: at most `maxPoints` points however long the run, each the mean of
// its bucket (the store keeps every step).

export interface SeriesPoint {
  step: number;
  loss: number;
  smoothed: number;
}

/** Exponential moving average of the losses, then bucket means down to `maxPoints`. */
export function stepSeries(losses: readonly { step: number; loss: number }[], maxPoints = 400, smoothing = 0.9): SeriesPoint[] {
  const full: SeriesPoint[] = [];
  let ema: number | null = null;
  for (const { step, loss } of losses) {
    if (!Number.isFinite(loss)) continue;
    ema = ema === null ? loss : smoothing * ema + (1 - smoothing) * loss;
    full.push({ step, loss, smoothed: ema });
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
