// A run's training state at the end of an epoch, as plain typed arrays: the weights the run has of
// its own (head and trained segments, BatchNorm statistics included), the optimizer's moments and
// the position in the run. The run history keeps the latest, so that a run cut off by a reload or
// a crash resumes there and trains on exactly as it would have (same batches, same losses).

import * as tf from '@tensorflow/tfjs';
import { TRAINING_STATE_FORMAT, TRAINING_STATE_VERSION, type TrainingState } from '../core/run-records';
import type { KeyedOptimizer } from './optimizer';
import type { RunModel } from './run-model';
import { weightVariables } from './weights-checkpoint';

/** The variables a state names, under their stable keys. */
function keyedVariables(model: RunModel): [string, tf.Variable][] {
  return [
    ['head/kernel', model.head.kernel],
    ['head/bias', model.head.bias],
    ...model.ownedSegmentsByIndex().flatMap(([index, segment]) => weightVariables(segment).map((v, i): [string, tf.Variable] => [`${index}/${i}`, v])),
  ];
}

/**
 * Copies of what a state needs, taken at once (the run goes on meanwhile; the copies share data
 * until the next update replaces it), read into typed arrays by `read`, which frees them.
 */
export function snapshotTrainingState(
  model: RunModel,
  optimizer: KeyedOptimizer,
  position: Pick<TrainingState, 'step' | 'epoch' | 'config' | 'runStart'>,
): { read(): Promise<TrainingState>; dispose(): void } {
  const copies: tf.Tensor[] = [];
  const keep = (t: tf.Tensor) => (copies.push(t), t);
  const dispose = () => copies.splice(0).forEach((t) => t.dispose());
  let head: { kernel: tf.Tensor; bias: tf.Tensor };
  let segments: { index: number; weights: tf.Tensor[] }[];
  let slots: { key: string; m: tf.Tensor; v: tf.Tensor | null; steps: number }[];
  try {
    head = { kernel: keep(model.head.kernel.clone()), bias: keep(model.head.bias.clone()) };
    segments = model.ownedSegmentsByIndex().map(([index, segment]) => ({ index, weights: weightVariables(segment).map((v) => keep(v.clone())) }));
    slots = keyedVariables(model).flatMap(([key, variable]) => {
      const slot = optimizer.copySlot(variable.name);
      if (!slot) return [];
      keep(slot.m);
      if (slot.v) keep(slot.v);
      return [{ key, ...slot }];
    });
  } catch (error) {
    dispose();
    throw error;
  }
  const config = { ...position.config };
  // A copy of its own: the cpu backend's data() is the tensor's own store, and the arrays are
  // transferred to the page.
  const values = async (t: tf.Tensor) => new Float32Array((await t.data()) as Float32Array);
  return {
    async read() {
      try {
        return {
          format: TRAINING_STATE_FORMAT,
          version: TRAINING_STATE_VERSION,
          step: position.step,
          epoch: position.epoch,
          config,
          runStart: { ...position.runStart },
          head: { kernel: await values(head.kernel), bias: await values(head.bias) },
          segments: await Promise.all(segments.map(async (s) => ({ index: s.index, weights: await Promise.all(s.weights.map(values)) }))),
          optimizer: {
            kind: config.optimizer,
            slots: await Promise.all(slots.map(async (s) => ({ key: s.key, m: await values(s.m), v: s.v ? await values(s.v) : null, steps: s.steps }))),
          },
        };
      } finally {
        dispose();
      }
    },
    dispose,
  };
}

/** Puts a state's weights into the model and its moments into the optimizer (of the state's kind). */
export function restoreTrainingState(model: RunModel, optimizer: KeyedOptimizer, state: TrainingState): void {
  checkTrainingState(state, model.numClasses);
  model.ownSegmentsAt(state.segments.map((s) => s.index));
  const assign = (variable: tf.Variable, values: Float32Array, what: string) => {
    if (values.length !== variable.size) throw new Error(`The saved ${what} has ${values.length} values; the model's has ${variable.size}.`);
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
  };
  assign(model.head.kernel, state.head.kernel, 'head kernel');
  assign(model.head.bias, state.head.bias, 'head bias');
  const segments = new Map(model.ownedSegmentsByIndex());
  for (const saved of state.segments) {
    const variables = weightVariables(segments.get(saved.index)!);
    if (variables.length !== saved.weights.length) throw new Error(`Segment ${saved.index} has ${variables.length} weights; the saved state has ${saved.weights.length}.`);
    variables.forEach((v, i) => assign(v, saved.weights[i]!, `weight ${i} of segment ${saved.index}`));
  }
  const byKey = new Map(keyedVariables(model));
  for (const slot of state.optimizer.slots) {
    const variable = byKey.get(slot.key);
    if (!variable) throw new Error(`The saved optimizer state names ${slot.key}, which the model does not train.`);
    optimizer.setSlot(variable, slot);
  }
}

/** The state is one this version writes, for a model of this many classes. */
function checkTrainingState(state: TrainingState, numClasses: number): void {
  if (state.format !== TRAINING_STATE_FORMAT || state.version !== TRAINING_STATE_VERSION) {
    throw new Error(`This saved training state is of another version of the lab (${String(state.format)} ${String(state.version)}).`);
  }
  if (state.head.bias.length !== numClasses) throw new Error(`The saved head has ${state.head.bias.length} classes; the model has ${numClasses}.`);
}
