// What a screen reader hears for each comparison chart: every run by name, with its last figure
// or what it lacks.

import { describe, expect, it } from 'vitest';
import { compareAccuracySummary, compareEpochLossSummary, compareStepsSummary } from '../../../../src/ui/history/compare-summaries';

describe('comparison chart summaries', () => {
  it('names each run with its length and last figure', () => {
    expect(
      compareStepsSummary([
        { name: 'a', steps: 6, lastSmoothed: 0.7812 },
        { name: 'b', steps: 0, lastSmoothed: null },
      ]),
    ).toBe('Training loss per step of 2 runs: a, 6 steps, smoothed 0.781 at the end; b, no step.');
    expect(
      compareEpochLossSummary([
        { name: 'a', epochs: 2, lastValidation: 0.7, lastTrain: 0.6 },
        { name: 'b', epochs: 1, lastValidation: null, lastTrain: 0.9 },
        { name: 'c', epochs: 0, lastValidation: null, lastTrain: null },
      ]),
    ).toBe('Loss per epoch of 3 runs, validation and training: a, 2 epochs, last validation 0.7, training 0.6; b, 1 epoch, no validation, training 0.9; c, no epoch.');
    expect(
      compareAccuracySummary([
        { name: 'a', epochs: 2, lastValidation: 4 / 6 },
        { name: 'b', epochs: 1, lastValidation: null },
      ]),
    ).toBe('Validation accuracy per epoch of 2 runs: a, 2 epochs, last 66.7%; b, no validation.');
  });
});
