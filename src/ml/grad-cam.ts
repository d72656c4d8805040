// Grad-CAM (Selvaraju et al., 2017): where in an image the model found its evidence for a class.
// The gradient of the class's score (its logit, before softmax) with respect to the last conv
// block's output, averaged over the grid, weighs that output's channels; their weighted sum,
// clipped at zero, is the map.

import * as tf from '@tensorflow/tfjs';
import type { RunModel } from './run-model';
import { runSegments } from './segments';
import { headLogits } from './task-model';

export interface ClassActivationMap {
  /** The last conv block's grid (7 × 7 at 224 px). */
  width: number;
  height: number;
  /** Row-major, 0..1: divided by the largest value (all 0 when nothing speaks for the class). */
  values: Float32Array;
}

export interface ExplainedPrediction {
  /** Class probabilities of the image, [C]. */
  probabilities: Float32Array;
  /** The map of its most probable class. */
  heatMap: ClassActivationMap & { classIndex: number };
  /** The gradient and the map alone (the forward pass is shared with the prediction). */
  heatMapMs: number;
}

/**
 * One preprocessed image ([size, size, 3] channels last): its class probabilities and the map of
 * its top class, from one forward pass. The same segments and head as RunModel.logits, split at
 * the last block's output so that the gradient can start there.
 */
export async function predictWithHeatMap(model: RunModel, pixels: Float32Array, sizePx: number, now: () => number = () => performance.now()): Promise<ExplainedPrediction> {
  const features = tf.tidy(() => runSegments(model.allSegments(), tf.tensor4d(pixels, [1, sizePx, sizePx, 3]))); // [1, h, w, 2048]
  try {
    const softmax = tf.tidy(() => tf.softmax(headLogits(model, features, false))); // [1, C]
    let probabilities: Float32Array;
    try {
      probabilities = (await softmax.data()) as Float32Array;
    } finally {
      softmax.dispose();
    }
    const started = now();
    const classIndex = probabilities.reduce((best, p, c) => (p > probabilities[best]! ? c : best), 0);
    const map = tf.tidy(() => {
      const score = (a: tf.Tensor) => tf.sum(tf.slice(headLogits(model, a, false), [0, classIndex], [1, 1]));
      const gradient = tf.grad(score)(features); // [1, h, w, 2048]
      const channelWeights = tf.mean(gradient, [1, 2], true); // [1, 1, 1, 2048]
      const cam = tf.relu(tf.sum(tf.mul(features, channelWeights), -1)).squeeze([0]); // [h, w]
      const peak = tf.max(cam);
      return tf.where(tf.greater(peak, 0), tf.div(cam, peak), tf.zerosLike(cam));
    });
    try {
      const [height, width] = map.shape as [number, number];
      const values = (await map.data()) as Float32Array;
      return { probabilities, heatMap: { classIndex, width, height, values }, heatMapMs: now() - started };
    } finally {
      map.dispose();
    }
  } finally {
    features.dispose();
  }
}
