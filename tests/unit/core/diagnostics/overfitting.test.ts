import { describe, expect, it } from 'vitest';
import { detectOverfitting } from '../../../../src/core/diagnostics/overfitting';
import type { EpochRecord } from '../../../../src/core/run-records';
import { epochRecord, HEALTHY_EPOCHS, healthyHistory, healthySteps } from './fixtures';

/** Validation loss bottoms out at epoch 3 (0.5) and rises for two epochs while training loss keeps falling. */
const OVERFITTING: EpochRecord[] = [
  epochRecord(1, { loss: 1.0, accuracy: 0.65 }, { loss: 0.8, accuracy: 0.72 }),
  epochRecord(2, { loss: 0.6, accuracy: 0.8 }, { loss: 0.6, accuracy: 0.8 }),
  epochRecord(3, { loss: 0.4, accuracy: 0.88 }, { loss: 0.5, accuracy: 0.83 }),
  epochRecord(4, { loss: 0.25, accuracy: 0.93 }, { loss: 0.55, accuracy: 0.82 }),
  epochRecord(5, { loss: 0.15, accuracy: 0.97 }, { loss: 0.62, accuracy: 0.81 }),
];
const atDepth = (freezeDepth: number) => healthySteps(20).map((s) => ({ ...s, freezeDepth }));

describe('detectOverfitting', () => {
  it('stays silent while validation loss falls, or has risen for one epoch only', () => {
    expect(detectOverfitting(healthyHistory())).toBeNull();
    expect(detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING.slice(0, 4) })).toBeNull();
    expect(detectOverfitting({ ...healthyHistory(), epochs: HEALTHY_EPOCHS.map((e) => ({ ...e, validation: null })) })).toBeNull();
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
