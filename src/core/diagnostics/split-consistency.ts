// Rule: training and validation images reach the network differently. Then validation loss and
// accuracy measure something the model was never trained on, and stay poor however well it
// learns; the cause is a different preprocessing spec, or (with equal specs) a different source.

import { formatNumber } from './format';
import type { InputStatistics } from './input-normalization';
import type { Evidence, Finding } from './types';

/** What is known about how one split was preprocessed. */
export interface SplitSample {
  /** preprocessSpecHash() of the spec that produced the split's batches. */
  specHash?: string;
  /** Channel statistics of the split's preprocessed images (unaugmented). */
  statistics?: InputStatistics;
}

export interface SplitConsistencyInput {
  train: SplitSample;
  validation: SplitSample;
}

/**
 * The mean test. Each image counts as one observation, and the pixel std stands in for the spread
 * of per-image means: by the law of total variance it is an upper bound of it, so the z below
 * understates the evidence, never overstates it. Fire beyond 4 standard errors (two-sided
 * p < 1e-4 per channel)...
 */
export const MEAN_DIFFERENCE_MAX_Z = 4;
/**
 * ...and only for at least a "small" effect (Cohen's d ≥ 0.2, Cohen 1988): with thousands of
 * images even harmless differences between photo sessions are significant.
 */
export const MEAN_DIFFERENCE_MIN_EFFECT = 0.2;
/**
 * The contrast test: a ratio of channel stds beyond 1.5 between splits. Hand rule: collections of
 * photos differ by ±20% in contrast, normalisation modes by 2× or more ([0, 1] vs [−1, 1]) up to 255×.
 */
export const STD_RATIO_LIMIT = 1.5;
/**
 * A pixel std over fewer images is a few photos' contrast: no contrast test below this. Hand rule;
 * the pooled std of 8 photos also spans their differences in brightness, which steadies it.
 */
export const MIN_IMAGES_FOR_CONTRAST_TEST = 8;
/**
 * Beyond either of these no photo collection explains the difference; only preprocessing does
 * (modes differ by ≥ 2× in scale, or shift by more than one std). Hand rule.
 */
const PREPROCESSING_STD_RATIO = 2;
const PREPROCESSING_EFFECT = 1;

interface ChannelComparison {
  channel: number;
  meanDifference: number;
  z: number;
  effect: number;
  stdRatio: number;
}

export function detectSplitMismatch(input: SplitConsistencyInput): Finding | null {
  const { train, validation } = input;
  const hashesKnown = train.specHash !== undefined && validation.specHash !== undefined;
  if (hashesKnown && train.specHash !== validation.specHash) return specMismatch(input, 'hash');
  if (!train.statistics || !validation.statistics) return null;
  if (train.statistics.channelOrder !== validation.statistics.channelOrder) return specMismatch(input, 'order');

  const comparisons = compareChannels(train.statistics, validation.statistics);
  const contrastTestable = Math.min(train.statistics.imageCount, validation.statistics.imageCount) >= MIN_IMAGES_FOR_CONTRAST_TEST;
  const offending = comparisons.filter(
    (c) => (c.z > MEAN_DIFFERENCE_MAX_Z && c.effect >= MEAN_DIFFERENCE_MIN_EFFECT) || (contrastTestable && c.stdRatio > STD_RATIO_LIMIT),
  );
  if (offending.length === 0) return null;

  const worst = offending.reduce((a, b) => (strikingness(b) > strikingness(a) ? b : a));
  const fromPreprocessing = offending.some((c) => c.stdRatio >= PREPROCESSING_STD_RATIO || c.effect >= PREPROCESSING_EFFECT);
  const cause = hashesKnown
    ? 'Both splits use the same preprocessing spec, so the validation images themselves differ (another camera, source or resolution), or a code path outside the spec changes them.'
    : 'The usual cause is preprocessing that differs between the splits.';
  return {
    id: 'split/statistics-mismatch',
    severity: fromPreprocessing ? 'critical' : 'warning',
    title: 'Validation images look different from training images',
    explanation:
      `In channel ${worst.channel} the validation mean differs from training by ${formatNumber(worst.meanDifference)} ` +
      `(${formatNumber(worst.z)} standard errors, ${formatNumber(worst.effect)} standard deviations) and the spread by a factor of ${formatNumber(worst.stdRatio)}; ` +
      `the number of images explains at most ${MEAN_DIFFERENCE_MAX_Z} standard errors. ${cause}`,
    evidence: [channelTable(input.train.statistics!, input.validation.statistics!, comparisons)],
    fix: hashesKnown ? null : { kind: 'alignValidationSpec', label: 'Preprocess validation like training' },
  };
}

function compareChannels(train: InputStatistics, validation: InputStatistics): ChannelComparison[] {
  const nTrain = Math.max(1, train.imageCount);
  const nValidation = Math.max(1, validation.imageCount);
  return train.channels.map((t, channel) => {
    const v = validation.channels[channel]!;
    const meanDifference = v.mean - t.mean;
    const standardError = Math.sqrt(t.std ** 2 / nTrain + v.std ** 2 / nValidation);
    const pooledStd = Math.sqrt((t.std ** 2 + v.std ** 2) / 2);
    return {
      channel,
      meanDifference,
      z: ratioOrInfinity(Math.abs(meanDifference), standardError),
      effect: ratioOrInfinity(Math.abs(meanDifference), pooledStd),
      stdRatio: t.std === v.std ? 1 : ratioOrInfinity(Math.max(t.std, v.std), Math.min(t.std, v.std)),
    };
  });
}

/** How far apart, in one number for choosing the channel to quote: mean shift in stds plus contrast change in e-folds. */
function strikingness(c: ChannelComparison): number {
  return c.effect + Math.log(c.stdRatio);
}

/** a / b, where against a zero spread any difference is infinite and no difference is 0. */
function ratioOrInfinity(a: number, b: number): number {
  if (b > 0) return a / b;
  return a > 0 ? Infinity : 0;
}

function specMismatch(input: SplitConsistencyInput, what: 'hash' | 'order'): Finding {
  const { train, validation } = input;
  const rows =
    what === 'hash'
      ? [
          { label: 'Training spec hash', value: train.specHash! },
          { label: 'Validation spec hash', value: validation.specHash! },
        ]
      : [
          { label: 'Training channel order', value: train.statistics!.channelOrder.toUpperCase() },
          { label: 'Validation channel order', value: validation.statistics!.channelOrder.toUpperCase() },
        ];
  const evidence: Evidence[] = [{ kind: 'numbers', rows }];
  if (train.statistics && validation.statistics) evidence.push(channelTable(train.statistics, validation.statistics, compareChannels(train.statistics, validation.statistics)));
  return {
    id: 'split/spec-mismatch',
    severity: 'critical',
    title: 'Validation images are preprocessed differently from training images',
    explanation:
      what === 'hash'
        ? 'The training and validation splits were produced by different preprocessing specs, so the validation scores measure inputs the model never trained on.'
        : 'The validation split feeds its colour channels in a different order from the training split, so the model sees swapped colours when it is validated.',
    evidence,
    fix: { kind: 'alignValidationSpec', label: 'Preprocess validation like training' },
  };
}

function channelTable(train: InputStatistics, validation: InputStatistics, comparisons: readonly ChannelComparison[]): Evidence {
  const rows = comparisons.map((c) => {
    const t = train.channels[c.channel]!;
    const v = validation.channels[c.channel]!;
    return {
      label: `Channel ${c.channel} mean ± std (train → validation)`,
      value: `${formatNumber(t.mean)} ± ${formatNumber(t.std)} → ${formatNumber(v.mean)} ± ${formatNumber(v.std)} (z ${formatNumber(c.z)})`,
    };
  });
  rows.push({ label: 'Images (train, validation)', value: `${train.imageCount}, ${validation.imageCount}` });
  return { kind: 'numbers', rows };
}
