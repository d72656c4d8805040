// Rule: the loss at the very start is far from what a fresh head must give. A new softmax head
// knows nothing, so it spreads its bets and its cross-entropy starts near ln C ("verify loss @
// init", Karpathy 2019, "A Recipe for Training Neural Networks"). A start far from it means the
// inputs, the head's initialisation or the loss itself is not what it seems.

import { formatNumber } from './format';
import { chanceLoss, lossSeries, medianLoss, type TrainingHistory } from './training-history';
import type { Finding } from './types';

/** The start is judged on the median of steps 0..2: the warm-up keeps them close to the initial weights. */
export const INITIAL_STEPS = 3;
/** Fire above 2 × ln C or below 0.5 × ln C. Hand rule: a fresh head's loss wanders far less than that. */
export const INITIAL_LOSS_HIGH_FACTOR = 2;
export const INITIAL_LOSS_LOW_FACTOR = 0.5;

export function detectInitialLoss(history: TrainingHistory): Finding | null {
  const first = history.steps.filter((s) => s.step < INITIAL_STEPS);
  if (history.numClasses < 2 || first.length === 0) return null;
  const initial = medianLoss(first);
  const expected = chanceLoss(history.numClasses);
  if (!Number.isFinite(initial)) return null;
  const factor = initial / expected;
  if (factor <= INITIAL_LOSS_HIGH_FACTOR && factor >= INITIAL_LOSS_LOW_FACTOR) return null;

  const start = `The loss of the first steps is ${formatNumber(initial)}, but a fresh head over ${history.numClasses} classes starts near ln ${history.numClasses} = ${formatNumber(expected)}: ${formatNumber(factor, 2)}× that.`;
  const why =
    factor > INITIAL_LOSS_HIGH_FACTOR
      ? ' Its first answers are already extreme and wrong: the inputs are far larger than expected (check the preprocessing) or the head starts with large weights.'
      : ' It cannot know that much yet: the labels may leak into the inputs, the loss may not be the cross-entropy it should be, or the head was not freshly initialised.';
  return {
    id: 'training/initial-loss',
    severity: 'warning',
    title: factor > INITIAL_LOSS_HIGH_FACTOR ? 'The loss starts far too high' : 'The loss starts suspiciously low',
    explanation: start + why,
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: `Median loss of the first ${first.length} steps`, value: formatNumber(initial) },
          { label: `Expected at the start (ln ${history.numClasses})`, value: formatNumber(expected) },
          { label: 'Accepted range', value: `${formatNumber(INITIAL_LOSS_LOW_FACTOR * expected)} – ${formatNumber(INITIAL_LOSS_HIGH_FACTOR * expected)}` },
        ],
      },
      lossSeries(history.steps),
    ],
    fix: null,
  };
}
