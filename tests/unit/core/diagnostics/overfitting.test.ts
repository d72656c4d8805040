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

  it('warns when validation loss rose for two epochs (0.5 → 0.62) while training loss fell, offers the best epoch back, and names one stage fewer (9 → 3)', () => {
    const finding = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(9) })!;
    expect(finding.id).toBe('training/overfitting');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('(0.5 → 0.62) while training loss kept falling (0.4 → 0.15). The best validation loss was at epoch 4.');
    // Epochs count from 0 in the records and from 1 on the page.
    expect(finding.fix).toEqual({ kind: 'restoreBestEpoch', epoch: 3, label: 'Go back to epoch 4, the lowest validation loss' });
    expect(finding.explanation).toContain('training fewer blocks (res5 and the head)');
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

  it('offers the best epoch back when only the head trains too, and once the model went back there, says so as info without a fix', () => {
    const finding = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(0) })!;
    expect(finding.fix).toMatchObject({ kind: 'restoreBestEpoch', epoch: 3 });
    expect(finding.explanation).toMatch(/augmentation/);
    const restored = detectOverfitting({ ...healthyHistory(), epochs: OVERFITTING, steps: atDepth(0), keptEpoch: 3 })!;
    expect(restored).toMatchObject({ severity: 'info', title: 'The model went back to its best epoch', fix: null });
  });
});

/** `record` with these per-image validation losses, its validation loss their mean. */
function withImageLosses(record: EpochRecord, losses: number[]): EpochRecord {
  return { ...record, validation: { ...record.validation!, loss: losses.reduce((a, b) => a + b, 0) / losses.length, losses } };
}

describe('detectOverfitting, against the noise of a few validation images', () => {
  // Measured: stamps6 at 32 px, split seed 17, head only with the default recipe for 10 epochs
  // (tests/integration/diagnostics-resplits-training). Per-image validation losses at the best
  // epoch (0) and the last (9), rounded to 3 decimals; the epochs between as the run reported them.
  const BEST = [1.888, 1.588, 1.826, 2.76, 1.522, 1.286, 1.67, 1.41, 1.396, 1.722, 3.906, 0.205, 0.419, 0.618, 0.797, 0.95, 0.345, 0.513, 0.882, 2.478, 1.766, 2.211];
  const LAST = [4.251, 1.415, 1.487, 11.479, 0.18, 0.011, 0.9, 0.12, 0.02, 0.522, 16.279, 0, 0, 0.02, 0.065, 0.401, 0.444, 0.029, 0.677, 6.343, 1.69, 4.5];
  const validationLoss = [1.462, 1.529, 1.857, 2.09, 2.229, 2.284, 2.312, 2.315, 2.311, 2.311];
  const trainLoss = [1.67, 0.645, 0.206, 0.114, 0.075, 0.05, 0.037, 0.03, 0.033, 0.03];
  const accuracy = [0.5, 0.64, 0.68, 0.59, 0.59, 0.59, 0.59, 0.59, 0.59, 0.59];
  const seed17 = validationLoss.map((loss, e) => epochRecord(e, { loss: trainLoss[e]!, accuracy: 0.99 }, { loss, accuracy: accuracy[e]! }));
  seed17[0] = withImageLosses(seed17[0]!, BEST);
  seed17[9] = withImageLosses(seed17[9]!, LAST);

  it('reports a 58% rise carried by a few images (1.46 → 2.31 on 22) as info: 0.849 is within ±1.44', () => {
    // Hand calculation on the two lists: differences' mean 0.8489, sample sd 3.449, so the
    // standard error is 3.449 / √22 = 0.7354 and the 95% margin 1.96 × 0.7354 = 1.441.
    const finding = detectOverfitting({ ...healthyHistory(), epochs: seed17, steps: atDepth(0) })!;
    expect(finding).toMatchObject({ id: 'training/overfitting', severity: 'info', title: 'Validation loss has risen, within noise' });
    expect(finding.explanation).toContain('Validation loss is 58.1% above its best, 9 epochs later (1.46 → 2.31)');
    expect(finding.explanation).toContain('on 22 validation images a rise of 0.849 over the best is within what the choice of images alone moves it by (±1.44 at 95%)');
  });

  it('warns when most images rise: +0.3 or +0.5 each on 10 images is beyond ±0.065', () => {
    // Differences alternate 0.3 and 0.5: mean 0.4, sample sd √(10 · 0.01 / 9) = 0.1054, margin 1.96 × 0.1054 / √10 = 0.0653.
    const last = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 0.8 : 1.0));
    const epochs = [
      epochRecord(0, { loss: 1.0, accuracy: 0.6 }, { loss: 0.6, accuracy: 0.8 }),
      withImageLosses(epochRecord(1, { loss: 0.5, accuracy: 0.8 }, { loss: 0.5, accuracy: 0.8 }), new Array<number>(10).fill(0.5)),
      epochRecord(2, { loss: 0.3, accuracy: 0.9 }, { loss: 0.7, accuracy: 0.75 }),
      withImageLosses(epochRecord(3, { loss: 0.1, accuracy: 0.97 }, { loss: 0.9, accuracy: 0.7 }), last),
    ];
    const finding = detectOverfitting({ ...healthyHistory(), epochs, steps: atDepth(0) })!;
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('On 10 validation images that rise (0.4) is beyond what chance moves it by (±0.0653 at 95%).');
  });

  it('cannot call one validation image beyond noise', () => {
    const one = OVERFITTING.map((e, i) => (i === 2 || i === 4 ? withImageLosses(e, [e.validation!.loss]) : e));
    expect(detectOverfitting({ ...healthyHistory(), epochs: one, steps: atDepth(0) })?.severity).toBe('info');
  });
});
