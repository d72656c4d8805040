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

  it('also finds a rise with a wobble: validation loss 0.9 → 2.05 (best 0.8 at epoch 2) while training loss fell to ~0, as on stamps6 at 224 px', () => {
    const wobbly = [
      epochRecord(1, { loss: 1.2, accuracy: 0.6 }, { loss: 0.9, accuracy: 0.7 }),
      epochRecord(2, { loss: 0.5, accuracy: 0.85 }, { loss: 0.8, accuracy: 0.75 }),
      epochRecord(3, { loss: 0.2, accuracy: 0.95 }, { loss: 1.3, accuracy: 0.73 }),
      epochRecord(4, { loss: 0.05, accuracy: 0.99 }, { loss: 1.2, accuracy: 0.74 }),
      epochRecord(5, { loss: 0.01, accuracy: 1 }, { loss: 1.6, accuracy: 0.72 }),
      epochRecord(6, { loss: 0.0004, accuracy: 1 }, { loss: 2.05, accuracy: 0.72 }),
    ];
    // The last two epochs rose (1.2 → 1.6 → 2.05), but epoch 4 fell: the strict rule alone would miss 3 → 6.
    expect(detectOverfitting({ ...healthyHistory(), epochs: wobbly.slice(0, 4), steps: atDepth(0) })).not.toBeNull();
    const finding = detectOverfitting({ ...healthyHistory(), epochs: [...wobbly.slice(0, 5), epochRecord(6, { loss: 0.0004, accuracy: 1 }, { loss: 1.5, accuracy: 0.72 })], steps: atDepth(0) })!;
    // 1.5 / 0.8 − 1 = 87.5% above the best, 4 epochs after it.
    expect(finding.explanation).toContain('Validation loss is 87.5% above its best, 4 epochs later (0.8 → 1.5)');
    expect(finding.severity).toBe('warning');
  });

  it('has no one-click fix when only the head trains', () => {
    const finding = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(0) })!;
    expect(finding.fix).toBeNull();
    expect(finding.explanation).toMatch(/augmentation/);
  });
});
