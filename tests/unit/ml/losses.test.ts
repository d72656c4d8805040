import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classWeights } from '../../../src/core/class-weights';
import { crossEntropies, weightedMean } from '../../../src/ml/losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('weighted cross-entropy', () => {
  it('matches a hand computation with balanced class weights', () => {
    // Two classes, counts 3 and 1 → balanced weights 4/(2·3) = 0.6667 and 4/(2·1) = 2.
    const weights = classWeights([3, 1], 'balanced');
    const labels = Int32Array.from([0, 1]);
    const sampleWeights = Float32Array.from(labels, (l) => weights[l]!);
    // CE₀ = −log softmax([2, 0])₀ = log(1 + e⁻²) = 0.126928; CE₁ = −log softmax([0, 0])₁ = log 2 = 0.693147.
    const logits = tf.tensor2d([
      [2, 0],
      [0, 0],
    ]);
    const losses = crossEntropies(logits, labels);
    expect(Array.from(losses.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.126928, 0.693147]);
    // (0.6667·0.126928 + 2·0.693147) / 2 = 0.735457
    expect(weightedMean(losses, sampleWeights).dataSync()[0]).toBeCloseTo(0.735457, 5);
    // Unweighted (weights off): the plain mean, 0.410038.
    expect(weightedMean(losses, Float32Array.from([1, 1])).dataSync()[0]).toBeCloseTo(0.410038, 5);
    tf.dispose([logits, losses]);
  });
});
