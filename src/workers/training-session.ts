// What the training worker does for a run: builds the engine on the loaded network and the open
// dataset, forwards live changes to it, and turns its hooks into past-tense events.

import { LabError, serializeError } from '../core/errors';
import { runDiagnostics, type DiagnosticsInput, type InputStatistics } from '../core/diagnostics';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, type PreprocessSpec } from '../core/preprocess-spec';
import type { DecodeReply, DecodeRequest } from '../data/decode-job';
import { pooledImages, type PooledImages } from '../data/pool-images';
import type { WorkerPool } from '../data/worker-pool';
import type { SegmentedResNet50 } from '../ml/segments';
import { TrainingEngine, type LiveChange } from '../ml/training-engine';
import type { OpenDataset } from './dataset-session';
import { datasetInputs, imagenetProbe, inputStatistics, PROBE_SAMPLE, sampleOf, STATISTICS_SAMPLE, type HistoryRecorder } from './diagnostics-inputs';
import type { RunSettings, TrainingCommand, WorkerEvent } from './protocol';

export interface TrainingSessionDeps {
  emit: (event: WorkerEvent) => void;
  network: () => SegmentedResNet50 | null;
  imagenetLabels: () => string[] | null;
  dataset: () => OpenDataset | null;
  pool: () => WorkerPool<DecodeRequest, DecodeReply>;
  /** Set once the GPU device is lost: then every failure of the run is that one. */
  deviceLost?: () => LabError | null;
}

export interface TrainingSession {
  handle(command: TrainingCommand): Promise<void>;
}

export function createTrainingSession(deps: TrainingSessionDeps): TrainingSession {
  let engine: TrainingEngine | null = null;
  // From train/start until the run ends, including the seconds of sampling before the first step.
  let busy = false;
  let stopBeforeFirstStep = false;

  // After a lost device every GPU read fails with a browser message about buffer mapping; the
  // user is told the cause instead.
  const explain = (error: unknown) => serializeError(deps.deviceLost?.() ?? error);

  function change(live: LiveChange): void {
    // A change sent as the run ended has nothing left to change: the page keeps it for the next run.
    engine?.change(live);
  }

  async function start(command: Extract<TrainingCommand, { type: 'train/start' }>): Promise<void> {
    if (busy) throw new LabError('input/invalid', 'A run is already in progress: stop it first.');
    busy = true;
    stopBeforeFirstStep = false;
    try {
      await startRun(command);
    } finally {
      // The run is over: the pretrained weights go back as they were (photo checks and the next
      // run's checks see the ImageNet network again), and the head, optimizer and cache are freed.
      engine?.dispose();
      engine = null;
      busy = false;
    }
  }

  async function startRun(command: Extract<TrainingCommand, { type: 'train/start' }>): Promise<void> {
    const lost = deps.deviceLost?.();
    if (lost) throw lost;
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

    const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: settings.sizePx, normalization: settings.normalization };
    const validationSpec = { ...spec, normalization: settings.validationNormalization ?? settings.normalization };
    const history: HistoryRecorder = { steps: [], epochs: [] };
    let latestConfusion: number[][] | undefined;
    let labelQuality: DiagnosticsInput['labelQuality'];
    // Filled in before the first step; the rules over the run's history are added as it goes.
    let before: DiagnosticsInput = {};
    // The diagnostics are a help, not a precondition: when they cannot run, the run goes on.
    const diagnose = (stage: 'before-training' | 'during-training' | 'after-training') =>
      diagnoseNow(stage).catch((error: unknown) => deps.emit({ type: 'train/warning', message: `The diagnostics could not run: ${explain(error).message}` }));
    const diagnoseNow = async (stage: 'before-training' | 'during-training' | 'after-training') => {
      const drift = history.epochs.length > 0 ? await current.batchNormDrift() : null;
      const trainCounts = dataset.index.classNames.map((_, c) => train.filter((e) => e.classIndex === c).length);
      const findings = runDiagnostics({
        ...before,
        classBalance: { classNames: dataset.index.classNames, trainCounts, classWeighting: current.settings.classWeighting, ...(latestConfusion ? { validationConfusion: latestConfusion } : {}) },
        ...(history.steps.length > 0
          ? { training: { numClasses, steps: history.steps, epochs: history.epochs, backboneLrMultiplier: current.settings.backboneLrMultiplier } }
          : {}),
        ...(labelQuality ? { labelQuality } : {}),
        ...(drift ? { batchNormDrift: { blocks: drift, batchNormPolicy: current.settings.batchNormPolicy } } : {}),
      });
      deps.emit({ type: 'diagnostics/updated', stage, findings });
    };
    const current = new TrainingEngine({
      pretrained: net,
      numClasses,
      config: settings.config,
      hooks: {
        onStep: (step) => {
          history.steps.push({ step: step.step, loss: step.loss, learningRate: step.learningRate, freezeDepth: step.freezeDepth });
          deps.emit({ type: 'train/stepEnded', step });
        },
        onEpochEnd: (report) => {
          history.epochs.push({
            epoch: report.epoch,
            trainLoss: report.train.loss,
            trainAccuracy: report.train.metrics.accuracy,
            validationLoss: report.validation?.loss ?? null,
            validationAccuracy: report.validation?.metrics.accuracy ?? null,
          });
          latestConfusion = report.validation?.metrics.confusion;
          const probabilities = report.validation?.probabilities;
          if (probabilities) {
            labelQuality = {
              classNames: dataset.index.classNames,
              predictions: validation.map((entry, i) => ({
                id: entry.path,
                label: entry.classIndex,
                probabilities: Array.from(probabilities.subarray(i * numClasses, (i + 1) * numClasses)),
              })),
            };
          }
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
          });
          void diagnose('during-training');
        },
        onChange: ({ step, change: applied, trainableParams }) =>
          deps.emit({ type: 'train/changeApplied', change: { step, kind: applied.kind, value: applied.value, trainableParams } }),
        onStepFailed: (failure) => {
          if (failure.kind !== 'non-finite-loss') return;
          const lr = history.steps.at(-1)?.learningRate ?? current.settings.learningRate;
          history.steps.push({ step: failure.step, loss: NaN, learningRate: lr, freezeDepth: current.settings.freezeDepth });
          deps.emit({ type: 'train/paused', reason: 'non-finite-loss', message: failure.error.message });
          void diagnose('during-training');
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
    const validationImages = validation.length > 0 ? pooledImages({ pool: deps.pool(), entries: validation, files, spec: validationSpec, augment: null }) : null;
    deps.emit({
      type: 'train/started',
      run: {
        classNames: dataset.index.classNames,
        trainCount: train.length,
        validationCount: validation.length,
        stepsPerEpoch: Math.ceil(train.length / settings.config.batchSize),
        settings,
        validationPaths: validation.map((e) => e.path),
        validationLabels: validation.map((e) => e.classIndex),
      },
    });
    try {
      before = await beforeTraining({ net, dataset, spec, validationSpec, validationImages, trainUnaugmented: pooledImages({ pool: deps.pool(), entries: train, files, spec, augment: null }), settings });
    } catch (error) {
      deps.emit({ type: 'train/warning', message: `The checks before training could not run: ${explain(error).message}` });
    }
    await diagnose('before-training');
    if (stopBeforeFirstStep) {
      deps.emit({ type: 'train/finished', status: 'stopped', steps: 0 });
      return;
    }
    const summary = await current.run(trainImages, validationImages);
    await diagnose('after-training');
    if (summary.status === 'failed') {
      const lost = deps.deviceLost?.();
      deps.emit({ type: 'train/failed', error: lost ? serializeError(lost) : (summary.error ?? { code: 'internal', message: 'The run failed.' }) });
    }
    else deps.emit({ type: 'train/finished', status: summary.status, steps: summary.steps });
  }

  /** The statistics that exist before the first step: input scaling, split consistency, data, leakage. */
  async function beforeTraining(args: {
    net: SegmentedResNet50;
    dataset: OpenDataset;
    spec: PreprocessSpec;
    validationSpec: PreprocessSpec;
    trainUnaugmented: PooledImages;
    validationImages: PooledImages | null;
    settings: RunSettings;
  }): Promise<DiagnosticsInput> {
    const { net, dataset, spec, validationSpec, trainUnaugmented, validationImages, settings } = args;
    const labels = deps.imagenetLabels();
    const trainSample = await sampleOf(trainUnaugmented, STATISTICS_SAMPLE);
    const trainStatistics = inputStatistics(trainSample.pixels, spec.normalization, trainSample.ids.length);
    const currentProbe = await imagenetProbe(net, labels, trainSample.pixels, trainSample.ids, spec.sizePx);
    let caffeProbe = currentProbe;
    if (spec.normalization !== 'caffe') {
      const caffeImages = pooledImages({ pool: deps.pool(), entries: dataset.usable.train, files: dataset.files, spec: { ...spec, normalization: 'caffe' }, augment: null });
      const caffeSample = await sampleOf(caffeImages, PROBE_SAMPLE);
      caffeProbe = await imagenetProbe(net, labels, caffeSample.pixels, caffeSample.ids, spec.sizePx);
    }
    let validationSample: { specHash: string; statistics: InputStatistics } | null = null;
    if (validationImages) {
      const sample = await sampleOf(validationImages, STATISTICS_SAMPLE);
      validationSample = { specHash: preprocessSpecHash(validationSpec), statistics: inputStatistics(sample.pixels, validationSpec.normalization, sample.ids.length) };
    }
    const { profiles, splitLeakage } = datasetInputs(dataset);
    return {
      inputNormalization: { statistics: trainStatistics, currentProbe, caffeProbe },
      ...(validationSample
        ? { splitConsistency: { train: { specHash: preprocessSpecHash(spec), statistics: trainStatistics }, validation: validationSample } }
        : {}),
      domainGap: { images: profiles, caffeProbe, currentFreezeDepth: settings.config.freezeDepth, currentLearningRate: settings.config.learningRate },
      ...(splitLeakage ? { splitLeakage } : {}),
    };
  }

  return {
    async handle(command) {
      try {
        switch (command.type) {
          case 'train/start':
            await start(command);
            break;
          case 'train/pause':
            if (!busy || !engine) break;
            engine.pause();
            deps.emit({ type: 'train/paused', reason: 'user' });
            break;
          case 'train/resume':
            if (!busy || !engine) break;
            engine.resume();
            deps.emit({ type: 'train/resumed' });
            break;
          case 'train/stop':
            if (!busy) break;
            if (engine?.isRunning) engine.stop();
            else stopBeforeFirstStep = true;
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
        deps.emit({ type: 'train/failed', error: explain(error) });
      }
    },
  };
}
