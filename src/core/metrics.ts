// Classification metrics from a confusion matrix: accuracy, per-class precision / recall / F1,
// macro-F1. Pure numbers, so the engine, the UI and the diagnostics all agree.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Images of this class (row total). */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[actual][predicted] = count. */
  confusion: number[][];
  count: number;
}

export function emptyConfusion(numClasses: number): number[][] {
  return Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
}

export function addToConfusion(confusion: number[][], actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
  for (let i = 0; i < actual.length; i++) confusion[actual[i]!]![predicted[i]!]! += 1;
}

/**
 * Metrics of a confusion matrix. Precision of a class never predicted, and recall of a class
 * with no images, are 0 (scikit-learn's `zero_division=0`); macro-F1 averages over the classes
 * that have images.
 */
export function metricsFromConfusion(confusion: number[][]): ClassificationMetrics {
  const n = confusion.length;
  let correct = 0;
  let count = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < n; c++) {
    const row = confusion[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < n; r++) predicted += confusion[r]![c]!;
    const tp = row[c]!;
    correct += tp;
    count += support;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
  }
  const withImages = perClass.filter((m) => m.support > 0);
  return {
    accuracy: count > 0 ? correct / count : 0,
    macroF1: withImages.length > 0 ? withImages.reduce((a, m) => a + m.f1, 0) / withImages.length : 0,
    perClass,
    confusion,
    count,
  };
}

/** Accuracy of always predicting the most frequent class: the floor a model must beat. */
export function majorityBaseline(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 0 ? Math.max(...counts) / total : 0;
}
