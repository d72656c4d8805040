// Rule: the loss blows up, to NaN or steadily upwards. The updates are too large for the
// landscape (almost always the learning rate), and every further step undoes learning.

import { formatNumber } from './format';
import { chanceLoss, LOSS_WINDOW_STEPS, lossSeries, peakLearningRate, windowMedians, type TrainingHistory } from './training-history';
import type { Finding, Fix } from './types';

/**
 * Diverging: the latest window's median loss is at least twice the best earlier window's, and the
 * rise is at least a quarter of ln C (so that a loss wobbling from 0.01 to 0.03 near convergence
 * does not count). Hand rules.
 */
export const DIVERGENCE_FACTOR = 2;
export const DIVERGENCE_MIN_RISE_OF_CHANCE = 0.25;
/** Windows needed before calling a trend: one to be the best, one in between, one to be the latest. */
const MIN_WINDOWS = 3;
/** The usual first remedy for an exploding loss: a learning rate ten times lower. Hand rule. */
export const LEARNING_RATE_CUT = 10;

export function detectLossDivergence(history: TrainingHistory): Finding | null {
  return nonFiniteLoss(history) ?? divergingLoss(history);
}

function nonFiniteLoss(history: TrainingHistory): Finding | null {
  const failed = history.steps.find((s) => !Number.isFinite(s.loss));
  if (!failed) return null;
  return {
    id: 'training/non-finite-loss',
    severity: 'critical',
    title: 'The loss became NaN',
    explanation:
      `At step ${failed.step} the loss became ${formatNumber(failed.loss)} (learning rate ${formatNumber(failed.learningRate)}): the weights blew up, and no step after that can learn. ` +
      'A learning rate ten times lower usually keeps training stable.',
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: 'First failed step', value: String(failed.step) },
          { label: 'Learning rate there', value: formatNumber(failed.learningRate) },
        ],
      },
      lossSeries(history.steps.filter((s) => s.step <= failed.step)),
    ],
    fix: lowerRate(history),
  };
}

function divergingLoss(history: TrainingHistory): Finding | null {
  const windows = windowMedians(history.steps);
  if (windows.length < MIN_WINDOWS || history.numClasses < 2) return null;
  const latest = windows[windows.length - 1]!;
  const best = windows.slice(0, -1).reduce((a, b) => (b.loss < a.loss ? b : a));
  const rise = latest.loss - best.loss;
  if (latest.loss < DIVERGENCE_FACTOR * best.loss || rise < DIVERGENCE_MIN_RISE_OF_CHANCE * chanceLoss(history.numClasses)) return null;

  const lastRate = history.steps[history.steps.length - 1]!.learningRate;
  return {
    id: 'training/diverging-loss',
    severity: 'critical',
    title: 'The loss is going up',
    explanation:
      `The loss has risen from ${formatNumber(best.loss)} (around step ${best.step}) to ${formatNumber(latest.loss)} (around step ${latest.step}), ${formatNumber(latest.loss / best.loss, 2)}× its best: ` +
      `training is diverging, usually because the learning rate (now ${formatNumber(lastRate)}) is too high.`,
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: `Best median loss over ${LOSS_WINDOW_STEPS} steps`, value: `${formatNumber(best.loss)} at step ${best.step}` },
          { label: `Latest median loss over ${LOSS_WINDOW_STEPS} steps`, value: `${formatNumber(latest.loss)} at step ${latest.step}` },
          { label: 'Learning rate now', value: formatNumber(lastRate) },
        ],
      },
      lossSeries(history.steps),
    ],
    fix: lowerRate(history),
  };
}

/** A tenth of the run's peak learning rate. */
function lowerRate(history: TrainingHistory): Fix | null {
  const peak = peakLearningRate(history.steps);
  if (!(peak > 0)) return null;
  const value = peak / LEARNING_RATE_CUT;
  return { kind: 'setLearningRate', value, label: `Lower the learning rate to ${formatNumber(value)}` };
}
