// Ranking of class probabilities.

export interface RankedClass {
  index: number;
  probability: number;
}

/** The k largest entries of `probabilities`, largest first (ties keep the lower index first). */
export function topK(probabilities: ArrayLike<number>, k: number): RankedClass[] {
  const ranked: RankedClass[] = [];
  for (let index = 0; index < probabilities.length; index++) {
    const probability = probabilities[index] ?? 0;
    if (ranked.length === k && probability <= ranked[k - 1]!.probability) continue;
    let at = ranked.length;
    while (at > 0 && ranked[at - 1]!.probability < probability) at--;
    ranked.splice(at, 0, { index, probability });
    if (ranked.length > k) ranked.pop();
  }
  return ranked;
}

/** A ranked class with its human-readable name. */
export interface LabelledClass extends RankedClass {
  label: string;
}
