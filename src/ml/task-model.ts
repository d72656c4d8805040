// What training reads of the network being fine-tuned (run-model.ts): its stem and 16 blocks, and
// a head for the user's classes (global average pooling → dropout → dense). The freeze depth k says which segments
// train: the top k blocks (k = 17 adds the stem); everything below is the frozen prefix, which
// always runs in inference mode.

import * as tf from '@tensorflow/tfjs';
import { BLOCK_COUNT, MAX_FREEZE_DEPTH, validateFreezeDepth } from '../core/training-config';
import type { Segment } from './segments';

export const FEATURE_CHANNELS = 2048;

export interface Head {
  /** [2048, C] */
  kernel: tf.Variable;
  /** [C] */
  bias: tf.Variable;
}

/** What training reads of a model: its segments as it runs them now, and its head. */
export interface TaskModel {
  readonly numClasses: number;
  readonly stem: Segment;
  readonly blocks: Segment[];
  readonly head: Head;
  readonly dropout: number;
}

let headSerial = 0;

/**
 * A new dense head, all zeros: every class starts at probability 1/C, so the first loss is ln C
 * exactly (the reference the diagnostics compare against). A single linear layer under softmax
 * has no symmetry to break, so zeros train as well as a random start, without the random start's
 * initial loss of 2-3 × ln C on ResNet50's pooled features (measured on stamps6 with Glorot:
 * ~4.2 for 6 classes, ln 6 = 1.79).
 */
export function createHead(numClasses: number, initial?: { kernel: tf.Tensor; bias: tf.Tensor }): Head {
  const id = headSerial++;
  return tf.tidy(() => ({
    kernel: tf.variable(initial ? initial.kernel.clone() : tf.zeros([FEATURE_CHANNELS, numClasses]), true, `head${id}/kernel`),
    bias: tf.variable(initial ? initial.bias.clone() : tf.zeros([numClasses]), true, `head${id}/bias`),
  }));
}

/** Segments that train at depth k, input side first. */
export function trainableSegments(model: TaskModel, k: number): Segment[] {
  validateFreezeDepth(k);
  const blocks = model.blocks.slice(BLOCK_COUNT - Math.min(k, BLOCK_COUNT));
  return k === MAX_FREEZE_DEPTH ? [model.stem, ...blocks] : blocks;
}

/** Segments below the freeze boundary at depth k (inference mode, cacheable), input side first. */
export function frozenPrefix(model: TaskModel, k: number): Segment[] {
  validateFreezeDepth(k);
  if (k === MAX_FREEZE_DEPTH) return [];
  return [model.stem, ...model.blocks.slice(0, BLOCK_COUNT - Math.min(k, BLOCK_COUNT))];
}

function segmentVariables(segment: Segment): tf.Variable[] {
  // LayerVariable.read() returns the underlying tf.Variable itself, which is what gradients and
  // updates need. trainableWeights leaves out BatchNorm's moving statistics.
  return segment.layers.flatMap(({ layer }) => layer.trainableWeights.map((weight) => weight.read() as tf.Variable));
}

/** The variables the optimizer updates at depth k: the head's, then the trainable segments'. */
export function trainableVariables(model: TaskModel, k: number): { head: tf.Variable[]; backbone: tf.Variable[] } {
  return { head: [model.head.kernel, model.head.bias], backbone: trainableSegments(model, k).flatMap(segmentVariables) };
}

/** Parameters the optimizer updates at depth k. */
export function trainableParamCount(model: TaskModel, k: number): number {
  const { head, backbone } = trainableVariables(model, k);
  return [...head, ...backbone].reduce((sum, v) => sum + v.size, 0);
}

/**
 * Head logits from features: [n, h, w, 2048] feature maps, or [n, 2048] already pooled (the
 * cache stores pooled features when only the head trains). Dropout only when `training`, with
 * `dropoutSeed` when given.
 */
export function headLogits(model: TaskModel, features: tf.Tensor, training: boolean, dropoutSeed?: number): tf.Tensor2D {
  return tf.tidy(() => {
    let pooled = (features.rank === 4 ? tf.mean(features, [1, 2]) : features) as tf.Tensor2D; // [n, 2048]
    // Seeded, so that the same settings and seed train the same model (unseeded, two identical runs ended 1.9 points apart).
    if (training && model.dropout > 0) pooled = tf.dropout(pooled, model.dropout, undefined, dropoutSeed) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, model.head.kernel), model.head.bias); // [n, C]
  });
}
