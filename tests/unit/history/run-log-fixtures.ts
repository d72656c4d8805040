// Stored runs for the history's tests: a head-only cats/dogs/foxes run whose best validation
// figures are worked out by hand below, with the settings, length and validation each test varies.

import type { BackendInfo } from '../../../src/core/backends';
import { classWeights } from '../../../src/core/class-weights';
import { metricsFromConfusion } from '../../../src/core/metrics';
import type { RunLog, SplitFile } from '../../../src/core/run-report';
import type { ChangeRecord, EpochRecord, RunSettings, StepRecord } from '../../../src/core/run-records';
import { DEFAULT_TRAINING_CONFIG, type TrainingConfig } from '../../../src/core/training-config';
import type { ComparedRun } from '../../../src/history/compare';

const CLASS_NAMES = ['cat', 'dog', 'fox'];
/** Train: 8 cats, 2 dogs, 2 foxes; validation: 4 cats, a dog and a fox, in this order; test: one of each. */
const TRAIN_COUNTS = [8, 2, 2];
const VALIDATION_COUNTS = [4, 1, 1];
const TEST_COUNTS = [1, 1, 1];
const BATCH_SIZE = 4;
export const STEPS_PER_EPOCH = 3; // 12 training images / 4

/**
 * Validation confusions, actual × predicted, and what they give by hand:
 * epoch 0 calls the fox a cat: accuracy 5/6; F1 cat 2·0.8·1/1.8 = 8/9, dog 1, fox 0 → macro 0.630.
 * epoch 1 gets 2 of 4 cats: accuracy 4/6; F1 2/3 for every class → macro 2/3.
 * So the best accuracy is epoch 0's and the best macro-F1 epoch 1's.
 */
const VALIDATION_CONFUSIONS = [
  [[4, 0, 0], [0, 1, 0], [1, 0, 0]],
  [[2, 1, 1], [0, 1, 0], [0, 0, 1]],
];
/** The predicted class of each validation image, in split order, matching the confusions. */
const VALIDATION_PREDICTIONS = [
  [0, 0, 0, 0, 1, 0],
  [0, 0, 1, 2, 1, 2],
];
const TRAIN_CONFUSIONS = [
  [[7, 1, 0], [1, 1, 0], [2, 0, 0]],
  [[8, 0, 0], [0, 2, 0], [1, 0, 1]],
];

const BACKEND: BackendInfo = {
  name: 'wasm',
  skipped: [
    { name: 'webgpu', reason: 'navigator.gpu is missing' },
    { name: 'webgl', reason: 'no WebGL2 context' },
  ],
  wasmThreads: 2,
  crossOriginIsolated: true,
};

export function settings(config: Partial<TrainingConfig> = {}, prepared: Partial<Omit<RunSettings, 'config'>> = {}): RunSettings {
  return {
    config: { ...DEFAULT_TRAINING_CONFIG, batchSize: BATCH_SIZE, epochs: 2, ...config },
    sizePx: 224,
    resize: 'stretch',
    augment: false,
    normalization: 'caffe',
    validationNormalization: null,
    ...prepared,
  };
}

function splitFiles(root: string, split: string, counts: number[]): SplitFile[] {
  return counts.flatMap((count, c) =>
    Array.from({ length: count }, (_, i) => ({ path: `${root}/${split}/${CLASS_NAMES[c]}/${CLASS_NAMES[c]}-${i}.jpg`, className: CLASS_NAMES[c]! })),
  );
}

/** Train loss 0.9 − 0.3·epoch, validation loss 0.8 − 0.1·epoch; none without validation. */
function epochRecord(epoch: number, validated: boolean): EpochRecord {
  const predictions = VALIDATION_PREDICTIONS[epoch]!;
  const labels = VALIDATION_COUNTS.flatMap((count, c) => new Array<number>(count).fill(c));
  return {
    epoch,
    train: { loss: 0.9 - 0.3 * epoch, metrics: metricsFromConfusion(TRAIN_CONFUSIONS[epoch]!) },
    validation: validated
      ? {
          loss: 0.8 - 0.1 * epoch,
          metrics: metricsFromConfusion(VALIDATION_CONFUSIONS[epoch]!),
          predictions,
          losses: predictions.map((p, i) => (p === labels[i] ? 0.2 : 1.6)),
          confidences: predictions.map((p, i) => (p === labels[i] ? 0.82 : 0.55)),
        }
      : null,
    cache: { entries: 12, bytes: 12 * 2048 * 4, full: true },
    ms: 4_200,
  };
}

export interface RunOptions {
  /** Epochs of 3 steps done. Default: 2 (completed; running before). */
  epochs?: 0 | 1 | 2;
  rootName?: string | null;
  config?: Partial<TrainingConfig>;
  prepared?: Partial<Omit<RunSettings, 'config'>>;
  /** A validation split (6 images). Default: true. */
  validated?: boolean;
  /** Default: the learning rate halved from step 3 on, once the run gets there. */
  changes?: ChangeRecord[];
}

/** A head-only run of cats/dogs/foxes on WASM, step losses 1.1 − 0.08·step. */
export function trainedRun({ epochs = 2, rootName = 'cats', config = {}, prepared = {}, validated = true, changes }: RunOptions = {}): RunLog {
  const weights = classWeights(TRAIN_COUNTS, 'balanced');
  const steps: StepRecord[] = Array.from({ length: epochs * STEPS_PER_EPOCH }, (_, step) => ({
    step,
    epoch: Math.floor(step / STEPS_PER_EPOCH),
    loss: 1.1 - 0.08 * step,
    batchSize: BATCH_SIZE,
    learningRate: step < 3 ? 1e-3 : 5e-4,
    freezeDepth: 0,
    trainableParams: 2048 * 3 + 3,
    classWeights: weights,
    ms: 118 + step,
  }));
  const root = rootName ?? 'dropped';
  return {
    classNames: [...CLASS_NAMES],
    runs: [
      {
        settings: settings(config, prepared),
        firstStep: 0,
        firstEpoch: 0,
        startedAt: '2025-03-14T09:00:00.000Z',
        ended: epochs === 2 ? { at: '2025-03-14T09:00:09.000Z', status: 'completed' } : null,
      },
    ],
    steps,
    epochs: Array.from({ length: epochs }, (_, e) => epochRecord(e, validated)),
    changes: changes ?? (steps.length > 3 ? [{ step: 3, change: { kind: 'learningRate', value: 5e-4 }, trainableParams: 2048 * 3 + 3 }] : []),
    findings: [],
    backend: BACKEND,
    dataset: {
      rootName,
      splitSource: 'folders',
      splitOptions: null,
      files: {
        train: splitFiles(root, 'train', TRAIN_COUNTS),
        validation: validated ? splitFiles(root, 'validation', VALIDATION_COUNTS) : [],
        test: splitFiles(root, 'test', TEST_COUNTS),
      },
    },
  };
}

export function compared(name: string, log: RunLog): ComparedRun {
  return { id: `id-${name}`, name, log };
}
