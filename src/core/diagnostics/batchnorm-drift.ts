// Rule: BatchNorm statistics move in blocks that should be still. tfjs's BatchNormalization reads
// only the `training` flag and ignores `trainable`, so a "frozen" backbone run in training mode
// (as `model.fit` does) renormalises with every batch: its features shift under the head, which
// chases a moving target, and the pretrained statistics are lost.

import type { BatchNormDrift } from '../run-records';
import type { BatchNormPolicy } from '../training-config';
import { formatPercent, plural } from './format';
import type { Finding } from './types';

export interface BatchNormDriftInput {
  /** Stem first, then res2a … res5c (the order of the chart). */
  blocks: readonly BatchNormDrift[];
  /** The run's BatchNorm policy for unfrozen blocks (TrainingConfig.batchNormPolicy). */
  batchNormPolicy: BatchNormPolicy;
}

/**
 * Any change counts: moving statistics in inference mode are never written, so they stay
 * bit-identical, while one training-mode step moves them by 1 − momentum (1% in Keras' ResNet50).
 */
export const MAX_STILL_RELATIVE_CHANGE = 0;
const MAX_BLOCKS_LISTED = 5;

export function detectBatchNormDrift(input: BatchNormDriftInput): Finding | null {
  // Frozen blocks always run in inference mode; with the 'frozen' policy unfrozen blocks do too.
  const shouldBeStill = (b: BatchNormDrift) => b.frozen || input.batchNormPolicy === 'frozen';
  const drifting = input.blocks.filter((b) => shouldBeStill(b) && drift(b) > MAX_STILL_RELATIVE_CHANGE);
  if (drifting.length === 0) return null;

  const worst = drifting.reduce((a, b) => (drift(b) > drift(a) ? b : a));
  const frozenCount = drifting.filter((b) => b.frozen).length;
  const which = frozenCount > 0 ? `${plural(frozenCount, 'frozen block')}` : plural(drifting.length, 'block');
  const policyIsFrozen = input.batchNormPolicy === 'frozen';
  return {
    id: 'training/bn-drift-frozen',
    severity: 'critical',
    title: 'Frozen layers are changing',
    explanation:
      `The BatchNorm statistics of ${which} have changed since training started (up to ${formatPercent(drift(worst))} in ${worst.name}): ` +
      `they run in training mode, so the features under the head shift with every batch.` +
      (policyIsFrozen ? ' The BatchNorm policy already says frozen, so this is a bug in the training loop: please report it.' : ''),
    evidence: [
      {
        kind: 'series',
        label: 'BatchNorm drift per block since the start',
        points: input.blocks.map((b, i) => ({ x: i, y: drift(b) * 100 })),
        unit: '%',
      },
      {
        kind: 'numbers',
        rows: [...drifting]
          .sort((a, b) => drift(b) - drift(a))
          .slice(0, MAX_BLOCKS_LISTED)
          .map((b) => ({ label: `${b.name}${b.frozen ? ' (frozen)' : ''}`, value: `mean ${formatPercent(b.meanRelativeChange)}, variance ${formatPercent(b.varianceRelativeChange)}` })),
      },
    ],
    // The one-click policy cannot help when it is already set: the cause is then in the code.
    fix: policyIsFrozen ? null : { kind: 'setBatchNormPolicy', value: 'frozen', label: 'Keep BatchNorm frozen' },
  };
}

function drift(block: BatchNormDrift): number {
  return Math.max(block.meanRelativeChange, block.varianceRelativeChange);
}
