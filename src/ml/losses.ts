// The training loss: softmax cross-entropy with per-sample weights.

import * as tf from '@tensorflow/tfjs';

/**
 * Per-sample cross-entropies of `logits` ([n, C]) against integer `labels`: [n].
 */
export function crossEntropies(logits: tf.Tensor2D, labels: Int32Array): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
  });
}

/**
 * Σᵢ wᵢ·CEᵢ / n: Keras' convention for per-sample weights (the mean over the batch, not over the
 * weights), so balanced class weights leave the loss's scale as it is on average.
 */
export function weightedMean(losses: tf.Tensor1D, sampleWeights: Float32Array, batchSize = sampleWeights.length): tf.Scalar {
  // batchSize: the whole batch's, when these losses are one micro-batch of it.
  return tf.tidy(() => tf.div(tf.sum(tf.mul(losses, tf.tensor1d(sampleWeights))), batchSize) as tf.Scalar);
}
