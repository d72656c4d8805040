// Class weights, metrics, schedules, splits and the PRNG, against hand calculations.

import { describe, expect, it } from 'vitest';
import { classCounts, classWeights } from '../../../src/core/class-weights';
import { learningRateAt } from '../../../src/core/lr-schedule';
import { addToConfusion, emptyConfusion, majorityBaseline, metricsFromConfusion } from '../../../src/core/metrics';
import { createPrng, shuffledIndices } from '../../../src/core/prng';
import { stratifiedSplit } from '../../../src/core/splits';
import { DEFAULT_TRAINING_CONFIG, validateTrainingConfig } from '../../../src/core/training-config';

describe('class weights', () => {
  it('balanced: n / (C · n_c), by hand for counts 6, 3, 1', () => {
    const counts = classCounts([0, 0, 0, 0, 0, 0, 1, 1, 1, 2], 3);
    expect(counts).toEqual([6, 3, 1]);
    const weights = classWeights(counts, 'balanced');
    // 10 / (3·6) = 0.5556, 10 / (3·3) = 1.1111, 10 / (3·1) = 3.3333
    expect(weights.map((w) => +w.toFixed(4))).toEqual([0.5556, 1.1111, 3.3333]);
    // Weighted, every class contributes n/C: 6·0.5556 = 3·1.1111 = 1·3.3333 = 3.33.
    expect(weights.map((w, c) => +(w * counts[c]!).toFixed(4))).toEqual([3.3333, 3.3333, 3.3333]);
  });
  it('off: all ones; an absent class gets 0 when balanced', () => {
    expect(classWeights([5, 0, 5], 'off')).toEqual([1, 1, 1]);
    expect(classWeights([5, 0, 5], 'balanced')).toEqual([1, 0, 1]); // 10 / (2 · 5): C counts the classes present
  });
});

describe('metrics', () => {
  it('matches a hand-computed confusion matrix', () => {
    const confusion = emptyConfusion(3);
    // actual:    0 0 0 0 1 1 2 2
    // predicted: 0 0 0 1 1 0 2 0
    addToConfusion(confusion, [0, 0, 0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 0, 2, 0]);
    const m = metricsFromConfusion(confusion);
    expect(m.confusion).toEqual([
      [3, 1, 0],
      [1, 1, 0],
      [1, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(5 / 8);
    // class 0: precision 3/5, recall 3/4, F1 = 2·0.6·0.75/1.35 = 0.6667
    expect(m.perClass[0]!.precision).toBeCloseTo(0.6);
    expect(m.perClass[0]!.recall).toBeCloseTo(0.75);
    expect(m.perClass[0]!.f1).toBeCloseTo(2 / 3);
    // class 1: precision 1/2, recall 1/2, F1 0.5; class 2: precision 1, recall 1/2, F1 2/3.
    expect(m.perClass[1]!.f1).toBeCloseTo(0.5);
    expect(m.perClass[2]!.f1).toBeCloseTo(2 / 3);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.5 + 2 / 3) / 3);
  });
  it('handles a class never predicted and the majority baseline', () => {
    const confusion = emptyConfusion(2);
    addToConfusion(confusion, [0, 0, 1], [0, 0, 0]);
    const m = metricsFromConfusion(confusion);
    expect(m.perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(majorityBaseline([32, 21, 19])).toBeCloseTo(32 / 72);
  });
});

describe('learning-rate schedule', () => {
  const base = { schedule: 'warmup-cosine' as const, learningRate: 1, warmupSteps: 4, totalSteps: 14 };
  it('warms up linearly, then decays along a cosine to 0', () => {
    expect([0, 1, 2, 3].map((s) => learningRateAt(s, base))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRateAt(4, base)).toBeCloseTo(1);
    expect(learningRateAt(9, base)).toBeCloseTo(0.5); // halfway through the 10 decay steps: cos(π/2)
    expect(learningRateAt(14, base)).toBeCloseTo(0);
    expect(learningRateAt(100, base)).toBeCloseTo(0);
  });
  it('constant is constant', () => {
    expect(learningRateAt(7, { ...base, schedule: 'constant' })).toBe(1);
  });
});

describe('stratifiedSplit', () => {
  it('holds out ~20% of each class, at least one when it has two, never its only image', () => {
    const labels = [...Array(10).fill(0), ...Array(5).fill(1), ...Array(2).fill(2), 3];
    const { train, validation } = stratifiedSplit(labels, { validationFraction: 0.2, seed: 1 });
    const count = (set: number[], c: number) => set.filter((i) => labels[i] === c).length;
    expect([0, 1, 2, 3].map((c) => count(validation, c))).toEqual([2, 1, 1, 0]);
    expect([0, 1, 2, 3].map((c) => count(train, c))).toEqual([8, 4, 1, 1]);
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });
  it('is reproducible from its seed and differs across seeds', () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 3);
    expect(stratifiedSplit(labels, { validationFraction: 0.2, seed: 7 })).toEqual(stratifiedSplit(labels, { validationFraction: 0.2, seed: 7 }));
    expect(stratifiedSplit(labels, { validationFraction: 0.2, seed: 7 }).validation).not.toEqual(stratifiedSplit(labels, { validationFraction: 0.2, seed: 8 }).validation);
  });
  describe('ranked by path', () => {
    // Two classes of 40 and 25 files named the way cameras and exports name them.
    const paths = [...Array.from({ length: 40 }, (_, i) => `d/cats/IMG_${String(i + 1).padStart(4, '0')}.png`), ...Array.from({ length: 25 }, (_, i) => `d/dogs/dog (${i + 1}).jpg`)];
    const labelsOf = (ps: readonly string[]) => ps.map((p) => (p.includes('/cats/') ? 0 : 1));
    const heldOut = (ps: readonly string[], labels = labelsOf(ps), seed = 42) => new Set(stratifiedSplit(labels, { validationFraction: 0.2, seed }, ps).validation.map((i) => ps[i]!));

    it('holds out the same counts as the shuffle, spread over the file names, different per seed', () => {
      const held = heldOut(paths);
      expect([...held].filter((p) => p.includes('/cats/'))).toHaveLength(8);
      expect([...held].filter((p) => p.includes('/dogs/'))).toHaveLength(5);
      // Not a run of neighbouring names: the held-out cats' numbers spread over 1..40.
      const numbers = [...held].filter((p) => p.includes('/cats/')).map((p) => Number(/IMG_(\d+)/.exec(p)![1]));
      expect(Math.max(...numbers) - Math.min(...numbers)).toBeGreaterThan(20);
      expect(heldOut(paths, labelsOf(paths), 43)).not.toEqual(held);
      expect(heldOut([...paths].reverse())).toEqual(held);
    });

    it('keeps every other image where it was when one is left out or filed under another class', () => {
      const held = heldOut(paths);
      const moved = (a: Set<string>, b: Set<string>, except: string) => [...paths].filter((p) => p !== except && a.has(p) !== b.has(p));
      // 39 cats still hold out round(39 · 0.2) = 8: leaving out a training image moves nobody;
      // leaving out a held-out one brings the next cat in its place, and only it.
      const trainingCat = paths.find((p) => p.includes('/cats/') && !held.has(p))!;
      const heldCat = [...held].find((p) => p.includes('/cats/'))!;
      expect(moved(held, heldOut(paths.filter((p) => p !== trainingCat)), trainingCat)).toEqual([]);
      expect(moved(held, heldOut(paths.filter((p) => p !== heldCat)), heldCat)).toHaveLength(1);
      // Filing a training cat under dogs: 39 cats (8 held out) and 26 dogs (5): at most the one image itself moves.
      const relabelled = trainingCat;
      const labels = paths.map((p) => (p === relabelled ? 1 : p.includes('/cats/') ? 0 : 1));
      expect(moved(held, heldOut(paths, labels), relabelled).length).toBeLessThanOrEqual(1);
    });
  });
});

describe('prng', () => {
  it('is deterministic, in [0, 1), and shuffles to a permutation', () => {
    const a = createPrng(3);
    const b = createPrng(3);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(values.reduce((x, y) => x + y) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(shuffledIndices(20, createPrng(1)).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('training config', () => {
  it('accepts the defaults and names every bad field', () => {
    expect(validateTrainingConfig({ ...DEFAULT_TRAINING_CONFIG })).toBeTruthy();
    expect(() => validateTrainingConfig({ ...DEFAULT_TRAINING_CONFIG, freezeDepth: 18, batchSize: 0, learningRate: -1 })).toThrow(
      /Freeze depth.*learningRate.*batchSize/,
    );
  });
});
