// What the training worker does for a run: builds the engine on the loaded network and the open
// dataset, forwards live changes to it, and turns its hooks into past-tense events.

import { classCounts, classWeights } from '../core/class-weights';
import { LabError, serializeError } from '../core/errors';
import { DEFAULT_PREPROCESS_SPEC } from '../core/preprocess-spec';
import { MAX_FREEZE_DEPTH } from '../core/training-config';
import type { DecodeReply, DecodeRequest } from '../data/decode-job';
import { pooledImages } from '../data/pool-images';
import type { WorkerPool } from '../data/worker-pool';
import type { SegmentedResNet50 } from '../ml/segments';
import { TrainingEngine, type LiveChange } from '../ml/training-engine';
import type { OpenDataset } from './dataset-session';
import type { TrainingCommand, WorkerEvent } from './protocol';

export interface TrainingSessionDeps {
  emit: (event: WorkerEvent) => void;
  network: () => SegmentedResNet50 | null;
  dataset: () => OpenDataset | null;
  pool: () => WorkerPool<DecodeRequest, DecodeReply>;
}

export interface TrainingSession {
  handle(command: TrainingCommand): Promise<void>;
}

export function createTrainingSession(deps: TrainingSessionDeps): TrainingSession {
  let engine: TrainingEngine | null = null;

  function change(live: LiveChange): void {
    if (!engine) throw new LabError('input/invalid', 'No run is in progress.');
    engine.change(live);
  }

  async function start(command: Extract<TrainingCommand, { type: 'train/start' }>): Promise<void> {
    if (engine?.isRunning) throw new LabError('input/invalid', 'A run is already in progress: stop it first.');
    const net = deps.network();
    const dataset = deps.dataset();
    if (!net) throw new LabError('model/not-found', 'The pretrained model is not loaded yet.');
    if (!dataset) throw new LabError('input/invalid', 'Drop a folder of images first.');
    const { settings } = command;
    const train = dataset.usable.train;
    const validation = dataset.usable.validation;
    if (train.length === 0) throw new LabError('input/invalid', 'The training split has no readable images.');
    const numClasses = dataset.index.classNames.length;
    if (numClasses < 2) throw new LabError('input/invalid', 'A classifier needs at least two classes.');

    engine?.dispose();
    const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: settings.sizePx };
    const current = new TrainingEngine({
      pretrained: net,
      numClasses,
      config: settings.config,
      hooks: {
        onStep: (step) => deps.emit({ type: 'train/stepEnded', step }),
        onEpochEnd: (report) =>
          deps.emit({
            type: 'train/epochEnded',
            epoch: {
              epoch: report.epoch,
              trainLoss: report.train.loss,
              trainAccuracy: report.train.metrics.accuracy,
              validation: report.validation
                ? { loss: report.validation.loss, metrics: report.validation.metrics, predictions: Array.from(report.validation.predictions ?? []) }
                : null,
              cache: { entries: report.cache.entries, bytes: report.cache.bytes, full: report.cache.full },
              ms: report.ms,
            },
          }),
        onChange: ({ step, change: applied, trainableParams }) =>
          deps.emit({ type: 'train/changeApplied', change: { step, kind: applied.kind, value: applied.value, trainableParams } }),
        onStepFailed: (failure) => {
          if (failure.kind === 'non-finite-loss') deps.emit({ type: 'train/paused', reason: 'non-finite-loss', message: failure.error.message });
        },
        onCacheFull: (stats) =>
          deps.emit({
            type: 'train/warning',
            message: `The feature cache is full (${Math.round(stats.bytes / 1e6)} MB): images past it go through the frozen layers every epoch.`,
          }),
      },
    });
    engine = current;
    const files = dataset.files;
    const trainImages = pooledImages({
      pool: deps.pool(),
      entries: train,
      files,
      spec,
      augment: settings.augment ? { seed: settings.config.seed, epochOf: () => current.currentEpoch } : null,
    });
    const validationImages = validation.length > 0 ? pooledImages({ pool: deps.pool(), entries: validation, files, spec, augment: null }) : null;
    deps.emit({
      type: 'train/started',
      run: {
        classNames: dataset.index.classNames,
        trainCount: train.length,
        validationCount: validation.length,
        stepsPerEpoch: Math.ceil(train.length / settings.config.batchSize),
        settings,
        trainableParamsByDepth: Array.from({ length: MAX_FREEZE_DEPTH + 1 }, (_, k) => current.trainableParamCount(k)),
        balancedWeights: classWeights(classCounts(trainImages.labels, numClasses), 'balanced'),
        validationPaths: validation.map((e) => e.path),
        validationLabels: validation.map((e) => e.classIndex),
      },
    });
    const summary = await current.run(trainImages, validationImages);
    if (summary.status === 'failed') deps.emit({ type: 'train/failed', error: summary.error ?? { code: 'internal', message: 'The run failed.' } });
    else deps.emit({ type: 'train/finished', status: summary.status, steps: summary.steps });
  }

  return {
    async handle(command) {
      try {
        switch (command.type) {
          case 'train/start':
            await start(command);
            break;
          case 'train/pause':
            engine?.pause();
            deps.emit({ type: 'train/paused', reason: 'user' });
            break;
          case 'train/resume':
            engine?.resume();
            deps.emit({ type: 'train/resumed' });
            break;
          case 'train/stop':
            engine?.stop();
            break;
          case 'train/setFreezeDepth':
            change({ kind: 'freezeDepth', value: command.value });
            break;
          case 'train/setClassWeighting':
            change({ kind: 'classWeighting', value: command.value });
            break;
          case 'train/setLearningRate':
            change({ kind: 'learningRate', value: command.value });
            break;
          case 'train/setBatchNormPolicy':
            change({ kind: 'batchNormPolicy', value: command.value });
            break;
        }
      } catch (error) {
        deps.emit({ type: 'train/failed', error: serializeError(error) });
      }
    },
  };
}
