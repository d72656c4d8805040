// A split's loss, metrics and per-image probabilities in inference mode (no dropout, BatchNorm
// on moving statistics), through the same RunModel.logits that predict uses.

import * as tf from '@tensorflow/tfjs';
import type { LabeledImages } from '../core/labeled-images';
import { addToConfusion, emptyConfusion, metricsFromConfusion } from '../core/metrics';
import type { SplitResult, ValidationImages } from '../core/run-records';
import { crossEntropies } from './losses';
import type { ModelInputs } from './model-inputs';
import type { RunModel } from './run-model';
import { trainableSegments } from './task-model';

export interface Evaluation extends SplitResult, ValidationImages {
  /** Class probabilities, [images, C] row-major. */
  probabilities: Float32Array;
}

const EVAL_BATCH = 32;
/** Keeps −ln p finite for a probability that underflowed to 0. */
const MIN_PROBABILITY = 1e-12;

/** Evaluates `set` at depth k: the frozen prefix's output comes from `inputs` (cached), the rest runs here. */
export async function evaluate(model: RunModel, inputs: ModelInputs, set: LabeledImages, k: number): Promise<Evaluation> {
  const classes = model.numClasses;
  const confusion = emptyConfusion(classes);
  const predictions = new Int32Array(set.size);
  const probabilities = new Float32Array(set.size * classes);
  const above = trainableSegments(model, k);
  let lossSum = 0;
  for (let start = 0; start < set.size; start += EVAL_BATCH) {
    const indices = Array.from({ length: Math.min(EVAL_BATCH, set.size - start) }, (_, i) => start + i);
    const input = await inputs.for(model, set, indices, k);
    const labels = Int32Array.from(indices, (i) => set.labels[i]!);
    let outputs: tf.Tensor[];
    try {
      outputs = tf.tidy(() => {
        const logits = model.logits(input, above); // [n, C]
        return [tf.sum(crossEntropies(logits, labels)), tf.argMax(logits, 1), tf.softmax(logits)];
      });
    } finally {
      input.dispose();
    }
    let values: (Float32Array | Int32Array | Uint8Array)[];
    try {
      values = await Promise.all(outputs.map((t) => t.data()));
    } finally {
      tf.dispose(outputs);
    }
    const [loss, predicted, softmax] = values as [Float32Array, Int32Array, Float32Array];
    probabilities.set(softmax, start * classes);
    lossSum += loss[0]!;
    addToConfusion(confusion, labels, predicted);
    predictions.set(predicted, start);
  }
  const losses = Array.from(predictions, (_, i) => -Math.log(Math.max(probabilities[i * classes + set.labels[i]!]!, MIN_PROBABILITY)));
  const confidences = Array.from(predictions, (predicted, i) => probabilities[i * classes + predicted]!);
  return { loss: lossSum / Math.max(1, set.size), metrics: metricsFromConfusion(confusion), predictions: Array.from(predictions), losses, confidences, probabilities };
}
