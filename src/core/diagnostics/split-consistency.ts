// Rule: training and validation images reach the network differently. Then validation loss and
// accuracy measure something the model was never trained on, and stay poor however well it
// learns; the cause is a different preprocessing spec, or (with equal specs) a different source.

import { createPrng } from '../prng';
import { formatNumber } from './format';
import type { InputStatistics } from './input-normalization';
import type { ChannelMoments } from './statistics';
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
/**
 * With each image's statistics (the usual case), the contrast test asks more than a ratio beyond
 * STD_RATIO_LIMIT: the ratio's log must clear log(STD_RATIO_LIMIT) by this many of its standard
 * errors (one-sided p ≈ 0.001). A split's pixel std mixes every image's brightness and contrast,
 * so with 16 images of a varied set it swings by a factor of 1.5 between two samples of the same
 * folder; measured on stamps6 re-splits.
 */
export const CONTRAST_MIN_Z = 3;
/** Below this many standard errors a mean shift is chance whatever its size: not worth a word. */
const UNDECIDED_MIN_Z = 2;
/** Resamples for a split's std's standard error (the images drawn again with replacement). */
const BOOTSTRAP_RESAMPLES = 1000;
const BOOTSTRAP_SEED = 20261202;

interface ChannelComparison {
  channel: number;
  meanDifference: number;
  z: number;
  effect: number;
  stdRatio: number;
  /** How many standard errors the contrast change clears STD_RATIO_LIMIT by (per-image statistics only). */
  contrastZ: number | null;
}

export function detectSplitMismatch(input: SplitConsistencyInput): Finding | null {
  const { train, validation } = input;
  const hashesKnown = train.specHash !== undefined && validation.specHash !== undefined;
  if (hashesKnown && train.specHash !== validation.specHash) return specMismatch(input, 'hash');
  if (!train.statistics || !validation.statistics) return null;
  if (train.statistics.channelOrder !== validation.statistics.channelOrder) return specMismatch(input, 'order');

  const comparisons = compareChannels(train.statistics, validation.statistics);
  const perImage = comparisons.every((c) => c.contrastZ !== null);
  const contrastTestable = Math.min(train.statistics.imageCount, validation.statistics.imageCount) >= MIN_IMAGES_FOR_CONTRAST_TEST;
  const contrastChanged = (c: ChannelComparison) => (perImage ? c.contrastZ! > CONTRAST_MIN_Z : contrastTestable && c.stdRatio > STD_RATIO_LIMIT);
  const offending = comparisons.filter((c) => (c.z > MEAN_DIFFERENCE_MAX_Z && c.effect >= MEAN_DIFFERENCE_MIN_EFFECT) || contrastChanged(c));
  if (offending.length === 0) {
    // As large as a real difference, but within what two samples of the same images give.
    const unsure = comparisons.filter((c) => (c.effect >= MEAN_DIFFERENCE_MIN_EFFECT && c.z > UNDECIDED_MIN_Z) || c.stdRatio > STD_RATIO_LIMIT);
    return unsure.length > 0 ? undecided(input, comparisons, unsure) : null;
  }

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
  const byImage = train.perImage && validation.perImage && train.perImage.length >= 2 && validation.perImage.length >= 2 ? { train: train.perImage, validation: validation.perImage } : null;
  return train.channels.map((t, channel) => {
    const v = validation.channels[channel]!;
    const meanDifference = v.mean - t.mean;
    // Per image when known (the images are what varies between two samples of a folder); else the
    // pixel std, an upper bound of the spread of image means (law of total variance).
    const standardError = byImage
      ? Math.sqrt(varianceOfMeans(byImage.train, channel) / byImage.train.length + varianceOfMeans(byImage.validation, channel) / byImage.validation.length)
      : Math.sqrt(t.std ** 2 / nTrain + v.std ** 2 / nValidation);
    const pooledStd = Math.sqrt((t.std ** 2 + v.std ** 2) / 2);
    const stdRatio = t.std === v.std ? 1 : ratioOrInfinity(Math.max(t.std, v.std), Math.min(t.std, v.std));
    let contrastZ: number | null = null;
    if (byImage) {
      const logStandardError = Math.hypot(logStdStandardError(byImage.train, channel), logStdStandardError(byImage.validation, channel));
      contrastZ = ratioOrInfinity(Math.log(stdRatio) - Math.log(STD_RATIO_LIMIT), logStandardError);
    }
    return {
      channel,
      meanDifference,
      z: ratioOrInfinity(Math.abs(meanDifference), standardError),
      effect: ratioOrInfinity(Math.abs(meanDifference), pooledStd),
      stdRatio,
      contrastZ,
    };
  });
}

/** Sample variance (n − 1) of the images' means in one channel. */
function varianceOfMeans(images: readonly (readonly ChannelMoments[])[], channel: number): number {
  const means = images.map((m) => m[channel]!.mean);
  const average = means.reduce((a, b) => a + b, 0) / means.length;
  return means.reduce((sum, m) => sum + (m - average) ** 2, 0) / (means.length - 1);
}

/** Bootstrap standard error of ln(pixel std) of a sample of images, drawing the images again (seeded: the same answer each time). */
function logStdStandardError(images: readonly (readonly ChannelMoments[])[], channel: number): number {
  const random = createPrng(BOOTSTRAP_SEED + channel);
  const drawn = new Array<ChannelMoments>(images.length);
  const logs: number[] = [];
  for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
    // Pooled variance of the drawn images: Σ (m2ᵢ + nᵢ (meanᵢ − mean)²) / Σ nᵢ.
    let count = 0;
    let sum = 0;
    for (let i = 0; i < images.length; i++) {
      const m = (drawn[i] = images[Math.floor(random() * images.length)]![channel]!);
      count += m.count;
      sum += m.count * m.mean;
    }
    const mean = sum / count;
    const m2 = drawn.reduce((total, m) => total + m.m2 + m.count * (m.mean - mean) ** 2, 0);
    if (count > 0 && m2 > 0) logs.push(0.5 * Math.log(m2 / count));
  }
  if (logs.length < 2) return 0;
  const average = logs.reduce((a, b) => a + b, 0) / logs.length;
  return Math.sqrt(logs.reduce((sum, x) => sum + (x - average) ** 2, 0) / (logs.length - 1));
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
      value:
        `${formatNumber(t.mean)} ± ${formatNumber(t.std)} → ${formatNumber(v.mean)} ± ${formatNumber(v.std)} (z ${formatNumber(c.z)}` +
        (c.contrastZ !== null ? `; spread ×${formatNumber(c.stdRatio)}, ${formatNumber(c.contrastZ)} standard errors past ×${STD_RATIO_LIMIT})` : ')'),
    };
  });
  rows.push({ label: 'Images (train, validation)', value: `${train.imageCount}, ${validation.imageCount}` });
  return { kind: 'numbers', rows };
}

/** A difference as large as a real one, but within what two samples of the same images give: say so, and how many images would tell. */
function undecided(input: SplitConsistencyInput, comparisons: readonly ChannelComparison[], unsure: readonly ChannelComparison[]): Finding {
  const worst = unsure.reduce((a, b) => (strikingness(b) > strikingness(a) ? b : a));
  const { train, validation } = input;
  return {
    id: 'split/statistics-undecided',
    severity: 'info',
    title: 'Too few images to tell whether validation images look different',
    explanation:
      `In channel ${worst.channel} the validation mean differs from training by ${formatNumber(worst.meanDifference)} and the spread by a factor of ${formatNumber(worst.stdRatio)}, ` +
      `but with ${train.statistics!.imageCount} and ${validation.statistics!.imageCount} images two samples of the same folder differ that much (${formatNumber(worst.z)} standard errors). Nothing to fix on this evidence.`,
    evidence: [channelTable(train.statistics!, validation.statistics!, comparisons)],
    fix: null,
  };
}
