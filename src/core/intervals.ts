// Confidence intervals for a share measured on few images (a class's recall, an accuracy), where
// the textbook p ± z·√(p(1−p)/n) collapses to a single point at 0% and 100%.

/** Two-sided 95% quantile of the standard normal, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval (Wilson 1927) for `successes` out of `trials`: the proportions p whose
 * normal test |p̂ − p| ≤ z·√(p(1−p)/n) does not reject. Unlike the textbook interval it stays
 * inside [0, 1] and has width at 0/n and n/n. No trials: [0, 1], nothing is known.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval {
  if (!(trials > 0)) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
