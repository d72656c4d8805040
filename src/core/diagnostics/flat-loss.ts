// Rule: the loss has stopped going down while it is still high. Which cause is likeliest depends
// on what the run was doing: a learning rate too small to move anything, a head that cannot
// learn from what it is given, or frozen ImageNet features that separate these classes only so far.

import { DEFAULT_TRAINING_CONFIG } from '../training-config';
import { describeFreezeDepth, FINE_TUNE_HEAD_LEARNING_RATE, RES5_FREEZE_DEPTH } from './fine-tuning';
import { formatNumber, formatPercent } from './format';
import { median } from './statistics';
import { chanceLoss, LOSS_WINDOW_STEPS, lossSeries, medianLoss, peakLearningRate, type StepPoint, type TrainingHistory } from './training-history';
import type { Finding, Fix, Severity } from './types';

/** The loss is judged over the last 50 steps: long enough for a fresh head to make visible progress. Hand rule. */
export const FLAT_SPAN_STEPS = 50;
/** Flat: the last window's median is less than 5% below the first window's of that span. Hand rule. */
export const FLAT_MAX_RELATIVE_DECREASE = 0.05;
/** Only a loss still above half of ln C is a problem; below it the run has learned and may just be converging. Hand rule. */
export const FLAT_MIN_LOSS_OF_CHANCE = 0.5;
/** At 90% of ln C or more the head has learned next to nothing: critical. Hand rule. */
export const NEAR_CHANCE_LOSS_OF_CHANCE = 0.9;
/**
 * Below this head learning rate a fresh dense head barely moves in a few hundred steps (Adam's
 * step is about the learning rate per weight; Keras' default is 1e-3). Hand rule.
 */
export const LOW_LEARNING_RATE = 1e-5;

type Cause = 'low-learning-rate' | 'head-not-learning' | 'frozen-features' | 'plateau';

export function detectFlatLoss(history: TrainingHistory): Finding | null {
  const { steps, numClasses } = history;
  const last = steps[steps.length - 1];
  if (!last || numClasses < 2 || last.step - steps[0]!.step + 1 < FLAT_SPAN_STEPS) return null;
  const span = steps.filter((s) => s.step > last.step - FLAT_SPAN_STEPS);
  // Two windows that do not overlap, or a thinned history would compare a window with itself.
  if (span.length < 2 * LOSS_WINDOW_STEPS) return null;
  const before = medianLoss(span.slice(0, LOSS_WINDOW_STEPS));
  const after = medianLoss(span.slice(-LOSS_WINDOW_STEPS));
  const chance = chanceLoss(numClasses);
  if (!(before > 0) || !Number.isFinite(after)) return null;
  const decrease = (before - after) / before;
  if (decrease >= FLAT_MAX_RELATIVE_DECREASE || after < FLAT_MIN_LOSS_OF_CHANCE * chance) return null;

  const nearChance = after >= NEAR_CHANCE_LOSS_OF_CHANCE * chance;
  const learningRate = median(span.map((s) => s.learningRate));
  const cause = causeOf(span, nearChance, learningRate);
  const severity: Severity = nearChance ? 'critical' : 'warning';
  return {
    id: 'training/flat-loss',
    severity,
    title: nearChance ? 'The model is not learning' : 'The loss has stopped improving',
    explanation:
      `Over the last ${FLAT_SPAN_STEPS} steps the loss went from ${formatNumber(before)} to ${formatNumber(after)} (${formatPercent(Math.abs(decrease))} ${decrease >= 0 ? 'lower' : 'higher'}); ` +
      `knowing nothing gives ln ${numClasses} = ${formatNumber(chance)}. ${CAUSE_TEXT[cause](learningRate, last.freezeDepth)}`,
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: `Median loss, first ${LOSS_WINDOW_STEPS} of the last ${FLAT_SPAN_STEPS} steps`, value: formatNumber(before) },
          { label: `Median loss, last ${LOSS_WINDOW_STEPS} steps`, value: formatNumber(after) },
          { label: `Loss of a head that knows nothing (ln ${numClasses})`, value: formatNumber(chance) },
          { label: 'Head learning rate (median)', value: formatNumber(learningRate) },
          { label: 'Trainable blocks', value: String(last.freezeDepth) },
        ],
      },
      lossSeries(steps),
    ],
    fix: fixFor(cause, peakLearningRate(steps)),
  };
}

function causeOf(span: readonly StepPoint[], nearChance: boolean, learningRate: number): Cause {
  if (learningRate < LOW_LEARNING_RATE) return 'low-learning-rate';
  const headOnly = span.every((s) => s.freezeDepth === 0);
  if (headOnly && nearChance) return 'head-not-learning';
  if (headOnly) return 'frozen-features';
  return 'plateau';
}

const CAUSE_TEXT: Record<Cause, (learningRate: number, freezeDepth: number) => string> = {
  'low-learning-rate': (lr) => `The learning rate, ${formatNumber(lr)}, is too small to move the weights (a fresh head usually trains at about 1e-3).`,
  'head-not-learning': () =>
    'Only the head trains, and nothing it does lowers the loss: its inputs carry no information (see any input findings), its labels are unrelated to the images, or it receives no gradient.',
  'frozen-features': () =>
    'Only the head trains, on frozen ImageNet features that separate your classes only this far; training the top of the backbone too, at a low learning rate, lets the features adapt.',
  plateau: (lr, depth) => `With ${describeFreezeDepth(depth)} training at learning rate ${formatNumber(lr)} the run has reached a plateau.`,
};

function fixFor(cause: Cause, peakRate: number): Fix | null {
  switch (cause) {
    case 'low-learning-rate': {
      const value = DEFAULT_TRAINING_CONFIG.learningRate;
      return { kind: 'setLearningRate', value, label: `Raise the learning rate to ${formatNumber(value)}` };
    }
    case 'frozen-features': {
      const depth = RES5_FREEZE_DEPTH;
      const learningRate = Math.min(peakRate, FINE_TUNE_HEAD_LEARNING_RATE);
      return { kind: 'setFreezeDepth', value: depth, learningRate, label: `Train ${describeFreezeDepth(depth)} at learning rate ${formatNumber(learningRate)}` };
    }
    case 'head-not-learning':
    case 'plateau':
      return null;
  }
}
