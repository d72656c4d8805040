import { describe, expect, it } from 'vitest';
import type { StepPoint, TrainingHistory } from '../../../../src/core/diagnostics/training-history';
import { detectUnfreezeLearningRate } from '../../../../src/core/diagnostics/unfreeze-learning-rate';
import { healthyHistory } from './fixtures';

/** 100 head-only steps at loss 0.5, then `to` blocks unfrozen at the same head rate, loss `after`. */
function unfreezeRun(headLr: number, to: number, after: number): StepPoint[] {
  return Array.from({ length: 160 }, (_, step) => ({ step, loss: step < 100 ? 0.5 : after, learningRate: headLr, freezeDepth: step < 100 ? 0 : to }));
}
const history = (steps: StepPoint[], backboneLrMultiplier: number): TrainingHistory => ({ ...healthyHistory(), steps, backboneLrMultiplier });

describe('detectUnfreezeLearningRate', () => {
  it('stays silent with the default rates (head 1e-3 × 0.1 = backbone 1e-4) and without unfreezing', () => {
    expect(detectUnfreezeLearningRate(history(unfreezeRun(1e-3, 3, 0.45), 0.1))).toBeNull();
    expect(detectUnfreezeLearningRate(healthyHistory())).toBeNull();
  });

  it('fires critical when the backbone trains at the head rate (× 1) and the loss jumps 0.5 → 1.4', () => {
    const finding = detectUnfreezeLearningRate(history(unfreezeRun(1e-3, 9, 1.4), 1))!;
    expect(finding.id).toBe('training/unfreeze-high-lr');
    expect(finding.severity).toBe('critical');
    expect(finding.explanation).toContain('At step 100 the run went from 0 to 9 trainable blocks while the backbone kept learning at 0.001');
    expect(finding.explanation).toContain('The loss went from 0.5 to 1.4 right after.');
    // min(1e-3 / 10, 1e-5 / 1): the backbone at the Keras guide's 1e-5.
    expect(finding.fix).toEqual({ kind: 'setLearningRate', value: 1e-5, label: 'Lower the learning rate to 0.00001' });
  });

  it('warns when the backbone reaches 1e-3 (head 1e-2 × 0.1) even before the loss suffers', () => {
    const finding = detectUnfreezeLearningRate(history(unfreezeRun(1e-2, 3, 0.5), 0.1))!;
    expect(finding.severity).toBe('warning');
    // min(1e-2 / 10, 1e-5 / 0.1) = 1e-4: the backbone then trains at 1e-5.
    expect(finding.fix?.kind === 'setLearningRate' && finding.fix.value).toBeCloseTo(1e-4, 12);
  });
});
