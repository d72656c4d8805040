// One optimizer step of the fine-tuning loop: forward and backward in micro-batches whose
// gradients add up to the batch's, then one update of the trainable variables. Everything the
// step allocates is released whether it succeeds or throws (a throwing step once leaked ~1,500
// tensors, 1.2 GB, here).

import * as tf from '@tensorflow/tfjs';
import type { LabeledImages } from '../core/labeled-images';
import { crossEntropies, weightedMean } from './losses';
import type { ModelInputs } from './model-inputs';
import type { KeyedOptimizer } from './optimizer';
import type { RunModel } from './run-model';
import { runTrainableSegment } from './segments';
import { headLogits, trainableSegments, trainableVariables } from './task-model';

export interface StepInput {
  model: RunModel;
  inputs: ModelInputs;
  optimizer: KeyedOptimizer;
  set: LabeledImages;
  indices: readonly number[];
  /** Per class: the weight of each sample's cross-entropy. */
  classWeights: readonly number[];
  freezeDepth: number;
  learningRate: number;
  /** The backbone's learning rate is the head's × this. */
  backboneLrMultiplier: number;
  /** BatchNorm of trainable segments on batch statistics (policy 'train'). */
  batchStatistics: boolean;
  /** Images per forward/backward pass. */
  microBatch: number;
  /** Seeds the dropout masks of this step (each micro-batch its own). */
  dropoutSeed: number;
}

export type StepOutcome =
  | { kind: 'trained'; loss: number; unweightedLoss: number; predicted: Int32Array }
  /** The loss was NaN or infinite: nothing was updated. */
  | { kind: 'non-finite'; loss: number };

export async function trainStep(input: StepInput): Promise<StepOutcome> {
  const { model, set, indices, freezeDepth: k } = input;
  model.ownSegmentsFor(k);
  const { head, backbone } = trainableVariables(model, k);
  const backboneNames = new Set(backbone.map((v) => v.name));
  const labels = Int32Array.from(indices, (i) => set.labels[i]!);
  const sampleWeights = Float32Array.from(labels, (label) => input.classWeights[label]!);
  const variables = [...head, ...backbone];
  const segments = trainableSegments(model, k);
  const summed = new Map<string, tf.Tensor>();
  const predicted = new Int32Array(indices.length);
  let loss = 0;
  let unweightedSum = 0;
  let x0: tf.Tensor | null = null;
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap; unweighted: tf.Scalar; predicted: tf.Tensor } | null = null;
  try {
    for (let start = 0; start < indices.length; start += input.microBatch) {
      const end = Math.min(indices.length, start + input.microBatch);
      const partLabels = labels.subarray(start, end);
      const partWeights = sampleWeights.subarray(start, end);
      const features = await input.inputs.for(model, set, indices.slice(start, end), k);
      x0 = features;
      result = tf.tidy(() => {
        let unweighted: tf.Scalar | null = null;
        let partPredicted: tf.Tensor | null = null;
        const { value, grads } = tf.variableGrads(() => {
          // The first trainable segment reads features or pixels, which need no gradient.
          let x = features;
          segments.forEach((segment, i) => {
            x = runTrainableSegment(segment, x, { batchStatistics: input.batchStatistics, inputNeedsGradient: i > 0 });
          });
          const logits = headLogits(model, x, true, input.dropoutSeed + start);
          const losses = crossEntropies(logits, partLabels); // [micro]
          unweighted = tf.keep(tf.sum(losses) as tf.Scalar);
          partPredicted = tf.keep(tf.argMax(logits, 1));
          // Divided by the whole batch: the micro-batches' losses and gradients add up to the batch's.
          return weightedMean(losses, partWeights, indices.length);
        }, variables);
        return { value, grads, unweighted: unweighted!, predicted: partPredicted! };
      });
      const [lossValue, unweightedValue, predictedValues] = await Promise.all([result.value.data(), result.unweighted.data(), result.predicted.data()]);
      loss += lossValue[0]!;
      unweightedSum += unweightedValue[0]!;
      predicted.set(predictedValues, start);
      for (const [name, grad] of Object.entries(result.grads)) {
        const previous = summed.get(name);
        summed.set(name, previous ? tf.add(previous, grad) : tf.clone(grad));
        previous?.dispose();
      }
      tf.dispose([features, result.value, result.unweighted, result.predicted, ...Object.values(result.grads)]);
      x0 = null;
      result = null;
    }
    if (!Number.isFinite(loss)) return { kind: 'non-finite', loss };
    const backboneRate = input.learningRate * input.backboneLrMultiplier;
    input.optimizer.apply(variables, Object.fromEntries(summed), (name) => (backboneNames.has(name) ? backboneRate : input.learningRate));
    return { kind: 'trained', loss, unweightedLoss: unweightedSum / indices.length, predicted };
  } catch (error) {
    releaseAbandonedTape();
    throw error;
  } finally {
    x0?.dispose();
    if (result) tf.dispose([result.value, result.unweighted, result.predicted, ...Object.values(result.grads)]);
    summed.forEach((grad) => grad.dispose());
  }
}

/**
 * tfjs-core 4.22's gradients() keeps the tensors each recorded op saved for its backward pass,
 * and frees them only after a backward pass; when the forward function throws, they stay
 * allocated for good (14 tensors per failed step in the test here; the 1.2 GB leak DESIGN.md reports). Free them.
 */
function releaseAbandonedTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) node.saved?.forEach((tensor) => tensor.dispose());
  state.activeTape = null as unknown as typeof state.activeTape;
}
