// Rule: some classes have far more training images than others. Unweighted cross-entropy is then
// minimised by predicting the big classes, and a model that never names a small class can still
// reach a "good" accuracy: the majority baseline.

import type { ClassWeighting } from '../class-weights';
import { majorityBaseline, metricsFromConfusion } from '../metrics';
import { formatNumber, formatPercent } from './format';
import type { Evidence, Finding, Severity } from './types';

export interface ClassBalanceInput {
  classNames: readonly string[];
  /** Training images per class, in class index order. */
  trainCounts: readonly number[];
  /** The run's current class weighting. */
  classWeighting: ClassWeighting;
  /** Latest validation confusion matrix, confusion[actual][predicted], if the run has been validated. */
  validationConfusion?: number[][];
}

/**
 * Largest / smallest class: from 3× it is worth knowing (info), from 10× it skews an unweighted
 * loss enough to matter (warning). Hand rule, in line with the usual "mild / moderate / extreme"
 * grading of imbalance (Google's ML crash course puts mild at a 20–40% minority).
 */
export const IMBALANCE_NOTICE_RATIO = 3;
export const IMBALANCE_WARNING_RATIO = 10;

/**
 * Collapse onto the big classes: a smaller class with at least MIN_SUPPORT_FOR_RECALL validation
 * images is recalled at most STARVED_RECALL (≈ never), and either one class takes
 * DOMINANT_PREDICTION_SHARE of all predictions or accuracy is within BASELINE_MARGIN of always
 * answering the majority class. Hand rules.
 */
export const STARVED_RECALL = 0.05;
export const MIN_SUPPORT_FOR_RECALL = 3;
export const DOMINANT_PREDICTION_SHARE = 0.8;
export const BASELINE_MARGIN = 0.02;

interface Collapse {
  starved: { classIndex: number; recall: number; support: number }[];
  accuracy: number;
  baseline: number;
  dominantShare: number;
  dominantClass: number;
}

export function detectClassImbalance(input: ClassBalanceInput): Finding | null {
  const { trainCounts, classNames } = input;
  const present = trainCounts.map((n, c) => ({ n, c })).filter(({ n }) => n > 0);
  if (present.length < 2) return null;
  const largest = present.reduce((a, b) => (b.n > a.n ? b : a));
  const smallest = present.reduce((a, b) => (b.n < a.n ? b : a));
  const ratio = largest.n / smallest.n;
  if (ratio < IMBALANCE_NOTICE_RATIO) return null;

  const collapse = input.validationConfusion ? findCollapse(input.validationConfusion, trainCounts) : null;
  const weighted = input.classWeighting === 'balanced';
  const name = (c: number) => classNames[c] ?? `class ${c}`;

  const sentences = [
    `The largest class (${name(largest.c)}, ${largest.n} training images) has ${formatNumber(ratio)}× as many images as the smallest (${name(smallest.c)}, ${smallest.n}).`,
  ];
  if (collapse) {
    const starved = collapse.starved.map((s) => `${name(s.classIndex)} (${formatPercent(s.recall)})`).join(', ');
    sentences.push(
      `The model has collapsed onto the big classes: it scores ${formatPercent(collapse.accuracy)} on validation against ${formatPercent(collapse.baseline)} for always answering the largest class, and almost never recognises ${starved}.`,
    );
  }
  sentences.push(
    weighted
      ? 'Class weighting is already balanced; more images of the small classes would help most.'
      : 'Balanced class weighting makes every class count equally in the loss.',
  );

  return {
    id: 'data/class-imbalance',
    severity: severityOf(ratio, collapse !== null, weighted),
    title: collapse ? 'The model ignores the small classes' : 'Classes are imbalanced',
    explanation: sentences.join(' '),
    evidence: evidenceOf(input, ratio, collapse),
    fix: weighted ? null : { kind: 'setClassWeighting', value: 'balanced', label: 'Turn on balanced class weighting' },
  };
}

function severityOf(ratio: number, collapsed: boolean, weighted: boolean): Severity {
  if (collapsed) return weighted ? 'warning' : 'critical';
  if (weighted) return 'info';
  return ratio >= IMBALANCE_WARNING_RATIO ? 'warning' : 'info';
}

function findCollapse(confusion: number[][], trainCounts: readonly number[]): Collapse | null {
  const metrics = metricsFromConfusion(confusion);
  if (metrics.count === 0) return null;
  const largestTrain = Math.max(...trainCounts);
  const starved = metrics.perClass
    .map((m, classIndex) => ({ classIndex, recall: m.recall, support: m.support }))
    .filter((m) => m.support >= MIN_SUPPORT_FOR_RECALL && m.recall <= STARVED_RECALL && (trainCounts[m.classIndex] ?? 0) < largestTrain);
  const predicted = confusion[0]!.map((_, p) => confusion.reduce((sum, row) => sum + (row[p] ?? 0), 0));
  const dominantClass = predicted.indexOf(Math.max(...predicted));
  const dominantShare = predicted[dominantClass]! / metrics.count;
  const baseline = majorityBaseline(metrics.perClass.map((m) => m.support));
  const noBetterThanBaseline = metrics.accuracy <= baseline + BASELINE_MARGIN;
  if (starved.length === 0 || !(dominantShare >= DOMINANT_PREDICTION_SHARE || noBetterThanBaseline)) return null;
  return { starved, accuracy: metrics.accuracy, baseline, dominantShare, dominantClass };
}

function evidenceOf(input: ClassBalanceInput, ratio: number, collapse: Collapse | null): Evidence[] {
  const name = (c: number) => input.classNames[c] ?? `class ${c}`;
  const rows = [
    { label: 'Imbalance (largest / smallest class)', value: `${formatNumber(ratio)}×` },
    { label: 'Class weighting', value: input.classWeighting },
  ];
  const empty = input.trainCounts.flatMap((n, c) => (n === 0 ? [name(c)] : []));
  if (empty.length > 0) rows.push({ label: 'Classes with no training image', value: empty.join(', ') });
  if (collapse) {
    rows.push(
      { label: 'Validation accuracy', value: formatPercent(collapse.accuracy) },
      { label: 'Always answering the largest class', value: formatPercent(collapse.baseline) },
      { label: `Predictions that are ${name(collapse.dominantClass)}`, value: formatPercent(collapse.dominantShare) },
      ...collapse.starved.map((s) => ({ label: `Recall of ${name(s.classIndex)}`, value: `${formatPercent(s.recall)} of ${s.support}` })),
    );
  }
  return [
    { kind: 'numbers', rows },
    { kind: 'series', label: 'Training images per class', points: input.trainCounts.map((n, c) => ({ x: c, y: n })), unit: 'images' },
  ];
}
