// Rule: validation loss rises while training loss keeps falling. The model is memorising the
// training images instead of learning what generalises; more epochs make it worse.

import { describeFreezeDepth, previousStageBoundary } from './fine-tuning';
import { formatNumber, formatPercent } from './format';
import type { EpochRecord } from '../run-records';
import type { TrainingHistory } from './training-history';
import type { Evidence, Finding, Fix } from './types';

/** Validation loss must have risen at each of the last this many epochs. Hand rule (one rise can be noise). */
export const OVERFIT_RISING_EPOCHS = 2;
/** ...by at least 2% in total, so that a flat validation loss wobbling upwards does not count. Hand rule. */
export const OVERFIT_MIN_RISE_FRACTION = 0.02;
/**
 * Or, rising with a wobble: validation loss at least 20% above its best, at least
 * OVERFIT_EPOCHS_SINCE_BEST epochs after it, with training loss lower than it was then. On
 * stamps6 at 224 px validation loss went 0.9 → 2.05 while training loss reached 0.000, but not
 * in a straight line, and the strict rule above never fired. Hand rule.
 */
export const OVERFIT_RISE_OVER_BEST = 0.2;
export const OVERFIT_EPOCHS_SINCE_BEST = 2;

type ValidatedEpoch = EpochRecord & { validation: NonNullable<EpochRecord['validation']> };

export function detectOverfitting(history: TrainingHistory): Finding | null {
  const epochs = history.epochs.filter((e): e is ValidatedEpoch => e.validation !== null && Number.isFinite(e.validation.loss));
  const recent = epochs.slice(-(OVERFIT_RISING_EPOCHS + 1));
  if (recent.length < OVERFIT_RISING_EPOCHS + 1) return null;
  const last = recent[recent.length - 1]!;
  const best = epochs.reduce((a, b) => (b.validation.loss < a.validation.loss ? b : a));
  const rising = recent.every((e, i) => i === 0 || e.validation.loss > recent[i - 1]!.validation.loss);
  const risen = last.validation.loss - recent[0]!.validation.loss >= OVERFIT_MIN_RISE_FRACTION * recent[0]!.validation.loss;
  const steadily = rising && risen && last.train.loss < recent[0]!.train.loss;
  const sinceBest = epochs.indexOf(last) - epochs.indexOf(best);
  const farAboveBest = sinceBest >= OVERFIT_EPOCHS_SINCE_BEST && last.validation.loss >= (1 + OVERFIT_RISE_OVER_BEST) * best.validation.loss && last.train.loss < best.train.loss;
  if (!steadily && !farAboveBest) return null;
  // Quoted from where the rise is clearest: the last epochs when it was steady, else from the best.
  const first = steadily ? recent[0]! : best;

  const freezeDepth = history.steps[history.steps.length - 1]?.freezeDepth ?? 0;
  const fix = fewerBlocks(freezeDepth);
  const remedy = fix
    ? `Training fewer blocks (${describeFreezeDepth(fix.value)}), augmentation or more images help it generalise.`
    : 'Only the head trains already: augmentation, more dropout or more images help it generalise; stopping at the best epoch keeps what it learned.';
  return {
    id: 'training/overfitting',
    severity: 'warning',
    title: 'The model is memorising the training images',
    explanation:
      (steadily
        ? `Validation loss has risen for ${OVERFIT_RISING_EPOCHS} epochs (${formatNumber(first.validation.loss)} → ${formatNumber(last.validation.loss)}) while training loss kept falling `
        : `Validation loss is ${formatPercent(last.validation.loss / best.validation.loss - 1)} above its best, ${sinceBest} epochs later (${formatNumber(first.validation.loss)} → ${formatNumber(last.validation.loss)}), while training loss kept falling `) +
      `(${formatNumber(first.train.loss)} → ${formatNumber(last.train.loss)}). The best validation loss was at epoch ${best.epoch}. ${remedy}`,
    evidence: evidenceOf(epochs, best),
    fix,
  };
}

/** One stage fewer to train, if anything beyond the head trains. */
function fewerBlocks(freezeDepth: number): Extract<Fix, { kind: 'setFreezeDepth' }> | null {
  if (freezeDepth <= 0) return null;
  const value = previousStageBoundary(freezeDepth);
  return { kind: 'setFreezeDepth', value, label: `Train ${describeFreezeDepth(value)}` };
}

function evidenceOf(epochs: readonly ValidatedEpoch[], best: ValidatedEpoch): Evidence[] {
  return [
    { kind: 'series', label: 'Training loss per epoch', points: epochs.map((e) => ({ x: e.epoch, y: e.train.loss })), unit: 'nats' },
    { kind: 'series', label: 'Validation loss per epoch', points: epochs.map((e) => ({ x: e.epoch, y: e.validation.loss })), unit: 'nats' },
    {
      kind: 'numbers',
      rows: [
        { label: 'Best validation loss', value: `${formatNumber(best.validation.loss)} at epoch ${best.epoch}` },
        { label: 'Validation accuracy there', value: formatNumber(best.validation.metrics.accuracy) },
      ],
    },
  ];
}
