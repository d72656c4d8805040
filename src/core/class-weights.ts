// Class weighting for imbalanced data sets: balanced weights make every class contribute to the
// loss as if the classes were equally frequent.

export type ClassWeighting = 'off' | 'balanced';

/** Images per class, from integer labels in 0..numClasses-1. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]! += 1;
  return counts;
}

/**
 * Per-class weights: all 1 when off; `n / (C · n_c)` when balanced (scikit-learn's and Keras'
 * "balanced"), over the training split. A class with no training image gets weight 0: it cannot
 * appear in a training batch anyway.
 */
export function classWeights(counts: readonly number[], weighting: ClassWeighting): number[] {
  if (weighting === 'off') return counts.map(() => 1);
  const total = counts.reduce((a, b) => a + b, 0);
  // C counts the classes the training split has, so the weights of its images average to 1.
  const present = counts.filter((n) => n > 0).length;
  return counts.map((n) => (n > 0 ? total / (present * n) : 0));
}
