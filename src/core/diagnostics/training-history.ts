// The metric history of a run, as the training rules read it, and the smoothing they share:
// single batches are noisy, so rules compare medians of windows of steps.

import type { EpochRecord, StepRecord } from '../run-records';
import { median, thinSeries } from './statistics';
import type { Evidence } from './types';

/**
 * What the rules read of a step. A subset of the run's StepRecord, so the worker can also record a
 * failed step (NaN loss) without inventing the rest.
 */
export type StepPoint = Pick<StepRecord, 'step' | 'loss' | 'learningRate' | 'freezeDepth'>;

export interface TrainingHistory {
  /** Classes of the user's task (C): a fresh head's loss starts near ln C. */
  numClasses: number;
  /** In step order. */
  steps: readonly StepPoint[];
  /** In epoch order. */
  epochs: readonly EpochRecord[];
  /** The backbone's learning rate is the head's × this (TrainingConfig.backboneLrMultiplier). */
  backboneLrMultiplier: number;
  /** The epoch whose weights the model went back to (early stopping), while it has them. */
  keptEpoch?: number;
}

/** Steps per window: the median of 10 batches shrugs off a few unlucky ones. Hand rule. */
export const LOSS_WINDOW_STEPS = 10;
/** Points in a loss chart: enough to see the shape, small enough to ship with a finding. */
const MAX_SERIES_POINTS = 200;

export interface WindowMedian {
  /** Last step of the window. */
  step: number;
  loss: number;
}

/** Medians of consecutive windows of `size` finite losses, oldest first; a partial last window counts. */
export function windowMedians(steps: readonly StepPoint[], size = LOSS_WINDOW_STEPS): WindowMedian[] {
  const finite = steps.filter((s) => Number.isFinite(s.loss));
  const windows: WindowMedian[] = [];
  for (let start = 0; start < finite.length; start += size) {
    const window = finite.slice(start, start + size);
    windows.push({ step: window[window.length - 1]!.step, loss: median(window.map((s) => s.loss)) });
  }
  return windows;
}

/** Median of the finite losses among `steps` (NaN when there are none). */
export function medianLoss(steps: readonly StepPoint[]): number {
  return median(steps.filter((s) => Number.isFinite(s.loss)).map((s) => s.loss));
}

/** The per-step loss as chart evidence (finite steps only, thinned). */
export function lossSeries(steps: readonly StepPoint[], label = 'Training loss per step'): Evidence {
  const points = steps.filter((s) => Number.isFinite(s.loss)).map((s) => ({ x: s.step, y: s.loss }));
  return { kind: 'series', label, points: thinSeries(points, MAX_SERIES_POINTS), unit: 'nats' };
}

/** The highest head learning rate of the steps: the schedule's peak, which is what setLearningRate sets. */
export function peakLearningRate(steps: readonly StepPoint[]): number {
  return steps.reduce((max, s) => Math.max(max, s.learningRate), 0);
}

/** The cross-entropy of a head that knows nothing yet: uniform over C classes gives ln C. */
export function chanceLoss(numClasses: number): number {
  return Math.log(numClasses);
}
