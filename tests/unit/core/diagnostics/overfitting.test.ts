import { describe, expect, it } from 'vitest';
import { detectOverfitting } from '../../../../src/core/diagnostics/overfitting';
import type { EpochRecord } from '../../../../src/core/diagnostics/training-history';
import { HEALTHY_EPOCHS, healthyHistory, healthySteps } from './fixtures';

/** Validation loss bottoms out at epoch 3 (0.5) and rises for two epochs while training loss keeps falling. */
const OVERFITTING: EpochRecord[] = [
  { epoch: 1, trainLoss: 1.0, trainAccuracy: 0.65, validationLoss: 0.8, validationAccuracy: 0.72 },
  { epoch: 2, trainLoss: 0.6, trainAccuracy: 0.8, validationLoss: 0.6, validationAccuracy: 0.8 },
  { epoch: 3, trainLoss: 0.4, trainAccuracy: 0.88, validationLoss: 0.5, validationAccuracy: 0.83 },
  { epoch: 4, trainLoss: 0.25, trainAccuracy: 0.93, validationLoss: 0.55, validationAccuracy: 0.82 },
  { epoch: 5, trainLoss: 0.15, trainAccuracy: 0.97, validationLoss: 0.62, validationAccuracy: 0.81 },
];
const atDepth = (freezeDepth: number) => healthySteps(20).map((s) => ({ ...s, freezeDepth }));

describe('detectOverfitting', () => {
  it('stays silent while validation loss falls, or has risen for one epoch only', () => {
    expect(detectOverfitting(healthyHistory())).toBeNull();
    expect(detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING.slice(0, 4) })).toBeNull();
    expect(detectOverfitting({ ...healthyHistory(), epochs: HEALTHY_EPOCHS.map((e) => ({ ...e, validationLoss: null, validationAccuracy: null })) })).toBeNull();
  });

  it('warns when validation loss rose for two epochs (0.5 → 0.62) while training loss fell, and offers one stage fewer (9 → 3)', () => {
    const finding = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(9) })!;
    expect(finding.id).toBe('training/overfitting');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('(0.5 → 0.62) while training loss kept falling (0.4 → 0.15). The best validation loss was at epoch 3.');
    expect(finding.fix).toEqual({ kind: 'setFreezeDepth', value: 3, label: 'Train res5 and the head' });
    expect(finding.evidence.filter((e) => e.kind === 'series')).toHaveLength(2);
  });

  it('has no one-click fix when only the head trains', () => {
    const finding = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(0) })!;
    expect(finding.fix).toBeNull();
    expect(finding.explanation).toMatch(/augmentation/);
  });
});
