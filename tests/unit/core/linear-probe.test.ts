// The linear probe against independent references (a hand-derived binary Newton solve, the
// optimum's gradient-zero conditions), on synthetic data whose answer is known, and the
// bookkeeping of its cross-validation.

import { describe, expect, it } from 'vitest';
import { LabError } from '../../../src/core/errors';
import { wilsonInterval } from '../../../src/core/intervals';
import { calibrateTemperature, crossValidateProbe, fitLinearProbe, probeProbabilities, type LinearProbeModel } from '../../../src/core/linear-probe';
import { createPrng } from '../../../src/core/prng';

/** Standard normal draws (Box–Muller) from a seeded stream. */
function normals(seed: number): () => number {
  const random = createPrng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** n images over C classes (i mod C), d dimensions: class c's mean is `separation` along axis c, unit noise everywhere. */
function clusters(n: number, d: number, C: number, separation: number, seed: number): { features: Float32Array; labels: Int32Array } {
  const normal = normals(seed);
  const features = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % C;
    for (let k = 0; k < d; k++) features[i * d + k] = normal() + (k === i % C ? separation : 0);
  }
  return { features, labels };
}

function rowSums(probabilities: Float64Array, C: number): number[] {
  return Array.from({ length: probabilities.length / C }, (_, r) => probabilities.subarray(r * C, (r + 1) * C).reduce((a, b) => a + b, 0));
}

function bytes(array: Float64Array | Int32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

const TIGHT = { tolerance: 1e-12, maxIterations: 2000 };

describe('fitLinearProbe against independent references', () => {
  it('two classes: matches a Newton solve of the equivalent binary logistic regression', () => {
    // With two classes, λ/2·(‖w₀‖² + ‖w₁‖²) is minimised with w₀ = −w₁ (the two gradient-zero
    // conditions sum to λ(w₀ + w₁) = 0), so the model is binary logistic regression on
    // v = w₁ − w₀ with penalty λ/4·v² and an unpenalised c = b₁ − b₀. Nine rows (two blocks of
    // four and one left over), class weights [1, 2], λ = 1 against a sum over 9 rows: the
    // penalty visibly pulls v (an L2 scaled as a mean would not pass).
    const x = [-1.5, -0.7, -0.2, 0.3, 0.9, 0.1, 1.2, 1.8, -0.4];
    const y = [0, 0, 0, 0, 0, 1, 1, 1, 1];
    const classWeights = [1, 2];
    const lambda = 1;
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    const z = x.map((v) => (v - mean) / std);
    const s = y.map((label) => classWeights[label]!);
    let v = 0;
    let c = 0;
    for (let iteration = 0; iteration < 50; iteration++) {
      let gv = (lambda / 2) * v;
      let gc = 0;
      let hvv = lambda / 2;
      let hvc = 0;
      let hcc = 0;
      z.forEach((zi, i) => {
        const p = 1 / (1 + Math.exp(-(v * zi + c)));
        gv += s[i]! * (p - y[i]!) * zi;
        gc += s[i]! * (p - y[i]!);
        const h = s[i]! * p * (1 - p);
        hvv += h * zi * zi;
        hvc += h * zi;
        hcc += h;
      });
      const det = hvv * hcc - hvc * hvc;
      v -= (hcc * gv - hvc * gc) / det;
      c -= (hvv * gc - hvc * gv) / det;
    }
    const expected = x.map((xi) => 1 / (1 + Math.exp(-(v * (xi - mean) / std + c))));

    const model = fitLinearProbe(Float32Array.from(x), Int32Array.from(y), 2, { classWeights, l2: lambda, ...TIGHT });
    expect(model.converged).toBe(true);
    const probabilities = probeProbabilities(model, Float32Array.from(x));
    // The features are float32: x rounds at ~1e-8, so the probabilities agree to about that.
    expected.forEach((p, i) => expect(probabilities[i * 2 + 1]).toBeCloseTo(p, 6));
    expect(model.weights[1]! - model.weights[0]!).toBeCloseTo(v, 5);
    expect(model.weights[0]! + model.weights[1]!).toBeCloseTo(0, 8);
  });

  it('three classes: the fitted model satisfies the optimum\'s gradient-zero conditions, recomputed here', () => {
    // Σᵢ sᵢ(pᵢc − yᵢc)·x̃ᵢ + λ·w_c = 0 and Σᵢ sᵢ(pᵢc − yᵢc) = 0 for every class c, x̃ standardised
    // here from the rows. Three classes (the odd class goes through its own loop), 11 rows. The
    // weights are O(1); a wrong gradient anywhere leaves residuals of O(0.1), not 1e-6.
    const { features, labels } = clusters(11, 3, 3, 1, 5);
    const classWeights = [0.5, 1, 3];
    const model = fitLinearProbe(features, labels, 3, { classWeights, ...TIGHT });
    const d = 3;
    const p = probeProbabilities(model, features);
    const mean = [0, 1, 2].map((k) => labels.reduce((a, _, i) => a + features[i * d + k]!, 0) / 11);
    const std = [0, 1, 2].map((k) => Math.sqrt(labels.reduce((a, _, i) => a + (features[i * d + k]! - mean[k]!) ** 2, 0) / 11));
    for (let c = 0; c < 3; c++) {
      let biasGradient = 0;
      for (let k = 0; k < d; k++) {
        let g = model.weights[c * d + k]!; // λ = 1
        for (let i = 0; i < 11; i++) g += classWeights[labels[i]!]! * (p[i * 3 + c]! - (labels[i] === c ? 1 : 0)) * ((features[i * d + k]! - mean[k]!) / std[k]!);
        expect(Math.abs(g)).toBeLessThan(1e-6);
      }
      for (let i = 0; i < 11; i++) biasGradient += classWeights[labels[i]!]! * (p[i * 3 + c]! - (labels[i] === c ? 1 : 0));
      expect(Math.abs(biasGradient)).toBeLessThan(1e-6);
    }
  });

  it('standardises with the training rows only, and ignores a dimension constant on them', () => {
    const features = Float32Array.from([0, 5, 1, 5, 2, 5, 3, 5, 100, -7]); // rows [x, 5]; the last row is not trained on
    const labels = Int32Array.from([0, 0, 1, 1, 1]);
    const model = fitLinearProbe(features, labels, 2, { rows: [0, 1, 2, 3] });
    expect(Array.from(model.mean)).toEqual([1.5, 5]);
    expect(model.inverseStd[0]).toBeCloseTo(1 / Math.sqrt(1.25), 12); // population std of 0, 1, 2, 3
    expect(model.inverseStd[1]).toBe(0);
    // The constant dimension carries nothing: another value there changes no probability.
    const a = probeProbabilities(model, Float32Array.from([1.2, 5]));
    const b = probeProbabilities(model, Float32Array.from([1.2, -40]));
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('class weights move the boundary towards the big class, as the Gaussian model says', () => {
    // One feature, class 0 ~ N(0, 1) with 900 images, class 1 ~ N(1.5, 1) with 100. For equal
    // variances the log-odds are linear, so logistic regression is the right model: the boundary
    // is at (μ₀ + μ₁)/2 + ln(π₀/π₁)/(μ₁ − μ₀) = 0.75 + ln 9 / 1.5 = 2.21 unweighted, and at
    // 0.75 with balanced weights (which make the two classes count as equally frequent).
    const normal = normals(11);
    const n = 1000;
    const x = new Float32Array(n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i < 900 ? 0 : 1;
      x[i] = normal() + (labels[i] === 1 ? 1.5 : 0);
    }
    const boundary = (m: LinearProbeModel) => m.mean[0]! - (m.bias[1]! - m.bias[0]!) / ((m.weights[1]! - m.weights[0]!) * m.inverseStd[0]!);
    const plain = fitLinearProbe(x, labels, 2);
    const balanced = fitLinearProbe(x, labels, 2, { classWeights: [1000 / (2 * 900), 1000 / (2 * 100)] });
    expect(boundary(plain)).toBeGreaterThan(1.8);
    expect(boundary(plain)).toBeLessThan(2.6);
    expect(boundary(balanced)).toBeGreaterThan(0.45);
    expect(boundary(balanced)).toBeLessThan(1.05);
    // And so the small class is found far more often.
    const recallOfSmall = (m: LinearProbeModel) => {
      const p = probeProbabilities(m, x);
      let found = 0;
      for (let i = 900; i < n; i++) if (p[i * 2 + 1]! > 0.5) found++;
      return found / 100;
    };
    expect(recallOfSmall(balanced)).toBeGreaterThan(recallOfSmall(plain) + 0.3);
  });

  it('never predicts a class it has no training weight for', () => {
    const { features, labels } = clusters(12, 4, 3, 3, 2);
    const model = fitLinearProbe(features, labels, 3, { classWeights: [1, 0, 1] });
    expect(model.bias[1]).toBe(-Infinity);
    const p = probeProbabilities(model, features);
    for (let i = 0; i < 12; i++) expect(p[i * 3 + 1]).toBe(0);
    rowSums(p, 3).forEach((sum) => expect(sum).toBeCloseTo(1, 12));
  });

  it('rejects features that do not match the labels, and labels outside the classes', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof LabError ? error.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => fitLinearProbe(new Float32Array(7), new Int32Array(2), 2))).toBe('input/invalid');
    expect(codeOf(() => fitLinearProbe(new Float32Array(4), Int32Array.from([0, 2]), 2))).toBe('input/invalid');
    expect(codeOf(() => fitLinearProbe(Float32Array.from([0, NaN]), Int32Array.from([0, 1]), 2))).toBe('input/invalid');
    expect(codeOf(() => fitLinearProbe(new Float32Array(4), Int32Array.from([0, 1]), 2, { classWeights: [1] }))).toBe('input/invalid');
  });
});

describe('crossValidateProbe', () => {
  it('separates well-separated Gaussian clusters (macro-F1 > 0.95) on 2048 dimensions', () => {
    // Class means drawn N(0, 0.5²) per dimension, unit noise: two means are 0.5·√(2·2048) = 32 σ
    // apart, so the Bayes error is nil, and with ~18 training images per class the estimated
    // means are still ~2× farther apart than their estimation noise (√(2048/18) ≈ 11). The
    // signal is spread over every dimension, as in CNN features (an L2 probe cannot pick 5
    // informative dimensions out of 2048 with 90 images). 112 images, 5 classes: the odd class
    // and the rows left over after blocks of four take their own loops.
    const normal = normals(3);
    const d = 2048;
    const means = Float64Array.from({ length: 5 * d }, () => 0.5 * normal());
    const labels = Int32Array.from({ length: 112 }, (_, i) => i % 5);
    const features = Float32Array.from({ length: 112 * d }, (_, j) => means[labels[Math.floor(j / d)]! * d + (j % d)]! + normal());
    const cv = crossValidateProbe(features, labels, 5, { seed: 42 });
    expect(cv.macroF1Mean).toBeGreaterThan(0.95);
    expect(cv.pooled.macroF1).toBeGreaterThan(0.95);
    expect(cv.perFold.every((f) => f.converged)).toBe(true);
  });

  it('stays near chance on random labels, although the same probe memorises them in-sample', () => {
    // 64 noise dimensions, 120 images, 4 random classes: in-sample the probe nearly interpolates,
    // out of fold it cannot know. Chance is 0.25 and the pooled accuracy's binomial sd is
    // √(0.25·0.75/120) ≈ 0.04, so 0.25 ± 0.12 is three of them.
    const normal = normals(8);
    const random = createPrng(9);
    const n = 120;
    const features = Float32Array.from({ length: n * 64 }, () => normal());
    const labels = Int32Array.from({ length: n }, () => Math.floor(random() * 4));
    const inSample = probeProbabilities(fitLinearProbe(features, labels, 4), features);
    let correct = 0;
    for (let i = 0; i < n; i++) if (argmax(inSample.subarray(i * 4, i * 4 + 4)) === labels[i]) correct++;
    expect(correct / n).toBeGreaterThan(0.9);
    const cv = crossValidateProbe(features, labels, 4, { seed: 1 });
    expect(Math.abs(cv.pooled.accuracy - 0.25)).toBeLessThan(0.12);
    expect(cv.macroF1Mean).toBeLessThan(0.4);
  });

  it('gives every image exactly one out-of-fold row, from the fold that did not train on it', () => {
    const { features, labels } = clusters(43, 6, 3, 1.5, 4);
    const cv = crossValidateProbe(features, labels, 3, { seed: 7, ...TIGHT });
    expect(cv.folds).toBe(5);
    expect(cv.note).toBeNull();
    expect(cv.probabilities.length).toBe(43 * 3);
    rowSums(cv.probabilities, 3).forEach((sum) => expect(sum).toBeCloseTo(1, 12));
    // Each image in one fold; folds 43/5 → sizes 9, 9, 9, 8, 8; each class (15, 14, 14) split within one image.
    const sizes = [0, 1, 2, 3, 4].map((f) => cv.foldOf.filter((g) => g === f).length);
    expect(sizes.sort()).toEqual([8, 8, 9, 9, 9]);
    expect(cv.perFold.map((f) => f.count).reduce((a, b) => a + b, 0)).toBe(43);
    for (let c = 0; c < 3; c++) {
      const perFold = [0, 1, 2, 3, 4].map((f) => labels.filter((l, i) => l === c && cv.foldOf[i] === f).length);
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
    // Refit fold 2 from scratch without its images: its rows are that model's predictions.
    const held = Array.from({ length: 43 }, (_, i) => i).filter((i) => cv.foldOf[i] === 2);
    const train = Array.from({ length: 43 }, (_, i) => i).filter((i) => cv.foldOf[i] !== 2);
    const refit = probeProbabilities(fitLinearProbe(features, labels, 3, { rows: train, ...TIGHT }), features, held);
    held.forEach((i, r) => {
      for (let c = 0; c < 3; c++) expect(cv.probabilities[i * 3 + c]).toBeCloseTo(refit[r * 3 + c]!, 6);
    });
  });

  it('is bit-identical for the same seed, and deals other folds for another seed', () => {
    const { features, labels } = clusters(40, 8, 4, 1, 6);
    const a = crossValidateProbe(features, labels, 4, { seed: 3 });
    const b = crossValidateProbe(features, labels, 4, { seed: 3 });
    const other = crossValidateProbe(features, labels, 4, { seed: 4 });
    expect(bytes(a.probabilities).equals(bytes(b.probabilities))).toBe(true);
    expect(bytes(a.foldOf).equals(bytes(b.foldOf))).toBe(true);
    expect(a.macroF1Mean).toBe(b.macroF1Mean);
    expect(bytes(a.foldOf).equals(bytes(other.foldOf))).toBe(false);
  });

  it('pools the folds into one confusion matrix, with a Wilson interval per class recall', () => {
    const { features, labels } = clusters(60, 4, 3, 1.2, 10);
    const cv = crossValidateProbe(features, labels, 3, { seed: 5 });
    expect(cv.pooled.count).toBe(60);
    for (let c = 0; c < 3; c++) {
      const hits = labels.filter((l, i) => l === c && cv.predicted[i] === c).length;
      expect(cv.pooled.confusion[c]![c]).toBe(hits);
      expect(cv.recall[c]).toEqual({ recall: hits / 20, ...wilsonInterval(hits, 20), support: 20 });
    }
    // Mean and sample standard deviation (n − 1) of the five folds' scores.
    const f1s = cv.perFold.map((f) => f.macroF1);
    const mean = f1s.reduce((a, b) => a + b, 0) / 5;
    expect(cv.macroF1Mean).toBeCloseTo(mean, 12);
    expect(cv.macroF1Std).toBeCloseTo(Math.sqrt(f1s.reduce((a, f) => a + (f - mean) ** 2, 0) / 4), 12);
  });

  it('runs fewer folds when the smallest class has fewer images, and says so', () => {
    const { features, labels } = clusters(30, 4, 3, 2, 12);
    // Keep three images of class 2: the smallest class then allows 3 folds.
    const keep = Array.from({ length: 30 }, (_, i) => i).filter((i) => labels[i] !== 2 || i < 9);
    const subset = (rows: number[]) => ({
      features: Float32Array.from(rows.flatMap((i) => Array.from(features.subarray(i * 4, i * 4 + 4)))),
      labels: Int32Array.from(rows.map((i) => labels[i]!)),
    });
    const three = subset(keep);
    const cv = crossValidateProbe(three.features, three.labels, 3, { seed: 1 });
    expect(cv.requestedFolds).toBe(5);
    expect(cv.folds).toBe(3);
    expect(cv.note).toBe('Class 2 has only 3 images: 3 folds instead of 5, so that each fold holds one of them.');

    // A single image of class 2: two folds, and its class is unknown to the fold that predicts it.
    const single = subset(keep.filter((i) => labels[i] !== 2 || i === 2));
    const one = crossValidateProbe(single.features, single.labels, 3, { seed: 1 });
    expect(one.folds).toBe(2);
    expect(one.note).toMatch(/single image/);
    const lone = Array.from(single.labels).indexOf(2);
    expect(one.probabilities[lone * 3 + 2]).toBe(0);
  });
});

describe('wilsonInterval', () => {
  it('matches a hand computation for 8 of 10 and 0 of 5', () => {
    // 8/10, z = 1.96: centre (0.8 + 1.9208/10)/1.38416 = 0.71674, half (1.96/1.38416)·√(0.016 + 0.009604) = 0.22658.
    const eight = wilsonInterval(8, 10);
    expect(eight.low).toBeCloseTo(0.4902, 4);
    expect(eight.high).toBeCloseTo(0.9433, 4);
    // 0/5: the interval starts at 0 and ends at (z²/5)/(1 + z²/5) = 3.8415/8.8415 = 0.4345.
    const none = wilsonInterval(0, 5);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.4345, 4);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });
});

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < values.length; c++) if (values[c]! > values[best]!) best = c;
  return best;
}

describe('calibrateTemperature', () => {
  it('softens overconfident probabilities to the temperature that fits the labels best, and leaves calibrated ones alone', () => {
    // Two classes, 10 images, every prediction 0.99 for class 0, but 3 of them are class 1: the
    // best single temperature makes p(class 0) about 0.7 (the share actually right).
    const overconfident = Float64Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 0.99 : 0.01));
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const { temperature, probabilities } = calibrateTemperature(overconfident, labels, 2);
    // 0.99^(1/T) / (0.99^(1/T) + 0.01^(1/T)) = 0.7 at T = ln(99) / ln(7/3) = 5.42; the grid's nearest is 5.5.
    expect(temperature).toBe(5.5);
    expect(probabilities[0]).toBeCloseTo(0.6975, 4); // 0.99^(1/5.5) / (0.99^(1/5.5) + 0.01^(1/5.5))
    expect(probabilities[0]! + probabilities[1]!).toBeCloseTo(1, 12);
    // Already calibrated (0.7 where 70% are right): T = 1 is best.
    const calibrated = Float64Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 0.7 : 0.3));
    expect(calibrateTemperature(calibrated, labels, 2).temperature).toBe(1);
  });
});
