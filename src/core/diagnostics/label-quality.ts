// Rule: some images are probably in the wrong class folder. Found the confident-learning way
// (Northcutt, Jiang & Chuang 2021, "Confident Learning: Estimating Uncertainty in Dataset
// Labels"): per class, the model's average confidence on its own images is the bar; an image
// whose given class stays below its bar while another class clears that class's bar is suspect.

import { wilsonInterval } from '../intervals';
import { calibrateTemperature } from '../linear-probe';
import { formatNumber, formatPercent } from './format';
import type { Evidence, Finding } from './types';

export interface OutOfSamplePrediction {
  /** Dataset path. */
  id: string;
  /** The class the dataset gives the image. */
  label: number;
  /**
   * Predicted probabilities over the user's classes from a model that did not train on this image
   * (validation predictions, or cross-validation): in-sample ones have memorised the labels.
   */
  probabilities: ArrayLike<number>;
}

export interface LabelQualityInput {
  classNames: readonly string[];
  predictions: readonly OutOfSamplePrediction[];
  /**
   * From a model still in training (between epochs): early on its own mistakes look like wrong
   * labels, so the finding stays info until the run's end checks again. Measured on clean stamps6
   * re-splits: one warning in 200 epoch checks, at epoch 1, without it.
   */
  provisional?: boolean;
}

export interface LabelIssue {
  id: string;
  givenLabel: number;
  suggestedLabel: number;
  /** Probability of the given label. */
  selfConfidence: number;
  /** Probability of the suggested label. */
  suggestedProbability: number;
}

/**
 * The labels are a real problem (warning) when the share of suspects is at least this, with 95%
 * confidence (the lower end of its Wilson interval); below, a list worth a look (info). Not the
 * share of label errors: a model also flags its own confident mistakes. Measured on stamps6 at
 * 64 px with the probe's out-of-fold probabilities: clean labels 10 of 112 suspects (8.9%, lower
 * end 4.9%); with 20% of the labels changed, 42 of 112 (37.5%, lower end 29%). Hand rule between.
 */
export const MISLABEL_WARNING_SHARE = 0.15;
/**
 * And at least this many: on a small validation split (stamps6: 22 images) two or three suspects
 * after a few epochs are as likely the model's own mistakes as wrong labels.
 */
export const MISLABEL_WARNING_MIN_COUNT = 4;
const MAX_LISTED = 8;
const MAX_IMAGE_IDS = 24;
/** Images in the top-loss list. */
export const TOP_LOSSES = 12;
/** Keeps −ln p finite for a probability of 0. */
const MIN_PROBABILITY = 1e-12;

/**
 * The label check's input from a cross-validated probe: every image's out-of-fold probabilities
 * ([n, C] row-major), calibrated first by one temperature (calibrateTemperature: the probe is
 * overconfident with far fewer images than features).
 */
export function calibratedOutOfFold(ids: readonly string[], labels: Int32Array, probabilities: ArrayLike<number>, classNames: readonly string[]): LabelQualityInput {
  const classes = classNames.length;
  const calibrated = calibrateTemperature(probabilities, labels, classes).probabilities;
  return { classNames, predictions: ids.map((id, i) => ({ id, label: labels[i]!, probabilities: calibrated.subarray(i * classes, (i + 1) * classes) })) };
}

/** Per class: the mean probability the model gives that class on images labelled with it (Infinity for a class with none). */
export function perClassThresholds(predictions: readonly OutOfSamplePrediction[], numClasses: number): number[] {
  const sums = new Array<number>(numClasses).fill(0);
  const counts = new Array<number>(numClasses).fill(0);
  for (const p of predictions) {
    if (!hasValidLabel(p, numClasses)) continue;
    sums[p.label]! += p.probabilities[p.label] ?? 0;
    counts[p.label]! += 1;
  }
  return sums.map((sum, c) => (counts[c]! > 0 ? sum / counts[c]! : Infinity));
}

/** Likely mislabelled images, most suspicious (lowest self-confidence) first. */
export function findLabelIssues(predictions: readonly OutOfSamplePrediction[], numClasses: number): LabelIssue[] {
  const thresholds = perClassThresholds(predictions, numClasses);
  const issues: LabelIssue[] = [];
  for (const p of predictions) {
    if (!hasValidLabel(p, numClasses)) continue;
    const selfConfidence = p.probabilities[p.label] ?? 0;
    if (!(selfConfidence < thresholds[p.label]!)) continue;
    let suggestedLabel = -1;
    for (let c = 0; c < numClasses; c++) {
      const probability = p.probabilities[c] ?? 0;
      if (c !== p.label && probability >= thresholds[c]! && (suggestedLabel < 0 || probability > p.probabilities[suggestedLabel]!)) suggestedLabel = c;
    }
    // An image the model gives its own class more than any other is not a suspect, whatever the
    // thresholds: an overfit model's thresholds sit near 1 (on stamps6 at 224 px, 8 of 22 were
    // flagged, some predicted right).
    if (suggestedLabel >= 0 && p.probabilities[suggestedLabel]! > selfConfidence) {
      issues.push({ id: p.id, givenLabel: p.label, suggestedLabel, selfConfidence, suggestedProbability: p.probabilities[suggestedLabel]! });
    }
  }
  return issues.sort((a, b) => a.selfConfidence - b.selfConfidence);
}

function hasValidLabel(p: OutOfSamplePrediction, numClasses: number): boolean {
  return Number.isInteger(p.label) && p.label >= 0 && p.label < numClasses;
}

/** The images with the highest cross-entropy −ln p(given label), highest first. */
export function topLosses(predictions: readonly OutOfSamplePrediction[], count = TOP_LOSSES): { id: string; loss: number }[] {
  return predictions
    .map((p) => ({ id: p.id, loss: -Math.log(Math.max(p.probabilities[p.label] ?? 0, MIN_PROBABILITY)) }))
    .sort((a, b) => b.loss - a.loss)
    .slice(0, count);
}

export function detectLabelIssues(input: LabelQualityInput): Finding | null {
  const { predictions, classNames } = input;
  const issues = findLabelIssues(predictions, classNames.length);
  if (issues.length === 0) return null;
  const share = issues.length / predictions.length;
  const name = (c: number) => classNames[c] ?? `class ${c}`;
  return {
    id: 'labels/likely-mislabeled',
    severity: !input.provisional && wilsonInterval(issues.length, predictions.length).low >= MISLABEL_WARNING_SHARE && issues.length >= MISLABEL_WARNING_MIN_COUNT ? 'warning' : 'info',
    title: 'Some images are probably in the wrong class',
    explanation:
      `${issues.length} of ${predictions.length} images (${formatPercent(share)}) look more like another class than the one they are filed under, by the model's own standards for each class. ` +
      'Wrong labels teach the model contradictions; check them before training further (the model can be the one that is wrong).' +
      (input.provisional ? ' The model is still training: the run checks again when it ends.' : ''),
    evidence: evidenceOf(input, issues, name),
    // No one-click fix on purpose: a suspect is a question for a person, and dropping images the
    // model finds hard would also drop the hard cases it most needs.
    fix: null,
  };
}

function evidenceOf(input: LabelQualityInput, issues: readonly LabelIssue[], name: (c: number) => string): Evidence[] {
  return [
    {
      kind: 'suspects',
      label: 'Likely in the wrong class, most suspicious first',
      images: issues.slice(0, MAX_IMAGE_IDS).map((i) => ({
        id: i.id,
        given: name(i.givenLabel),
        suggested: name(i.suggestedLabel),
        givenProbability: i.selfConfidence,
        suggestedProbability: i.suggestedProbability,
        loss: -Math.log(Math.max(i.selfConfidence, MIN_PROBABILITY)),
      })),
    },
    { kind: 'images', label: 'Highest loss', imageIds: topLosses(input.predictions).map((t) => t.id) },
    {
      kind: 'numbers',
      rows: topLosses(input.predictions, MAX_LISTED).map((t) => ({ label: t.id, value: `loss ${formatNumber(t.loss)}` })),
    },
  ];
}
