// Each comparison chart in one sentence, for the label screen readers announce instead of the
// drawing (as charts/summaries.ts does for a single run's charts).

import { formatTick } from '../training/charts/axis';

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function compareStepsSummary(runs: readonly { name: string; steps: number; lastSmoothed: number | null }[]): string {
  const each = runs.map((r) => (r.lastSmoothed === null ? `${r.name}, no step` : `${r.name}, ${plural(r.steps, 'step')}, smoothed ${formatTick(r.lastSmoothed)} at the end`));
  return `Training loss per step of ${plural(runs.length, 'run')}: ${each.join('; ')}.`;
}

export function compareEpochLossSummary(runs: readonly { name: string; epochs: number; lastValidation: number | null; lastTrain: number | null }[]): string {
  const each = runs.map((r) => {
    if (r.epochs === 0) return `${r.name}, no epoch`;
    const validation = r.lastValidation === null ? 'no validation' : `last validation ${formatTick(r.lastValidation)}`;
    return `${r.name}, ${plural(r.epochs, 'epoch')}, ${validation}${r.lastTrain === null ? '' : `, training ${formatTick(r.lastTrain)}`}`;
  });
  return `Loss per epoch of ${plural(runs.length, 'run')}, validation and training: ${each.join('; ')}.`;
}

export function compareAccuracySummary(runs: readonly { name: string; epochs: number; lastValidation: number | null }[]): string {
  const each = runs.map((r) => (r.lastValidation === null ? `${r.name}, no validation` : `${r.name}, ${plural(r.epochs, 'epoch')}, last ${percent(r.lastValidation)}`));
  return `Validation accuracy per epoch of ${plural(runs.length, 'run')}: ${each.join('; ')}.`;
}
