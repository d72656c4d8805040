// The sentence each chart is announced with.

import { describe, expect, it } from 'vitest';
import { classesSummary, confusionSummary, epochsSummary, stepsSummary } from '../../../../../src/ui/training/charts/summaries';

describe('chart summaries', () => {
  it('says what each chart shows and where it ends', () => {
    expect(stepsSummary(120, { loss: 0.4213, smoothed: 0.4507 }, 0.6)).toBe('Training loss over 120 steps, last 0.421, smoothed 0.451 (smoothing 0.600).');
    expect(stepsSummary(0, undefined, 0.6)).toBe('Training loss per step: no step yet.');
    expect(epochsSummary('loss', [{ train: 0.5, validation: 0.61 }])).toBe('Loss over 1 epoch: last train 0.5, validation 0.61.');
    expect(epochsSummary('accuracy', [{ train: 0.5, validation: null }, { train: 0.875, validation: null }])).toBe('Accuracy over 2 epochs: last train 87.5%.');
    expect(classesSummary(3, [{ name: 'a', precision: 1, recall: 0.5, f1: 2 / 3 }])).toBe('Validation per class at epoch 3: a precision 1.00, recall 0.50, F1 0.67.');
    // 3 + 2 of 6 on the diagonal.
    expect(confusionSummary([[3, 1], [0, 2]])).toBe('5 of 6 validation images (83.3%) predicted as their class');
  });
});
