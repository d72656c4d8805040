// Records as the training worker sends them, small enough to read, for the state's tests.

import { DEFAULT_PREPROCESS_SPEC } from '../../../src/core/preprocess-spec';
import type { RunLog } from '../../../src/core/run-report';
import type { EpochRecord, ImagePrediction, RunInfo, StepRecord, TrainedModelInfo } from '../../../src/workers/protocol';
import { initialLabState } from '../../../src/state/lab-state';

export function runInfo(continued = false): RunInfo {
  return {
    classNames: ['a', 'b'],
    trainCount: 8,
    validationCount: 2,
    stepsPerEpoch: 2,
    settings: initialLabState().training.settings,
    validationPaths: ['d/a/1.png', 'd/b/1.png'],
    validationLabels: [0, 1],
    continued,
  };
}

export function stepRecord(step: number, epoch = Math.floor(step / 2)): StepRecord {
  return { step, epoch, loss: 0.7, learningRate: 1e-3, freezeDepth: 0, trainableParams: 4098, classWeights: [1, 1], batchSize: 4, ms: 10 };
}

export function epochRecord(epoch: number): EpochRecord {
  const metrics = { accuracy: 0.5, macroF1: 0.5, perClass: [], confusion: [[1, 0], [1, 0]], count: 2 };
  return { epoch, train: { loss: 0.6, metrics }, validation: { loss: 0.65, metrics, predictions: [0, 0], losses: [0.1, 1.2], confidences: [0.9, 0.7] }, cache: { entries: 8, bytes: 1024, full: true }, ms: 40 };
}

export function trainedModel(overrides: Partial<TrainedModelInfo> = {}): TrainedModelInfo {
  return {
    origin: 'run',
    fileName: null,
    classNames: ['a', 'b'],
    spec: DEFAULT_PREPROCESS_SPEC,
    steps: 4,
    epochs: 2,
    trainedSegments: ['res5c'],
    parameters: 4_098,
    bestEpoch: null,
    restoredEpoch: null,
    ...overrides,
  };
}

export function imagePrediction(requestId: number, path: string, top1 = 'a'): ImagePrediction {
  return {
    requestId,
    path,
    width: 640,
    height: 480,
    top: [
      { index: 0, label: top1, probability: 0.875 },
      { index: 1, label: top1 === 'a' ? 'b' : 'a', probability: 0.125 },
    ],
    heatMap: { classIndex: 0, width: 2, height: 2, values: new Float32Array([0, 0.25, 0.5, 1]) },
    ms: 35,
    heatMapMs: 12,
  };
}

/** A run log as the worker sends it (history/log) after `epochs` epochs of 2 steps: classes a and b, the paths of runInfo(). */
export function runLog(epochs: number, ended: 'completed' | 'stopped' | null = null, rootName = 'd'): RunLog {
  return {
    classNames: ['a', 'b'],
    runs: [{ settings: runInfo().settings, firstStep: 0, firstEpoch: 0, startedAt: '2026-12-02T10:00:00.000Z', ended: ended ? { at: '2026-12-02T10:05:00.000Z', status: ended } : null }],
    steps: Array.from({ length: epochs * 2 }, (_, i) => stepRecord(i)),
    epochs: Array.from({ length: epochs }, (_, e) => epochRecord(e)),
    changes: [],
    findings: [],
    backend: null,
    dataset: {
      rootName,
      splitSource: 'stratified',
      splitOptions: { validationFraction: 0.2, seed: 42 },
      files: {
        train: Array.from({ length: 8 }, (_, i) => ({ path: `d/${i % 2 ? 'b' : 'a'}/t${i}.png`, className: i % 2 ? 'b' : 'a' })),
        validation: [
          { path: 'd/a/1.png', className: 'a' },
          { path: 'd/b/1.png', className: 'b' },
        ],
        test: [],
      },
    },
  };
}
