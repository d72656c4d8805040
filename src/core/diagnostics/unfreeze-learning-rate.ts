// Rule: blocks were unfrozen but the learning rate was not lowered for them. Updates sized for a
// fresh head wash out what the pretrained weights learned on ImageNet; the loss typically jumps
// right after the change.

import { FINE_TUNE_BACKBONE_LEARNING_RATE } from './fine-tuning';
import { formatNumber } from './format';
import { lossSeries, medianLoss, type StepPoint, type TrainingHistory } from './training-history';
import type { Finding } from './types';

/**
 * The backbone's effective learning rate is too high from 1e-3 (the usual rate for a fresh head,
 * 100× the Keras guide's 1e-5 for pretrained weights), or whenever it is not below the head's.
 */
export const UNFREEZE_MAX_BACKBONE_LR = 1e-3;
/** Steps before and after the change whose median losses are compared. Hand rule. */
const JUMP_WINDOW_STEPS = 10;
/** A median loss 1.5× higher after the change than before: the damage is visible. Hand rule. */
export const UNFREEZE_LOSS_JUMP_FACTOR = 1.5;
/** The loss chart around the change, in steps either side. */
const CHART_MARGIN_STEPS = 50;

interface Unfreeze {
  /** Index into the steps of the first step trained with the new depth. */
  at: number;
  from: number;
  to: number;
  headLr: number;
  backboneLr: number;
}

export function detectUnfreezeLearningRate(history: TrainingHistory): Finding | null {
  const change = unfreezes(history).find((u) => u.backboneLr >= UNFREEZE_MAX_BACKBONE_LR || history.backboneLrMultiplier >= 1);
  if (!change) return null;
  const { steps } = history;
  const step = steps[change.at]!.step;
  const before = medianLoss(steps.slice(Math.max(0, change.at - JUMP_WINDOW_STEPS), change.at));
  const after = medianLoss(steps.slice(change.at, change.at + JUMP_WINDOW_STEPS));
  const jumped = after >= UNFREEZE_LOSS_JUMP_FACTOR * before;
  const value = fineTuneHeadRate(change.headLr, history.backboneLrMultiplier);
  const jump = Number.isFinite(before) && Number.isFinite(after) ? ` The loss went from ${formatNumber(before)} to ${formatNumber(after)} right after.` : '';

  return {
    id: 'training/unfreeze-high-lr',
    severity: jumped ? 'critical' : 'warning',
    title: 'Blocks were unfrozen without lowering the learning rate',
    explanation:
      `At step ${step} the run went from ${change.from} to ${change.to} trainable blocks while the backbone kept learning at ${formatNumber(change.backboneLr)} ` +
      `(head ${formatNumber(change.headLr)} × ${formatNumber(history.backboneLrMultiplier)}). Pretrained weights need much smaller steps than a new head ` +
      `(the Keras guide fine-tunes at ${formatNumber(FINE_TUNE_BACKBONE_LEARNING_RATE)}), or large updates wash out what they learned on ImageNet.${jump}`,
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: 'Unfrozen at step', value: `${step} (${change.from} → ${change.to} blocks)` },
          { label: 'Head learning rate (peak after the change)', value: formatNumber(change.headLr) },
          { label: 'Backbone learning rate', value: formatNumber(change.backboneLr) },
          { label: `Median loss ${JUMP_WINDOW_STEPS} steps before → after`, value: `${formatNumber(before)} → ${formatNumber(after)}` },
        ],
      },
      lossSeries(
        steps.filter((s) => Math.abs(s.step - step) <= CHART_MARGIN_STEPS),
        'Training loss around the change',
      ),
    ],
    fix: { kind: 'setLearningRate', value, label: `Lower the learning rate to ${formatNumber(value)}` },
  };
}

/** The head rate that puts the backbone at the fine-tuning rate, and at least ten times below the current one. */
function fineTuneHeadRate(headLr: number, backboneLrMultiplier: number): number {
  return Math.min(headLr / 10, FINE_TUNE_BACKBONE_LEARNING_RATE / backboneLrMultiplier);
}

/** Every step where the freeze depth went up, with the peak learning rates while it held. */
function unfreezes(history: TrainingHistory): Unfreeze[] {
  const { steps, backboneLrMultiplier } = history;
  const found: Unfreeze[] = [];
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1]!.freezeDepth;
    const to = steps[i]!.freezeDepth;
    if (to <= from) continue;
    const headLr = peakRateWhile(steps, i, to);
    found.push({ at: i, from, to, headLr, backboneLr: headLr * backboneLrMultiplier });
  }
  return found;
}

/** The highest head learning rate from steps[start] for as long as the freeze depth stays `depth` (covers a warm-up). */
function peakRateWhile(steps: readonly StepPoint[], start: number, depth: number): number {
  let peak = 0;
  for (let i = start; i < steps.length && steps[i]!.freezeDepth === depth; i++) peak = Math.max(peak, steps[i]!.learningRate);
  return peak;
}
