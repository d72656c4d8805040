import { describe, expect, it } from 'vitest';
import { stratifiedSample } from '../../../src/core/prng';

describe('stratifiedSample', () => {
  // Files sorted by class, as a dropped folder gives them: 10 of class 0, 4 of class 1, 2 of class 2.
  const labels = [...Array<number>(10).fill(0), ...Array<number>(4).fill(1), ...Array<number>(2).fill(2)];

  it('takes the classes in turn, so 8 images cover all three (the first 8 in file order are all class 0)', () => {
    const picked = stratifiedSample(labels, 8, 42);
    expect(picked).toHaveLength(8);
    expect(new Set(picked).size).toBe(8);
    // Rounds of (0, 1, 2): 3 + 3, then class 2 is spent: (0, 1).
    expect(picked.map((i) => labels[i]).sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
  });

  it('gives the same images for the same seed and others for another seed, and all of them when asked for more', () => {
    expect(stratifiedSample(labels, 8, 42)).toEqual(stratifiedSample(labels, 8, 42));
    expect(stratifiedSample(labels, 8, 43)).not.toEqual(stratifiedSample(labels, 8, 42));
    expect(stratifiedSample(labels, 100, 1).sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });
});
