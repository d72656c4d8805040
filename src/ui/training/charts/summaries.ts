// Each chart in one sentence, for the label screen readers announce instead of the drawing.

import { formatTick } from './axis';

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;

export function stepsSummary(steps: number, last: { loss: number; smoothed: number } | undefined, smoothing: number): string {
  if (!last) return 'Training loss per step: no step yet.';
  return `Training loss over ${steps} step${steps === 1 ? '' : 's'}, last ${formatTick(last.loss)}, smoothed ${formatTick(last.smoothed)} (smoothing ${smoothing.toFixed(3)}).`;
}

export function epochsSummary(metric: 'loss' | 'accuracy', points: readonly { train: number; validation: number | null }[]): string {
  const name = metric === 'loss' ? 'Loss' : 'Accuracy';
  const last = points.at(-1);
  if (!last) return `${name} per epoch: no epoch yet.`;
  const value = metric === 'loss' ? formatTick : percent;
  const validation = last.validation === null ? '' : `, validation ${value(last.validation)}`;
  return `${name} over ${points.length} epoch${points.length === 1 ? '' : 's'}: last train ${value(last.train)}${validation}.`;
}

export function classesSummary(epoch: number, rows: readonly { name: string; precision: number; recall: number; f1: number }[]): string {
  const each = rows.map((r) => `${r.name} precision ${r.precision.toFixed(2)}, recall ${r.recall.toFixed(2)}, F1 ${r.f1.toFixed(2)}`).join('; ');
  return `Validation per class at epoch ${epoch}: ${each}.`;
}

/** How many images the matrix puts on its diagonal: "41 of 51 validation images (80.4%) predicted as their class". */
export function confusionSummary(confusion: readonly (readonly number[])[]): string {
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((a, row, i) => a + (row[i] ?? 0), 0);
  return `${correct} of ${total} validation images${total > 0 ? ` (${percent(correct / total)})` : ''} predicted as their class`;
}
