// Rule: validation loss rises while training loss keeps falling. The model is memorising the
// training images instead of learning what generalises; more epochs make it worse. On a few
// validation images the rise is judged against what those images alone move the loss by.

import { Z_95 } from '../intervals';
import { describeFreezeDepth, previousStageBoundary } from './fine-tuning';
import { formatNumber, formatPercent, plural } from './format';
import type { EpochRecord } from '../run-records';
import { mean, standardErrorOfMean } from './statistics';
import type { TrainingHistory } from './training-history';
import type { Evidence, Finding, Fix, Severity } from './types';

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
/**
 * A warning needs the rise over the best epoch to exceed this many standard errors of the mean
 * per-image difference (paired: the same validation images at both epochs); a smaller rise is
 * reported as info. A head's validation loss rises through the few images it gets wrong ever more
 * confidently while the rest improve, so on few images a large rise can be chance. Measured on
 * stamps6 at 32 px (22 validation images; tests/integration/diagnostics-resplits-training): the
 * default head-only recipe, 10 epochs, ended 20–58% above its best on 10 of 20 re-splits (which
 * the two rules above alone called a warning), at most 1.68 standard errors; a head trained at
 * 3e-3 held constant, no dropout, 30 epochs, ended 87% above its best at 2.95 standard errors,
 * its accuracy down from 0.77 to 0.59.
 */
export const OVERFIT_Z = Z_95;

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
  const { rise, margin, images } = riseOverBest(last, best);
  const beyondNoise = rise > margin;
  const severity: Severity = beyondNoise ? 'warning' : 'info';
  const noise = beyondNoise
    ? ` On ${plural(images, 'validation image')} that rise (${formatNumber(rise)}) is beyond what chance moves it by (±${formatNumber(margin)} at 95%).`
    : ` But on ${plural(images, 'validation image')} a rise of ${formatNumber(rise)} over the best is within what the choice of images alone moves it by (±${formatNumber(margin)} at 95%): a few images the model gets wrong ever more confidently can do that while the rest improve; more validation images would tell.`;

  // Gone back to the best epoch's weights: what memorised is no longer in the model.
  if (history.keptEpoch === best.epoch) {
    return {
      id: 'training/overfitting',
      severity: 'info',
      title: 'The model went back to its best epoch',
      explanation: `Validation loss rose after epoch ${best.epoch + 1} (${formatNumber(best.validation.loss)} → ${formatNumber(last.validation.loss)}); the model has the weights of that epoch again. Training more would memorise again: fewer blocks, augmentation or more images help it generalise.`,
      evidence: evidenceOf(epochs, best, rise, margin),
      fix: null,
    };
  }
  const freezeDepth = history.steps[history.steps.length - 1]?.freezeDepth ?? 0;
  const fewer = fewerBlocks(freezeDepth);
  // A fix only where the rise is real; going back to the best epoch first, a new run with fewer blocks after.
  const fix: Fix | null = !beyondNoise ? null : { kind: 'restoreBestEpoch', epoch: best.epoch, label: `Go back to epoch ${best.epoch + 1}, the lowest validation loss` };
  const remedy = fewer
    ? `Going back to the best epoch keeps what it learned; training fewer blocks (${describeFreezeDepth(fewer.value)}), augmentation or more images help it generalise.`
    : 'Going back to the best epoch keeps what it learned; only the head trains already, so augmentation, more dropout or more images help it generalise.';
  return {
    id: 'training/overfitting',
    severity,
    title: beyondNoise ? 'The model is memorising the training images' : 'Validation loss has risen, within noise',
    explanation:
      (steadily
        ? `Validation loss has risen for ${OVERFIT_RISING_EPOCHS} epochs (${formatNumber(first.validation.loss)} → ${formatNumber(last.validation.loss)}) while training loss kept falling `
        : `Validation loss is ${formatPercent(last.validation.loss / best.validation.loss - 1)} above its best, ${sinceBest} epochs later (${formatNumber(first.validation.loss)} → ${formatNumber(last.validation.loss)}), while training loss kept falling `) +
      `(${formatNumber(first.train.loss)} → ${formatNumber(last.train.loss)}). The best validation loss was at epoch ${best.epoch + 1}.${noise} ${remedy}`,
    evidence: evidenceOf(epochs, best, rise, margin),
    fix,
  };
}

/**
 * The mean per-image rise of validation loss from `best` to `last`, and the smallest rise that
 * counts at OVERFIT_Z: the standard error of the paired differences when both epochs scored the
 * same images (as within a run), of two independent means otherwise. Per-image losses all equal
 * leave no spread: any rise counts. Fewer than two images: none does.
 */
function riseOverBest(last: ValidatedEpoch, best: ValidatedEpoch): { rise: number; margin: number; images: number } {
  const after = last.validation.losses;
  const before = best.validation.losses;
  const images = Math.min(after.length, before.length);
  if (images < 2) return { rise: last.validation.loss - best.validation.loss, margin: Infinity, images };
  if (after.length === before.length) {
    const differences = after.map((loss, i) => loss - before[i]!);
    return { rise: mean(differences), margin: OVERFIT_Z * standardErrorOfMean(differences), images };
  }
  const error = Math.hypot(standardErrorOfMean(after), standardErrorOfMean(before));
  return { rise: mean(after) - mean(before), margin: OVERFIT_Z * error, images };
}

/** One stage fewer to train, if anything beyond the head trains. */
function fewerBlocks(freezeDepth: number): Extract<Fix, { kind: 'setFreezeDepth' }> | null {
  if (freezeDepth <= 0) return null;
  const value = previousStageBoundary(freezeDepth);
  return { kind: 'setFreezeDepth', value, label: `Train ${describeFreezeDepth(value)}` };
}

function evidenceOf(epochs: readonly ValidatedEpoch[], best: ValidatedEpoch, rise: number, margin: number): Evidence[] {
  return [
    { kind: 'series', label: 'Training loss per epoch', points: epochs.map((e) => ({ x: e.epoch, y: e.train.loss })), unit: 'nats' },
    { kind: 'series', label: 'Validation loss per epoch', points: epochs.map((e) => ({ x: e.epoch, y: e.validation.loss })), unit: 'nats' },
    {
      kind: 'numbers',
      rows: [
        { label: 'Best validation loss', value: `${formatNumber(best.validation.loss)} at epoch ${best.epoch + 1}` },
        { label: 'Validation accuracy there', value: formatNumber(best.validation.metrics.accuracy) },
        { label: 'Rise since, per validation image', value: `${formatNumber(rise)} (noise at 95%: ±${formatNumber(margin)})` },
      ],
    },
  ];
}
