// What the step chart draws stays small however long the run: 10,000 steps become 400 points.

import { describe, expect, it } from 'vitest';
import { stepSeries } from '../../../../src/ui/training/downsample';

describe('stepSeries', () => {
  it('keeps short runs whole and smooths them the way TensorBoard does (debiased EMA, default 0.6)', () => {
    const out = stepSeries([
      { step: 0, loss: 2 },
      { step: 1, loss: 1 },
    ]);
    expect(out.map((p) => [p.step, p.loss])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(out[0]!.smoothed).toBeCloseTo(2, 12); // 0.4·2 / (1 − 0.6)
    expect(out[1]!.smoothed).toBeCloseTo((0.6 * 0.8 + 0.4 * 1) / (1 - 0.36), 12); // 0.88 / 0.64 = 1.375
    // 0: the raw losses; 0.99: almost the first loss still.
    expect(stepSeries([{ step: 0, loss: 2 }, { step: 1, loss: 1 }], 400, 0).map((p) => p.smoothed)).toEqual([2, 1]);
    expect(stepSeries([{ step: 0, loss: 2 }, { step: 1, loss: 1 }], 400, 0.99)[1]!.smoothed).toBeCloseTo((0.99 * 0.02 + 0.01) / (1 - 0.99 ** 2), 12);
  });

  it('catches up with a loss that fell to ~0: the smoothed value tracks it, unlike a fixed 0.9 EMA started at the first loss', () => {
    const steps = Array.from({ length: 60 }, (_, step) => ({ step, loss: step < 10 ? 2 : 0.001 }));
    expect(stepSeries(steps).at(-1)!.smoothed).toBeLessThan(0.01);
  });

  it('draws 10,000 steps as at most 400 bucket means, ending at the last step, skipping NaN', () => {
    const steps = Array.from({ length: 10_000 }, (_, step) => ({ step, loss: step === 5 ? NaN : 1 + Math.sin(step) }));
    const out = stepSeries(steps);
    expect(out.length).toBeLessThanOrEqual(400);
    expect(out.at(-1)!.step).toBe(9_999);
    expect(out.every((p) => Number.isFinite(p.loss) && Number.isFinite(p.smoothed))).toBe(true);
    // Bucket means of sin average out near 1.
    expect(Math.abs(out.reduce((a, p) => a + p.loss, 0) / out.length - 1)).toBeLessThan(0.05);
  });
});
