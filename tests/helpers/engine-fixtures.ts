// Fixtures for engine tests: synthetic labelled images and snapshots of the pretrained weights,
// so a test can see exactly which weights a run changed and put them back afterwards.

import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../../src/core/prng';
import type { LabeledImages } from '../../src/ml/training-engine';

/** Random caffe-range pixels, `perClass` images for each class, deterministic from the seed. */
export function syntheticImages(counts: readonly number[], sizePx: number, seed = 1): LabeledImages {
  const labels = Int32Array.from(counts.flatMap((n, c) => Array<number>(n).fill(c)));
  const random = createPrng(seed);
  const perImage = sizePx * sizePx * 3;
  // Each class gets its own mean colour so a head can learn something.
  const pixels = Array.from(labels, (label) => Float32Array.from({ length: perImage }, (_, i) => (random() - 0.5) * 120 + ((label * 37 + (i % 3) * 11) % 60) - 30));
  return {
    size: labels.length,
    labels,
    ids: Array.from(labels, (_, i) => `synthetic/${seed}/${i}`),
    specHash: `synthetic-${sizePx}`,
    sizePx,
    augmented: false,
    async load(indices) {
      const out = new Float32Array(indices.length * perImage);
      indices.forEach((index, j) => out.set(pixels[index]!, j * perImage));
      return out;
    },
  };
}

/** Every weight of the model (BatchNorm moving statistics included), by name. */
export function snapshotWeights(model: tf.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

export function restoreWeights(model: tf.LayersModel, snapshot: Map<string, Float32Array>): void {
  for (const weight of model.weights) {
    const values = snapshot.get(weight.originalName)!;
    tf.tidy(() => {
      weight.write(tf.tensor(values, weight.shape as number[]));
    });
  }
}

/** Names of the weights whose values differ from the snapshot in any bit. */
export function changedWeights(model: tf.LayersModel, snapshot: Map<string, Float32Array>): string[] {
  return model.weights
    .filter((w) => {
      const before = snapshot.get(w.originalName)!;
      const now = w.read().dataSync() as Float32Array;
      return !Buffer.from(before.buffer, before.byteOffset, before.byteLength).equals(Buffer.from(now.buffer, now.byteOffset, now.byteLength));
    })
    .map((w) => w.originalName);
}
