// Rule: the run's head against a linear probe fitted to the same cached features (a standardised
// logistic regression, cross-validated; see linear-probe.ts). A linear head can do at least what
// the probe does, so a head clearly below it is held back by its training; a probe that is itself
// low says the features, not the head, are the limit.

import { Z_95 } from '../intervals';
import { DEFAULT_TRAINING_CONFIG, MAX_FREEZE_DEPTH } from '../training-config';
import { describeFreezeDepth, FINE_TUNE_HEAD_LEARNING_RATE, RES5_FREEZE_DEPTH, STAGE_BOUNDARY_DEPTHS } from './fine-tuning';
import { formatNumber, formatPercent, plural } from './format';
import type { Evidence, Finding, Fix } from './types';

export interface HeadVsProbeInput {
  /** The run's latest validation macro-F1. */
  runMacroF1: number;
  /** The run's latest validation accuracy. */
  runAccuracy: number;
  /** Validation images behind those two numbers. */
  validationCount: number;
  /** The probe's cross-validated scores (a ProbeCrossValidation fits here as it is); per-class recall with its 95% interval when known. */
  probe: { macroF1Mean: number; macroF1Std: number; accuracyMean: number; folds: number; recall?: readonly { recall: number; low: number; high: number; support: number }[] };
  classNames: readonly string[];
  /** The run's current freeze depth (TrainingConfig.freezeDepth). */
  freezeDepth: number;
  epochsTrained: number;
  /** Dropout before the head (TrainingConfig.dropout). */
  dropout: number;
  /** The head's peak learning rate (TrainingConfig.learningRate). */
  learningRate: number;
}

/**
 * The head is clearly short when the probe's mean macro-F1 exceeds the run's by more than
 * HEAD_SHORT_Z standard errors of the difference. The two errors add in quadrature: the run's,
 * a binomial one on its validation images (Agresti & Coull's add-two-successes-and-two-failures
 * form, so that 0% and 100% on a few images still carry error), and the probe's, the fold spread
 * over √folds (the standard error of a mean of folds; Bengio & Grandvalet 2004 show it is
 * optimistic, hence the 1.96 rather than a one-sided 1.64).
 */
export const HEAD_SHORT_Z = Z_95;
/**
 * ...and by at least 5 points of macro-F1, however many images: a smaller gap is not worth
 * retraining for. Hand rule.
 */
export const HEAD_SHORT_MIN_GAP = 0.05;
/**
 * The features are short when the probe's macro-F1 stays below chance (1/C) plus this share of
 * the way from chance to perfect. Hand rule on Kornblith, Shlens & Le (2019, "Do Better ImageNet
 * Models Transfer Better?"): the datasets where fine-tuning beat a logistic regression on
 * ImageNet features by far (Stanford Cars, FGVC Aircraft) are those where the probe sat about
 * halfway; where the probe is high (Flowers, Pets) fine-tuning adds little.
 */
export const FEATURES_SHORT_SHARE = 0.5;
/**
 * A fresh head trains at about 1e-3 (the lab's default, Adam's and Keras' default); from 10× that
 * Adam's steps overshoot the minimum of a dense head. Hand rule.
 */
export const HEAD_LEARNING_RATE = DEFAULT_TRAINING_CONFIG.learningRate;
export const HIGH_HEAD_LEARNING_RATE = 10 * HEAD_LEARNING_RATE;
/**
 * Fewer epochs than this may leave the head short of the converged probe, the more so with the
 * cosine schedule, which spends the last epochs near a learning rate of 0. Hand rule (the lab's
 * default is 5 epochs, enough for a head on a few hundred images, not always for more).
 */
export const FEW_EPOCHS = 10;
/** Dropout from 0.5 hides half the features at every step and slows a linear head down. Hand rule (0.5 is Srivastava et al.'s value for hidden units). */
export const HIGH_DROPOUT = 0.5;

interface Comparison {
  gap: number;
  /** Smallest gap that counts at HEAD_SHORT_Z. */
  margin: number;
  /** Standard error of the probe's mean macro-F1. */
  probeError: number;
  /** chance + FEATURES_SHORT_SHARE · (1 − chance). */
  bar: number;
}

export function detectHeadShortOfProbe(input: HeadVsProbeInput): Finding | null {
  const { runMacroF1, validationCount, probe, classNames } = input;
  if (!(validationCount > 0) || !Number.isFinite(runMacroF1) || !Number.isFinite(probe.macroF1Mean) || classNames.length < 2) return null;
  const comparison = compare(input);
  if (probe.folds < 2) return inconclusive(input, comparison, 'the probe could not be cross-validated (some class has too few images)');

  const { gap, margin, probeError, bar } = comparison;
  if (gap > Math.max(HEAD_SHORT_MIN_GAP, margin)) return headShort(input, comparison);
  if (gap >= HEAD_SHORT_MIN_GAP) {
    return inconclusive(input, comparison, `the head's shortfall (${formatNumber(gap)}) is within what this few images move a score by (±${formatNumber(margin)} at 95%)`);
  }
  if (probe.macroF1Mean < bar && runMacroF1 < bar) {
    const probeHigh = probe.macroF1Mean + HEAD_SHORT_Z * probeError;
    if (probeHigh < bar) return featuresShort(input, comparison);
    return inconclusive(
      input,
      comparison,
      `both sit below ${formatNumber(bar)} (halfway from chance to perfect), but with this few images the probe's macro-F1 could be as high as ${formatNumber(probeHigh)}`,
    );
  }
  return onPar(input, comparison);
}

/** The head does what a probe on the same features does: the baseline, shown for what it is. */
function onPar(input: HeadVsProbeInput, comparison: Comparison): Finding {
  const { runMacroF1, probe } = input;
  return {
    id: 'training/probe-baseline',
    severity: 'info',
    title: 'The head does as well as a linear probe on the same features',
    explanation:
      `A cross-validated logistic regression on the network's features reaches macro-F1 ${formatNumber(probe.macroF1Mean)} ± ${formatNumber(probe.macroF1Std)} across ${plural(probe.folds, 'fold')}; ` +
      `the run's head ${formatNumber(runMacroF1)}. The head is not what holds the run back; better features would be (more blocks trained, more or cleaner images).`,
    evidence: evidenceOf(input, comparison, []),
    fix: null,
  };
}

function compare(input: HeadVsProbeInput): Comparison {
  const { runMacroF1, validationCount: n, probe } = input;
  const adjusted = (runMacroF1 * n + 2) / (n + 4);
  const runError = Math.sqrt((adjusted * (1 - adjusted)) / (n + 4));
  const probeError = probe.folds >= 2 && Number.isFinite(probe.macroF1Std) ? probe.macroF1Std / Math.sqrt(probe.folds) : 0;
  const chance = 1 / input.classNames.length;
  return {
    gap: probe.macroF1Mean - runMacroF1,
    margin: HEAD_SHORT_Z * Math.sqrt(runError * runError + probeError * probeError),
    probeError,
    bar: chance + FEATURES_SHORT_SHARE * (1 - chance),
  };
}

function headShort(input: HeadVsProbeInput, comparison: Comparison): Finding {
  const { runMacroF1, runAccuracy, probe, freezeDepth } = input;
  const fix = headFix(input);
  const featuresToo =
    probe.macroF1Mean < comparison.bar
      ? ` The probe itself is low too (below ${formatNumber(comparison.bar)}, halfway from chance to perfect), so once the head catches up the features will be the next limit.`
      : '';
  const remedy =
    fix?.kind === 'setFreezeDepth'
      ? ` The usual order is the head first, on frozen features at about ${formatNumber(HEAD_LEARNING_RATE)}, then the blocks at a lower rate.`
      : fix
        ? ''
        : ' More epochs, or less dropout, let the head reach the probe: the probe shows that a linear head on these features can.';
  return {
    id: 'training/head-short-of-probe',
    severity: 'warning',
    title: 'The head does worse than a simple probe on the same features',
    explanation:
      `On validation the run's head reaches macro-F1 ${formatNumber(runMacroF1)} (accuracy ${formatPercent(runAccuracy)}), while a logistic regression on the same features reaches ` +
      `${formatNumber(probe.macroF1Mean)} ± ${formatNumber(probe.macroF1Std)} across ${probe.folds} folds (accuracy ${formatPercent(probe.accuracyMean)}). ` +
      `The gap, ${formatNumber(comparison.gap)}, is more than this many images' noise (±${formatNumber(comparison.margin)}), so the head's training holds it back, not the features. ` +
      `Likely: ${reasonsOf(input).join('; ')}.${remedy}${featuresToo}`,
    evidence: evidenceOf(input, comparison, [
      { label: 'Trainable', value: describeFreezeDepth(freezeDepth) },
      { label: 'Head learning rate (peak)', value: formatNumber(input.learningRate) },
      { label: 'Epochs trained', value: String(input.epochsTrained) },
      { label: 'Dropout', value: formatNumber(input.dropout) },
    ]),
    fix,
  };
}

/** What most likely keeps the head below the probe, most specific first; the schedule always qualifies. */
function reasonsOf(input: HeadVsProbeInput): string[] {
  const { freezeDepth, learningRate, epochsTrained, dropout } = input;
  const reasons: string[] = [];
  if (freezeDepth > 0) reasons.push(`with ${describeFreezeDepth(freezeDepth)} training, the blocks have moved away from features that did better, before the head caught up`);
  if (learningRate < HEAD_LEARNING_RATE) reasons.push(`its learning rate, ${formatNumber(learningRate)}, is below the ${formatNumber(HEAD_LEARNING_RATE)} a new head usually trains at`);
  if (learningRate > HIGH_HEAD_LEARNING_RATE) reasons.push(`its learning rate, ${formatNumber(learningRate)}, is high enough to overshoot the minimum`);
  if (epochsTrained < FEW_EPOCHS) reasons.push(`it trained for ${plural(epochsTrained, 'epoch')} only`);
  if (dropout >= HIGH_DROPOUT) reasons.push(`dropout hides ${formatPercent(dropout)} of the features at every step`);
  reasons.push('the learning-rate schedule (a cosine decay spends the last epochs near 0)');
  return reasons;
}

/**
 * Blocks training: back to the head alone at the head's rate (the probe shows the frozen features
 * suffice for now). Head alone: the head's usual rate when the current one is far off it. Else
 * nothing one click can do (there is no Fix for epochs or dropout).
 */
function headFix(input: HeadVsProbeInput): Fix | null {
  const { freezeDepth, learningRate } = input;
  if (freezeDepth > 0) {
    const raise = learningRate < HEAD_LEARNING_RATE;
    return {
      kind: 'setFreezeDepth',
      value: 0,
      ...(raise ? { learningRate: HEAD_LEARNING_RATE } : {}),
      label: raise ? `Train ${describeFreezeDepth(0)} at learning rate ${formatNumber(HEAD_LEARNING_RATE)}` : `Train ${describeFreezeDepth(0)}`,
    };
  }
  if (learningRate < HEAD_LEARNING_RATE) return { kind: 'setLearningRate', value: HEAD_LEARNING_RATE, label: `Raise the learning rate to ${formatNumber(HEAD_LEARNING_RATE)}` };
  if (learningRate > HIGH_HEAD_LEARNING_RATE) return { kind: 'setLearningRate', value: HEAD_LEARNING_RATE, label: `Lower the learning rate to ${formatNumber(HEAD_LEARNING_RATE)}` };
  return null;
}

function featuresShort(input: HeadVsProbeInput, comparison: Comparison): Finding {
  const { runMacroF1, probe, classNames, freezeDepth } = input;
  const fix = unfreezeFix(input);
  const remedy = fix
    ? ` A better head will not fix that: training ${describeFreezeDepth(fix.value)} at a low learning rate lets the features adapt.`
    : ' Every block trains already: more images, or a backbone closer to your images, are what is left.';
  return {
    id: 'data/features-short',
    severity: 'warning',
    title: 'The pretrained features do not separate your classes well',
    explanation:
      `Even a logistic regression fitted to the features reaches only macro-F1 ${formatNumber(probe.macroF1Mean)} ± ${formatNumber(probe.macroF1Std)} across ${probe.folds} folds, and the run's head ${formatNumber(runMacroF1)}; ` +
      `with ${classNames.length} classes chance is ${formatNumber(1 / classNames.length)}, and ${formatNumber(comparison.bar)} would be halfway from there to perfect. ` +
      `What tells your classes apart is not what ImageNet features capture (a domain gap: scans, micrographs, satellite or fine-grained images).${remedy}`,
    evidence: evidenceOf(input, comparison, [
      { label: 'Chance macro-F1 (1 / classes)', value: formatNumber(1 / classNames.length) },
      { label: 'Halfway from chance to perfect', value: formatNumber(comparison.bar) },
      { label: 'Trainable', value: describeFreezeDepth(freezeDepth) },
    ]),
    fix,
  };
}

/** res5 when only the head trains, else the next stage down; never a higher learning rate than the run's. */
function unfreezeFix(input: HeadVsProbeInput): Extract<Fix, { kind: 'setFreezeDepth' }> | null {
  const { freezeDepth } = input;
  if (freezeDepth >= MAX_FREEZE_DEPTH) return null;
  const value = freezeDepth < RES5_FREEZE_DEPTH ? RES5_FREEZE_DEPTH : (STAGE_BOUNDARY_DEPTHS.find((d) => d > freezeDepth) ?? MAX_FREEZE_DEPTH);
  const learningRate = Math.min(input.learningRate, FINE_TUNE_HEAD_LEARNING_RATE);
  return { kind: 'setFreezeDepth', value, learningRate, label: `Train ${describeFreezeDepth(value)} at learning rate ${formatNumber(learningRate)}` };
}

function inconclusive(input: HeadVsProbeInput, comparison: Comparison, why: string): Finding {
  const { runMacroF1, validationCount, probe } = input;
  return {
    id: 'training/probe-inconclusive',
    severity: 'info',
    title: 'Too few images to tell whether the head or the features fall short',
    explanation:
      `The run's head reaches validation macro-F1 ${formatNumber(runMacroF1)} on ${plural(validationCount, 'image')}, a logistic regression on the same features ` +
      `${formatNumber(probe.macroF1Mean)} ± ${formatNumber(probe.macroF1Std)} across ${plural(probe.folds, 'fold')}: too few images to tell, as ${why}. ` +
      'More images per class would settle it.',
    evidence: evidenceOf(input, comparison, []),
    fix: null,
  };
}

function evidenceOf(input: HeadVsProbeInput, comparison: Comparison, extra: { label: string; value: string }[]): Evidence[] {
  const { runMacroF1, runAccuracy, validationCount, probe } = input;
  return [
    {
      kind: 'numbers',
      rows: [
        { label: 'Head, validation macro-F1', value: `${formatNumber(runMacroF1)} on ${plural(validationCount, 'image')}` },
        { label: 'Linear probe, cross-validated macro-F1', value: `${formatNumber(probe.macroF1Mean)} ± ${formatNumber(probe.macroF1Std)} (${plural(probe.folds, 'fold')})` },
        { label: 'Head, validation accuracy', value: formatPercent(runAccuracy) },
        { label: 'Linear probe, accuracy', value: formatPercent(probe.accuracyMean) },
        { label: 'Probe minus head (macro-F1)', value: formatNumber(comparison.gap) },
        { label: 'Noise of that difference at 95%', value: `±${formatNumber(comparison.margin)}` },
        ...extra,
      ],
    },
    ...(probe.recall
      ? [
          {
            kind: 'numbers' as const,
            rows: probe.recall.map((r, c) => ({
              label: `Probe recall, ${input.classNames[c] ?? `class ${c}`}`,
              value: `${formatPercent(r.recall)} (95%: ${formatPercent(r.low)}–${formatPercent(r.high)}, ${plural(r.support, 'image')})`,
            })),
          },
        ]
      : []),
  ];
}
