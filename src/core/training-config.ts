// Settings of a fine-tuning run, their defaults and their validation. Those marked "live" can
// change between two steps of a running run.

import type { ClassWeighting } from './class-weights';
import { LabError } from './errors';
import type { LrSchedule } from './lr-schedule';

/** Blocks of ResNet50, and the freeze position that also unfreezes the stem. */
export const BLOCK_COUNT = 16;
export const MAX_FREEZE_DEPTH = BLOCK_COUNT + 1;

/**
 * BatchNorm in unfrozen blocks: 'frozen' keeps inference mode (moving statistics, never updated),
 * as the Keras transfer-learning guide advises; 'train' uses batch statistics and updates the
 * moving ones. Frozen blocks always run in inference mode.
 */
export type BatchNormPolicy = 'frozen' | 'train';

export type OptimizerKind = 'adam' | 'sgd';

export interface TrainingConfig {
  /** Trainable blocks from the top: 0 = head only, 1..16 = that many blocks (res5c downwards), 17 = every block and the stem. Live. Default: 0. */
  freezeDepth: number;
  /** Per-sample weights of the cross-entropy. Live. Default: 'balanced'. */
  classWeighting: ClassWeighting;
  /** BatchNorm in unfrozen blocks. Live. Default: 'frozen'. */
  batchNormPolicy: BatchNormPolicy;
  /** Default: 'adam'. */
  optimizer: OptimizerKind;
  /** Peak learning rate of the head. Live. Default: 1e-3. */
  learningRate: number;
  /** The backbone's learning rate is learningRate × this. Live. Default: 0.1. */
  backboneLrMultiplier: number;
  /** SGD momentum. Default: 0.9. */
  momentum: number;
  /** Default: 'warmup-cosine'. */
  schedule: LrSchedule;
  /** Linear warm-up steps of 'warmup-cosine'. Default: 10. */
  warmupSteps: number;
  /** Images per optimizer step. Default: 16. */
  batchSize: number;
  /**
   * Images per forward/backward pass when blocks train; gradients of a batch's micro-batches are
   * summed, so the step is the batch's (BatchNorm in 'train' mode sees micro-batch statistics).
   * 0 = automatic: as many images as the trainable blocks' layer outputs fit in ~600 MB (WASM's
   * memory is capped at 4 GB; batch 8 at 224 px with every block training ran out of it here): 4 at
   * 224 px with every block, the whole batch when only res5 trains. Default: 0.
   */
  microBatchSize: number;
  /** Default: 5. */
  epochs: number;
  /** Dropout before the new dense layer, 0..0.9. Default: 0.2. */
  dropout: number;
  /** Seeds the shuffles and the augmentation. Default: 42. */
  seed: number;
  /** Most memory the feature cache may hold before it stops caching, in bytes. Default: 512 MiB. */
  featureCacheLimitBytes: number;
}

export const DEFAULT_TRAINING_CONFIG: Readonly<TrainingConfig> = Object.freeze({
  freezeDepth: 0,
  classWeighting: 'balanced',
  batchNormPolicy: 'frozen',
  optimizer: 'adam',
  learningRate: 1e-3,
  backboneLrMultiplier: 0.1,
  momentum: 0.9,
  schedule: 'warmup-cosine',
  warmupSteps: 10,
  batchSize: 16,
  microBatchSize: 0,
  epochs: 5,
  dropout: 0.2,
  seed: 42,
  featureCacheLimitBytes: 512 * 1024 * 1024,
});

export function validateFreezeDepth(k: number): number {
  if (!Number.isInteger(k) || k < 0 || k > MAX_FREEZE_DEPTH) {
    throw new LabError('input/invalid', `Freeze depth must be a whole number from 0 to ${MAX_FREEZE_DEPTH}, not ${k}.`);
  }
  return k;
}

export function validateTrainingConfig(config: TrainingConfig): TrainingConfig {
  const problems: string[] = [];
  const positive = (name: keyof TrainingConfig, value: number) => {
    if (!(Number.isFinite(value) && value > 0)) problems.push(`${name} must be a positive number, not ${value}`);
  };
  const wholeAtLeast = (name: keyof TrainingConfig, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be a whole number ≥ ${min}, not ${value}`);
  };
  try {
    validateFreezeDepth(config.freezeDepth);
  } catch (error) {
    problems.push((error as Error).message);
  }
  positive('learningRate', config.learningRate);
  positive('backboneLrMultiplier', config.backboneLrMultiplier);
  positive('featureCacheLimitBytes', config.featureCacheLimitBytes);
  wholeAtLeast('batchSize', config.batchSize, 1);
  wholeAtLeast('microBatchSize', config.microBatchSize, 0);
  wholeAtLeast('epochs', config.epochs, 1);
  wholeAtLeast('warmupSteps', config.warmupSteps, 0);
  if (!(config.momentum >= 0 && config.momentum < 1)) problems.push(`momentum must be in [0, 1), not ${config.momentum}`);
  if (!(config.dropout >= 0 && config.dropout <= 0.9)) problems.push(`dropout must be in [0, 0.9], not ${config.dropout}`);
  if (!['off', 'balanced'].includes(config.classWeighting)) problems.push(`unknown class weighting '${config.classWeighting}'`);
  if (!['frozen', 'train'].includes(config.batchNormPolicy)) problems.push(`unknown BatchNorm policy '${config.batchNormPolicy}'`);
  if (!['adam', 'sgd'].includes(config.optimizer)) problems.push(`unknown optimizer '${config.optimizer}'`);
  if (!['constant', 'warmup-cosine'].includes(config.schedule)) problems.push(`unknown schedule '${config.schedule}'`);
  if (problems.length > 0) throw new LabError('input/invalid', `Invalid training settings: ${problems.join('; ')}.`);
  return config;
}

/** Keras names of the blocks, from the top (freeze depth k unfreezes the first k of these). */
export const BLOCKS_FROM_TOP: readonly string[] = [
  'res5c', 'res5b', 'res5a',
  'res4f', 'res4e', 'res4d', 'res4c', 'res4b', 'res4a',
  'res3d', 'res3c', 'res3b', 'res3a',
  'res2c', 'res2b', 'res2a',
];

/** What freeze depth k trains, in words: "head only", "head + res5c", … "everything (stem too)". */
export function freezeDepthLabel(k: number): string {
  if (k === 0) return 'head only';
  if (k === MAX_FREEZE_DEPTH) return 'everything, stem too';
  return `head + ${BLOCKS_FROM_TOP[k - 1]} and up (${k} block${k === 1 ? '' : 's'})`;
}

/**
 * Trainable parameters at depth k from the per-segment counts (trainable weights only, BN moving
 * statistics excluded): the new head's 2048·C + C, the top k blocks, and the stem at k = 17.
 */
export function trainableParamsAt(k: number, segmentParams: { stem: number; blocks: readonly number[] }, numClasses: number): number {
  const head = 2048 * numClasses + numClasses;
  const blocks = segmentParams.blocks.slice(segmentParams.blocks.length - Math.min(k, BLOCK_COUNT)).reduce((a, b) => a + b, 0);
  return head + blocks + (k === MAX_FREEZE_DEPTH ? segmentParams.stem : 0);
}
