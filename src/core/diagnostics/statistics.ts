// Small statistics the diagnostic rules share, and the per-channel statistics of preprocessed
// batches that the data path computes for them (mergeable, so batches can be streamed).

export function mean(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Median, robust to the odd noisy batch; NaN for no values. */
/** Standard error of the mean: the sample standard deviation (n − 1) over √n; Infinity (nothing can be told) below two values. */
export function standardErrorOfMean(values: readonly number[]): number {
  if (values.length < 2) return Infinity;
  const m = mean(values);
  const variance = values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summary of one input channel over every pixel of a sample (population statistics). */
export interface ChannelStatistics {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Running moments of one channel: what two batches need to merge exactly. */
export interface ChannelMoments {
  count: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  min: number;
  max: number;
}

/**
 * Moments of each channel of channels-last pixels ([n, h, w, channels] flattened). Two passes
 * (mean, then deviations) because `E[x²] − E[x]²` cancels catastrophically for inputs like
 * x/255-then-caffe, whose mean is ~−110 and whose std is ~0.2.
 */
export function channelMoments(pixels: ArrayLike<number>, channels = 3): ChannelMoments[] {
  const count = Math.floor(pixels.length / channels);
  return Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = c; i < count * channels; i += channels) {
      const v = pixels[i]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const channelMean = count > 0 ? sum / count : NaN;
    let m2 = 0;
    for (let i = c; i < count * channels; i += channels) m2 += (pixels[i]! - channelMean) ** 2;
    return { count, mean: channelMean, m2, min, max };
  });
}

/** Moments of two samples together (Chan, Golub & LeVeque's pairwise update). */
export function mergeChannelMoments(a: readonly ChannelMoments[], b: readonly ChannelMoments[]): ChannelMoments[] {
  return a.map((x, c) => {
    const y = b[c]!;
    if (x.count === 0) return { ...y };
    if (y.count === 0) return { ...x };
    const count = x.count + y.count;
    const delta = y.mean - x.mean;
    return {
      count,
      mean: x.mean + (delta * y.count) / count,
      m2: x.m2 + y.m2 + (delta * delta * x.count * y.count) / count,
      min: Math.min(x.min, y.min),
      max: Math.max(x.max, y.max),
    };
  });
}

export function toChannelStatistics(moments: readonly ChannelMoments[]): ChannelStatistics[] {
  return moments.map((m) => ({ mean: m.mean, std: m.count > 0 ? Math.sqrt(m.m2 / m.count) : NaN, min: m.min, max: m.max }));
}

/**
 * Shannon entropy of a probability vector divided by ln(K), so 0 = certain and 1 = uniform over
 * all K classes whatever K is (0 · ln 0 counts as 0).
 */
export function normalizedEntropy(probabilities: ArrayLike<number>): number {
  const k = probabilities.length;
  if (k < 2) return 0;
  let entropy = 0;
  for (let i = 0; i < k; i++) {
    const p = probabilities[i]!;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return entropy / Math.log(k);
}

/** At most `maxPoints` evenly spaced points of a series, always keeping the last one. */
export function thinSeries<T>(points: readonly T[], maxPoints: number): T[] {
  if (points.length <= maxPoints) return [...points];
  const stride = (points.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, i) => points[Math.round(i * stride)]!);
}
