// The records of a run, one definition each: what the engine reports, the worker sends, the page
// draws, the diagnostics read and run.json keeps.

import type { ClassWeighting } from './class-weights';
import type { ClassificationMetrics } from './metrics';
import type { NormalizationMode, ResizeRule } from './preprocess-spec';
import type { BatchNormPolicy, OptimizerKind, TrainingConfig } from './training-config';

/** Settings a run starts with: the engine's, plus how images are prepared. */
export interface RunSettings {
  config: TrainingConfig;
  /** Side of the network input, px. Default: 224. */
  sizePx: number;
  /** How each image is fitted into the square input. Default: 'stretch'. */
  resize: ResizeRule;
  /** Random resized crop + flip on the training split (turns the feature cache off). Default: false. */
  augment: boolean;
  /** How pixels are scaled for these weights. Default: 'caffe' (what they expect). */
  normalization: NormalizationMode;
  /** A different scaling for validation, set only on purpose (to reproduce a bug); null: the same. Default: null. */
  validationNormalization: NormalizationMode | null;
}

/** A setting that can change while a run trains; it applies at the next step. */
export type LiveChange =
  | { kind: 'freezeDepth'; value: number }
  | { kind: 'classWeighting'; value: ClassWeighting }
  | { kind: 'learningRate'; value: number }
  | { kind: 'batchNormPolicy'; value: BatchNormPolicy };

export interface StepRecord {
  /** 0-based over the model's whole training, "train more" runs included. */
  step: number;
  /** 0-based over the model's whole training. */
  epoch: number;
  /** Sample-weighted mean cross-entropy of the batch (what the optimizer minimised); NaN or ±Infinity when the step failed. */
  loss: number;
  batchSize: number;
  /** The head's learning rate at this step (the backbone's is × backboneLrMultiplier). */
  learningRate: number;
  /** Trainable blocks from the top at this step (TrainingConfig.freezeDepth). */
  freezeDepth: number;
  trainableParams: number;
  /** The class weights of this step's loss. */
  classWeights: number[];
  ms: number;
}

export interface SplitResult {
  /** Mean unweighted cross-entropy. */
  loss: number;
  metrics: ClassificationMetrics;
}

export interface EpochRecord {
  /** 0-based over the model's whole training. */
  epoch: number;
  /** Running figures of the epoch's training steps (dropout and BatchNorm policy as trained). */
  train: SplitResult;
  /** The validation split in inference mode, per image in split order; null without one. */
  validation: (SplitResult & ValidationImages) | null;
  cache: { entries: number; bytes: number; full: boolean };
  ms: number;
}

/** Per validation image, in split order: what the confusion matrix and the top-losses gallery show. */
export interface ValidationImages {
  /** The predicted class. */
  predictions: number[];
  /** Cross-entropy of the given class, −ln p(given). */
  losses: number[];
  /** Probability of the predicted class. */
  confidences: number[];
}

export interface ChangeRecord {
  /** The first step that trains with the change. */
  step: number;
  change: LiveChange;
  trainableParams: number;
}

/** How far one segment's BatchNorm moving statistics moved since the run started. */
export interface BatchNormDrift {
  /** Segment name: 'stem' or 'res2a' … 'res5c'. */
  name: string;
  /** Not trainable for the whole measured span. */
  frozen: boolean;
  /** ‖moving mean now − at the start‖₂ / ‖at the start‖₂ over all BatchNorm layers of the segment. */
  meanRelativeChange: number;
  /** The same for the moving variance. */
  varianceRelativeChange: number;
}

/**
 * A run's training state at the end of an epoch (ml/training-state.ts takes and restores it): what the
 * run history keeps so that a run cut off by a reload or a crash resumes there.
 */
export const TRAINING_STATE_FORMAT = 'finetune-lab/training-state';
export const TRAINING_STATE_VERSION = 1;

export interface TrainingState {
  format: typeof TRAINING_STATE_FORMAT;
  version: typeof TRAINING_STATE_VERSION;
  /** Steps and epochs done over the model's whole training. */
  step: number;
  epoch: number;
  /** The settings as they stand, live changes included. */
  config: TrainingConfig;
  /** Where the run in progress began: its schedule and its shuffles count from there. */
  runStart: { step: number; epoch: number };
  head: { kernel: Float32Array; bias: Float32Array };
  /** The segments with weights of their own, by index in [stem, ...blocks]; each weight in layer order. */
  segments: { index: number; weights: Float32Array[] }[];
  optimizer: { kind: OptimizerKind; slots: OptimizerSlot[] };
}

/** Every array of a state (to transfer it, to count its bytes). */
export function trainingStateArrays(state: TrainingState): Float32Array[] {
  return [state.head.kernel, state.head.bias, ...state.segments.flatMap((s) => s.weights), ...state.optimizer.slots.flatMap((s) => (s.v ? [s.m, s.v] : [s.m]))];
}

/** One variable's optimizer state, keyed by where the variable sits ('head/kernel', '3/7': segment 3's 8th weight). */
export interface OptimizerSlot {
  key: string;
  m: Float32Array;
  v: Float32Array | null;
  steps: number;
}

