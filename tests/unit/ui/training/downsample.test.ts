// What the step chart draws stays small however long the run: 10,000 steps become 400 points.

import { describe, expect, it } from 'vitest';
import { stepSeries } from '../../../../src/ui/training/downsample';

describe('stepSeries', () => {
  it('keeps short runs whole and smooths them', () => {
    const out = stepSeries([
      { step: 0, loss: 2 },
      { step: 1, loss: 1 },
    ]);
    expect(out.map((p) => [p.step, p.loss])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(out[0]!.smoothed).toBe(2);
    expect(out[1]!.smoothed).toBeCloseTo(0.9 * 2 + 0.1 * 1); // EMA with smoothing 0.9
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
