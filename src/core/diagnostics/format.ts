// How numbers read in findings: a few significant digits, percentages for shares and probabilities.

/** Three significant digits, no exponent for everyday magnitudes ('0.0001', '-103', '1.39'). */
export function formatNumber(value: number, digits = 3): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  return String(Number(value.toPrecision(digits)));
}

/** A share or probability as a percentage with one decimal: 0.052 → '5.2%'. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : formatNumber(share);
}

/** '1 image', '3 images'; irregular plurals passed in: plural(2, 'copy', 'copies'). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
