// What the training worker does with runs and the model they leave: builds a run on the loaded
// network and the open dataset (or continues the kept model), forwards live changes, turns the
// engine's hooks into past-tense events, and keeps the trained model for predictions, exports
// and "train more" until it is discarded. Kept apart from the worker entry so it runs in Node.

import type { BackendInfo } from '../core/backends';
import { LabError, serializeError } from '../core/errors';
import { calibratedOutOfFold, runDiagnostics, type DiagnosticsInput, type InputStatistics } from '../core/diagnostics';
import type { RgbaImage } from '../core/image';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, type PreprocessSpec } from '../core/preprocess-spec';
import type { LiveChange, RunSettings } from '../core/run-records';
import { emptyRunLog, exportRunZip, runJson, type RunLog, type RunSegment, type SplitFile } from '../core/run-report';
import { trainingStateArrays, type TrainingState } from '../core/run-records';
import { classCounts, classWeights } from '../core/class-weights';
import { crossValidateProbe, type ProbeCrossValidation } from '../core/linear-probe';
import { topK } from '../core/top-k';
import type { DecodeReply, DecodeRequest } from '../data/decode-job';
import { pooledImages, type PooledImages } from '../data/pool-images';
import { preprocessImage } from '../data/preprocess';
import type { WorkerPool } from '../data/worker-pool';
import { exportClassifierZip, importClassifierZip } from '../ml/classifier-zip';
import { exportOnnx } from '../ml/onnx-export';
import { exportPytorchProject, PARITY_IMAGES, type ParityImages } from '../ml/pytorch-project';
import { predictWithHeatMap } from '../ml/grad-cam';
import type { KerasTopology } from '../ml/model-loader';
import type { PretrainedNetwork } from '../ml/pretrained-network';
import { RunModel } from '../ml/run-model';
import type { SegmentedResNet50 } from '../ml/segments';
import { TrainingEngine, type TrainingHooks } from '../ml/training-engine';
import type { OpenDataset } from './dataset-session';
import { datasetInputs, imagenetProbe, inputStatistics, PROBE_SAMPLE, sampleOf, STATISTICS_SAMPLE, type HistoryRecorder } from './diagnostics-inputs';
import type { ExportFormat, TrainedModelInfo, TrainingCommand, WorkerEvent } from './protocol';

export interface TrainingSessionDeps {
  emit: (event: WorkerEvent, transfer?: Transferable[]) => void;
  pretrained: () => PretrainedNetwork | null;
  dataset: () => OpenDataset | null;
  pool: () => WorkerPool<DecodeRequest, DecodeReply>;
  /** Decodes an image to predict on. */
  decode: (image: Blob, fileName: string) => Promise<RgbaImage>;
  /** The backend the worker got, for run.json. */
  backend?: () => BackendInfo | null;
  /** Set once the GPU device is lost: then every failure of the run is that one. */
  deviceLost?: () => LabError | null;
  /** Settles once the backend and the pretrained network have loaded (or failed to): an import waits for it. */
  whenReady?: () => Promise<void>;
  now?: () => number;
  /** Wall clock for run.json. Default: new Date(). */
  date?: () => Date;
}

export interface TrainingSession {
  handle(command: TrainingCommand): Promise<void>;
  /** Frees the kept model (the pretrained network it was trained from is about to be replaced). */
  discard(): void;
}

/** Classes shown per predicted image. */
const TOP_CLASSES = 3;
/**
 * Images up to which the linear probe runs after a head-only run: its 5-fold fit took ~0.5 s for
 * 112 images and ~16 s for 2,000 (10 classes) here, and it blocks the worker meanwhile.
 */
const MAX_PROBE_IMAGES = 2500;
/** How long a failed run waits for a GPU device's lost signal (seen arriving after the failed read-back). */
const LOST_SIGNAL_WAIT_MS = 2000;

/** The model a run left, or an import brought, with what it takes to train it more and export it. */
interface KeptModel {
  model: RunModel;
  origin: 'run' | 'imported';
  fileName: string | null;
  /** The Keras topology its network came from: the export starts from it. */
  topology: KerasTopology;
  /** Made by the first run that trains it; keeps the optimizer's moments and the step count. */
  engine: TrainingEngine | null;
  /** Its training in this lab, for run.json; null until a run trains it. */
  log: RunLog | null;
  /** Names the log in the page's run history (history/log): made with the log, kept by "train more". */
  logId: string | null;
  /** What the diagnostics read: the log's steps, with the failed ones too. */
  history: HistoryRecorder;
  /** An imported zip's run.json. */
  importedRun: unknown;
  /** Runs the last run's diagnostics again, on the model as it is now. */
  rediagnose: (() => Promise<void>) | null;
}

export function createTrainingSession(deps: TrainingSessionDeps): TrainingSession {
  const now = deps.now ?? (() => performance.now());
  const date = deps.date ?? (() => new Date());
  let kept: KeptModel | null = null;
  // The engine's hooks go to the run in progress.
  let runHooks: TrainingHooks = {};
  // From train/start until the run ends, including the seconds of sampling before the first step.
  let busy = false;
  let stopBeforeFirstStep = false;
  // Numbers the checks before Start: a newer one (other settings) makes an older one's answer stale.
  let checkGeneration = 0;
  // "Keep the best epoch" asked while a run trains: the run stops, then the model goes back.
  let restoreAfterRun = false;
  // Numbers every diagnostics update, so that the page never lets an older one replace a newer.
  let diagnosticsSequence = 0;

  // After a lost device every GPU read fails with a browser message about buffer mapping; the
  // user is told the cause instead.
  const explain = (error: unknown) => serializeError(deps.deviceLost?.() ?? error);

  /** On WebGPU, resolves once the device is known lost or after LOST_SIGNAL_WAIT_MS; elsewhere at once. */
  async function lostSignalSettles(): Promise<void> {
    if (!deps.deviceLost || deps.backend?.()?.name !== 'webgpu') return;
    for (let waited = 0; !deps.deviceLost() && waited < LOST_SIGNAL_WAIT_MS; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  function change(live: LiveChange): void {
    // A change sent as the run ended has nothing left to change: the page keeps it for the next run.
    if (busy) kept?.engine?.change(live);
  }

  function discard(): void {
    if (!kept) return;
    kept.engine?.dispose();
    kept.model.dispose();
    kept = null;
    deps.emit({ type: 'trained/discarded' });
  }

  function info(k: KeptModel): TrainedModelInfo {
    return {
      origin: k.origin,
      fileName: k.fileName,
      classNames: k.model.classNames,
      spec: k.model.spec,
      steps: k.engine?.stepsDone ?? 0,
      epochs: k.engine?.currentEpoch ?? 0,
      trainedSegments: k.model.trainedSegments(),
      parameters: k.model.parameterCount(),
      bestEpoch: k.engine?.bestEpoch ?? null,
      restoredEpoch: k.history.keptEpoch ?? null,
    };
  }

  /** The kept model back at its best epoch's weights; false (and the page told why) when there is none. */
  function goBackToBest(k: KeptModel): boolean {
    const best = k.engine?.restoreBestEpoch() ?? null;
    if (!best) {
      deps.emit({ type: 'train/warning', message: 'No epoch of this model was validated, so there is no best epoch to go back to.' });
      return false;
    }
    k.history.keptEpoch = best.epoch;
    return true;
  }

  async function restoreBest(): Promise<void> {
    if (busy) {
      // The run ends at its next step; its end goes back to the best epoch and reports it.
      restoreAfterRun = true;
      if (kept?.engine?.isRunning) kept.engine.stop();
      else stopBeforeFirstStep = true;
      return;
    }
    const k = requireKept();
    if (!goBackToBest(k)) return;
    deps.emit({ type: 'trained/ready', model: info(k) });
    await k.rediagnose?.();
  }

  function requireKept(): KeptModel {
    if (!kept) throw new LabError('model/not-found', 'There is no trained model: train one, or import a model zip.');
    return kept;
  }

  async function start(command: RunCommand): Promise<void> {
    if (busy) throw new LabError('input/invalid', 'A run is already in progress: stop it first.');
    busy = true;
    stopBeforeFirstStep = false;
    restoreAfterRun = false;
    // A check still under way must not land after this run's own findings.
    checkGeneration++;
    try {
      await startRun(command);
    } finally {
      busy = false;
      runHooks = {};
      // A new model that never took a step has nothing worth keeping.
      if (kept?.origin === 'run' && (kept.engine?.stepsDone ?? 0) === 0) discard();
    }
  }

  /**
   * The checks a run makes before its first step, made as soon as a dataset and the model are
   * there (and again when a setting they read changes), so that a doomed run is never started.
   * A run's own checks supersede them.
   */
  async function check(settings: RunSettings): Promise<void> {
    const pretrained = deps.pretrained();
    const dataset = deps.dataset();
    if (busy || !pretrained || !dataset) return;
    const classNames = dataset.index.classNames;
    const { train, validation } = dataset.usable;
    if (train.length === 0 || classNames.length < 2) return;
    const mine = ++checkGeneration;
    const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: settings.sizePx, resize: settings.resize, normalization: settings.normalization };
    const validationSpec = { ...spec, normalization: settings.validationNormalization ?? settings.normalization };
    const images = (entries: typeof train, s: PreprocessSpec) => pooledImages({ pool: deps.pool(), entries, files: dataset.files, spec: s, augment: null });
    const before = await beforeTraining({
      net: pretrained.net,
      labels: pretrained.labels,
      dataset,
      spec,
      validationSpec,
      trainUnaugmented: images(train, spec),
      validationImages: validation.length > 0 ? images(validation, validationSpec) : null,
      settings,
    });
    if (mine !== checkGeneration || busy || deps.dataset() !== dataset) return;
    const trainCounts = classNames.map((_, c) => train.filter((e) => e.classIndex === c).length);
    const findings = runDiagnostics({ ...before, classBalance: { classNames, trainCounts, classWeighting: settings.config.classWeighting } });
    deps.emit({ type: 'diagnostics/updated', stage: 'before-training', sequence: ++diagnosticsSequence, findings });
  }

  async function startRun(command: RunCommand): Promise<void> {
    const lost = deps.deviceLost?.();
    if (lost) throw lost;
    const pretrained = deps.pretrained();
    const dataset = deps.dataset();
    if (!pretrained) throw new LabError('model/not-found', 'The pretrained model is not loaded yet.');
    if (!dataset) throw new LabError('input/invalid', 'Drop a folder of images first.');
    const resume = command.type === 'train/resumeSaved' ? command : null;
    const resumedSegment = resume?.log.runs.at(-1);
    if (resume && (!resumedSegment || resumedSegment.ended)) throw new LabError('input/invalid', 'This saved run has no run in progress to resume: it ended.');
    if (resume) checkSameFiles(resume.log, dataset);
    // A resumed run keeps its settings as they were at the cut, live changes included.
    const settings = resume ? { ...resumedSegment!.settings, config: resume.state.config } : (command as StartCommand).settings;
    const train = dataset.usable.train;
    const validation = dataset.usable.validation;
    if (train.length === 0) throw new LabError('input/invalid', 'The training split has no readable images.');
    const classNames = dataset.index.classNames;
    const numClasses = classNames.length;
    if (numClasses < 2) throw new LabError('input/invalid', 'A classifier needs at least two classes.');
    const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: settings.sizePx, resize: settings.resize, normalization: settings.normalization };
    const validationSpec = { ...spec, normalization: settings.validationNormalization ?? settings.normalization };

    const continues = !resume && (command as StartCommand).continue;
    if (continues) {
      const previous = requireKept();
      if (previous.model.classNames.join('\n') !== classNames.join('\n')) {
        throw new LabError(
          'input/invalid',
          `The kept model knows the classes ${previous.model.classNames.join(', ')}; this dataset has ${classNames.join(', ')}. Train more needs the same classes, in the same order.`,
        );
      }
    } else {
      discard();
      kept = {
        model: new RunModel({ base: pretrained.net, classNames, spec: validationSpec, dropout: settings.config.dropout }),
        origin: 'run',
        fileName: null,
        topology: pretrained.topology,
        engine: null,
        log: resume?.log ?? null,
        logId: resume?.logId ?? null,
        history: resume ? historyOf(resume.log) : { steps: [], epochs: [] },
        importedRun: null,
        rediagnose: null,
      };
    }
    const current = kept!;
    // Trained on from here: its weights are no longer those of an earlier best epoch.
    delete current.history.keptEpoch;
    current.model.spec = validationSpec;
    const engine = prepareEngine(current, settings);
    if (resume) engine.restoreState(resume.state);
    const log = (current.log ??= emptyRunLog(classNames, datasetLog(dataset), deps.backend?.() ?? null));
    const logId = (current.logId ??= newLogId());
    log.backend = deps.backend?.() ?? log.backend;
    log.dataset = datasetLog(dataset);
    let segment: RunSegment;
    if (resume) {
      segment = resumedSegment!;
      segment.resumed = [...(segment.resumed ?? []), { at: date().toISOString(), epoch: resume.state.epoch }];
    } else {
      segment = { settings, firstStep: engine.stepsDone, firstEpoch: engine.currentEpoch, startedAt: date().toISOString(), ended: null };
      log.runs.push(segment);
    }
    // The page keeps the log in its run history: at the start, after each diagnosis (every epoch
    // and the run's end) and when the run ends. A copy goes with each event.
    const keepLog = () => deps.emit({ type: 'history/log', logId, log });
    keepLog();
    const history = current.history;

    let latestConfusion: number[][] | undefined = log.epochs.at(-1)?.validation?.metrics.confusion;
    // The linear probe's cross-validation after a head-only run, with the images it covered: its
    // out-of-fold probabilities check every image's label, training images included.
    let probe: { result: ProbeCrossValidation; ids: string[]; labels: Int32Array } | null = null;
    let labelQuality: DiagnosticsInput['labelQuality'];
    // Filled in before the first step; the rules over the run's history are added as it goes.
    let before: DiagnosticsInput = {};
    // The diagnostics are a help, not a precondition: when they cannot run, the run goes on. One at
    // a time, in the order asked: an epoch's update (started without waiting) must not land after
    // the final one.
    let diagnosing = Promise.resolve();
    const diagnose = (stage: 'before-training' | 'during-training' | 'after-training') =>
      (diagnosing = diagnosing.then(() =>
        diagnoseNow(stage).catch((error: unknown) => deps.emit({ type: 'train/warning', message: `The diagnostics could not run: ${explain(error).message}` })),
      ));
    const diagnoseNow = async (stage: 'before-training' | 'during-training' | 'after-training') => {
      const drift = history.epochs.length > 0 ? await engine.batchNormDrift() : null;
      const trainCounts = classNames.map((_, c) => train.filter((e) => e.classIndex === c).length);
      // The epoch whose weights the model has: the last, unless it went back to the best.
      const keptRecord = history.keptEpoch !== undefined ? history.epochs.find((e) => e.epoch === history.keptEpoch) : history.epochs.at(-1);
      const lastValidation = keptRecord?.validation ?? null;
      const validationAccuracy = lastValidation?.metrics.accuracy;
      const findings = runDiagnostics({
        ...before,
        ...(before.domainGap && validationAccuracy !== undefined ? { domainGap: { ...before.domainGap, validationAccuracy } } : {}),
        classBalance: { classNames, trainCounts, classWeighting: engine.settings.classWeighting, ...(latestConfusion ? { validationConfusion: latestConfusion } : {}) },
        ...(history.steps.length > 0
          ? { training: { numClasses, steps: history.steps, epochs: history.epochs, backboneLrMultiplier: engine.settings.backboneLrMultiplier, ...(history.keptEpoch !== undefined ? { keptEpoch: history.keptEpoch } : {}) } }
          : {}),
        ...(probe
          ? { labelQuality: calibratedOutOfFold(probe.ids, probe.labels, probe.result.probabilities, classNames) }
          : labelQuality
            ? { labelQuality: { ...labelQuality, provisional: stage === 'during-training' } }
            : {}),
        ...(drift ? { batchNormDrift: { blocks: drift, batchNormPolicy: engine.settings.batchNormPolicy } } : {}),
        ...(probe && lastValidation
          ? {
              headVsProbe: {
                runMacroF1: lastValidation.metrics.macroF1,
                runAccuracy: lastValidation.metrics.accuracy,
                validationCount: lastValidation.metrics.count,
                probe: probe.result,
                classNames,
                freezeDepth: engine.settings.freezeDepth,
                epochsTrained: engine.currentEpoch,
                dropout: engine.settings.dropout,
                learningRate: engine.settings.learningRate,
              },
            }
          : {}),
      });
      log.findings = findings;
      deps.emit({ type: 'diagnostics/updated', stage, sequence: ++diagnosticsSequence, findings });
      keepLog();
    };
    runHooks = {
      onStep: (step) => {
        log.steps.push(step);
        history.steps.push(step);
        deps.emit({ type: 'train/stepEnded', step });
      },
      onEpochEnd: (epoch, evaluation) => {
        log.epochs.push(epoch);
        history.epochs.push(epoch);
        latestConfusion = epoch.validation?.metrics.confusion;
        if (evaluation) {
          // Validation images are out of sample; the head is overconfident on them, as the probe
          // is: calibrated by one temperature too (measured: 14 false warnings in 200 epochs of
          // clean stamps6 re-splits without it).
          labelQuality = calibratedOutOfFold(validationImages!.ids, validationImages!.labels, evaluation.probabilities, classNames);
        }
        deps.emit({ type: 'train/epochEnded', epoch });
        // The state to resume from after a reload or a crash: copied now, read while the run goes
        // on, and sent with the log as it stands at this epoch's end (saved first, so that the
        // stored log never lags the state).
        const cannotSave = (error: unknown) => deps.emit({ type: 'train/warning', message: `The run's state could not be saved for resuming: ${explain(error).message}` });
        const logNow = structuredClone(log);
        try {
          const snapshot = engine.snapshotState();
          void snapshot.read().then((state) => deps.emit({ type: 'history/state', logId, state, log: logNow }, stateBuffers(state)), cannotSave);
        } catch (error) {
          cannotSave(error);
        }
        void diagnose('during-training');
      },
      onChange: (record) => {
        log.changes.push(record);
        deps.emit({ type: 'train/changeApplied', change: record });
      },
      onStepFailed: (failure) => {
        if (failure.kind !== 'non-finite-loss') return;
        const lr = history.steps.at(-1)?.learningRate ?? engine.settings.learningRate;
        history.steps.push({ step: failure.step, loss: NaN, learningRate: lr, freezeDepth: engine.settings.freezeDepth });
        deps.emit({ type: 'train/paused', reason: 'non-finite-loss', message: failure.error.message });
        void diagnose('during-training');
      },
      onCacheFull: (stats) =>
        deps.emit({
          type: 'train/warning',
          message: `The feature cache is full (${Math.round(stats.bytes / 1e6)} MB): images past it go through the frozen layers every epoch.`,
        }),
    };
    const files = dataset.files;
    const trainImages = pooledImages({
      pool: deps.pool(),
      entries: train,
      files,
      spec,
      augment: settings.augment ? { seed: settings.config.seed, epochOf: () => engine.currentEpoch } : null,
    });
    const validationImages = validation.length > 0 ? pooledImages({ pool: deps.pool(), entries: validation, files, spec: validationSpec, augment: null }) : null;
    deps.emit({
      type: 'train/started',
      run: {
        classNames,
        trainCount: train.length,
        validationCount: validation.length,
        stepsPerEpoch: Math.ceil(train.length / settings.config.batchSize),
        settings,
        validationPaths: validation.map((e) => e.path),
        validationLabels: validation.map((e) => e.classIndex),
        continued: resume !== null || continues,
      },
    });
    try {
      before = await beforeTraining({ net: pretrained.net, labels: pretrained.labels, dataset, spec, validationSpec, validationImages, trainUnaugmented: pooledImages({ pool: deps.pool(), entries: train, files, spec, augment: null }), settings });
    } catch (error) {
      deps.emit({ type: 'train/warning', message: `The checks before training could not run: ${explain(error).message}` });
    }
    await diagnose('before-training');
    if (stopBeforeFirstStep) {
      segment.ended = { at: date().toISOString(), status: 'stopped' };
      keepLog();
      if (restoreAfterRun && engine.stepsDone > 0) goBackToBest(current);
      restoreAfterRun = false;
      deps.emit({ type: 'train/finished', status: 'stopped', steps: engine.stepsDone });
      if (engine.stepsDone > 0) deps.emit({ type: 'trained/ready', model: info(current) });
      return;
    }
    current.rediagnose = () => diagnose('after-training');
    const summary = await engine.run(trainImages, validationImages, { resume: resume !== null });
    segment.ended = { at: date().toISOString(), status: summary.status };
    keepLog();
    if (restoreAfterRun && summary.status !== 'failed') goBackToBest(current);
    restoreAfterRun = false;
    if (summary.status !== 'failed' && validationImages) {
      probe = await probeHead(engine, trainImages, validationImages, settings).catch((error: unknown) => {
        deps.emit({ type: 'train/warning', message: `The linear probe could not run: ${explain(error).message}` });
        return null;
      });
    }
    await diagnose('after-training');
    // A step can fail on a lost GPU device (a read-back "unmapped before mapping was resolved")
    // before the device's own lost signal arrives: a failed run waits for it a moment.
    if (summary.status === 'failed') await lostSignalSettles();
    const lostNow = deps.deviceLost?.();
    if (summary.status === 'failed') {
      deps.emit({ type: 'train/failed', error: lostNow ? serializeError(lostNow) : (summary.error ?? { code: 'internal', message: 'The run failed.' }) });
    } else {
      deps.emit({ type: 'train/finished', status: summary.status, steps: summary.steps });
    }
    // A failed step changed nothing, so the model stays as its last good step left it; on a lost
    // GPU device it is gone with the device.
    if (lostNow) discard();
    else if (engine.stepsDone > 0) deps.emit({ type: 'trained/ready', model: info(current) });
  }

  /**
   * A cross-validated linear probe on the head's features of every training and validation image
   * (head-only runs: they are cached), with the run's class weights and seed; null when blocks
   * train or the set is too large for the time it takes.
   */
  async function probeHead(engine: TrainingEngine, train: PooledImages, validation: PooledImages, settings: RunSettings) {
    if (train.size + validation.size > MAX_PROBE_IMAGES || train.augmented) return null;
    const [trainFeatures, validationFeatures] = [await engine.headFeatures(train), await engine.headFeatures(validation)];
    if (!trainFeatures || !validationFeatures) return null;
    const features = new Float32Array(trainFeatures.length + validationFeatures.length);
    features.set(trainFeatures);
    features.set(validationFeatures, trainFeatures.length);
    const labels = Int32Array.from([...train.labels, ...validation.labels]);
    const numClasses = engine.model.numClasses;
    const weights = classWeights(classCounts(train.labels, numClasses), engine.settings.classWeighting);
    const result = crossValidateProbe(features, labels, numClasses, { seed: settings.config.seed, classWeights: weights });
    return { result, ids: [...train.ids, ...validation.ids], labels };
  }

  /** The kept model's engine, made on its first run and given this run's settings on the next. */
  function prepareEngine(k: KeptModel, settings: RunSettings): TrainingEngine {
    if (k.engine) {
      k.engine.configure(settings.config);
      return k.engine;
    }
    // The hooks are looked up at each call: the engine outlives the run that made it.
    k.engine = new TrainingEngine({
      model: k.model,
      config: settings.config,
      hooks: {
        onStep: (record) => runHooks.onStep?.(record),
        onEpochEnd: (record, evaluation) => runHooks.onEpochEnd?.(record, evaluation),
        onChange: (record) => runHooks.onChange?.(record),
        onStepFailed: (failure) => runHooks.onStepFailed?.(failure),
        onCacheFull: (stats) => runHooks.onCacheFull?.(stats),
      },
      now,
    });
    return k.engine;
  }

  /** The statistics that exist before the first step: input scaling, split consistency, data, leakage. */
  async function beforeTraining(args: {
    net: SegmentedResNet50;
    labels: string[] | null;
    dataset: OpenDataset;
    spec: PreprocessSpec;
    validationSpec: PreprocessSpec;
    trainUnaugmented: PooledImages;
    validationImages: PooledImages | null;
    settings: RunSettings;
  }): Promise<DiagnosticsInput> {
    const { net, labels, dataset, spec, validationSpec, trainUnaugmented, validationImages, settings } = args;
    const seed = settings.config.seed;
    const trainSample = await sampleOf(trainUnaugmented, STATISTICS_SAMPLE, seed);
    const trainStatistics = inputStatistics(trainSample.pixels, spec.normalization, trainSample.ids.length);
    const currentProbe = await imagenetProbe(net, labels, trainSample.pixels, trainSample.ids, spec.sizePx);
    let caffeProbe = currentProbe;
    if (spec.normalization !== 'caffe') {
      const caffeImages = pooledImages({ pool: deps.pool(), entries: dataset.usable.train, files: dataset.files, spec: { ...spec, normalization: 'caffe' }, augment: null });
      const caffeSample = await sampleOf(caffeImages, PROBE_SAMPLE, seed);
      caffeProbe = await imagenetProbe(net, labels, caffeSample.pixels, caffeSample.ids, spec.sizePx);
    }
    let validationSample: { specHash: string; statistics: InputStatistics } | null = null;
    if (validationImages) {
      const sample = await sampleOf(validationImages, STATISTICS_SAMPLE, seed + 1);
      validationSample = { specHash: preprocessSpecHash(validationSpec), statistics: inputStatistics(sample.pixels, validationSpec.normalization, sample.ids.length) };
    }
    const { profiles, splitLeakage } = datasetInputs(dataset);
    return {
      inputNormalization: { statistics: trainStatistics, currentProbe, caffeProbe },
      ...(validationSample
        ? { splitConsistency: { train: { specHash: preprocessSpecHash(spec), statistics: trainStatistics }, validation: validationSample } }
        : {}),
      domainGap: { images: profiles, caffeProbe, currentFreezeDepth: settings.config.freezeDepth, currentLearningRate: settings.config.learningRate },
      aspectRatio: { images: profiles, resize: spec.resize },
      ...(splitLeakage ? { splitLeakage } : {}),
    };
  }

  async function predict(command: Extract<TrainingCommand, { type: 'trained/predict' }>): Promise<void> {
    for (const { path, image } of command.images) {
      try {
        const { model } = requireKept();
        const started = now();
        const decoded = await deps.decode(image, path);
        const { sizePx } = model.spec;
        const pixels = preprocessImage(decoded, model.spec);
        // With a heat map, one forward pass serves both.
        const explained = command.heatMaps ? await predictWithHeatMap(model, pixels, sizePx, now) : null;
        const probabilities = explained?.probabilities ?? (await model.predict(pixels, sizePx));
        const top = topK(probabilities, Math.min(TOP_CLASSES, model.numClasses)).map(({ index, probability }) => ({ index, label: model.classNames[index]!, probability }));
        const heatMap = explained?.heatMap ?? null;
        const heatMapMs = explained?.heatMapMs ?? null;
        const ms = now() - started - (heatMapMs ?? 0);
        deps.emit(
          { type: 'trained/predicted', prediction: { requestId: command.requestId, path, width: decoded.width, height: decoded.height, top, heatMap, ms, heatMapMs } },
          heatMap ? [heatMap.values.buffer] : [],
        );
      } catch (error) {
        deps.emit({ type: 'trained/predictFailed', requestId: command.requestId, path, error: explain(error) });
      }
    }
  }

  async function exportModel(format: ExportFormat, to?: 'history'): Promise<void> {
    try {
      const k = requireKept();
      const started = now();
      const base = fileStem(k);
      const run = () => (k.log ? runJson(k.log, date()) : k.importedRun);
      let bytes: Uint8Array;
      if (format === 'tfjs') {
        bytes = await exportClassifierZip({ model: k.model, baseTopology: k.topology, runJson: run() });
      } else if (format === 'onnx') {
        bytes = await exportOnnx({ model: k.model, baseTopology: k.topology, runJson: run() ?? null });
      } else if (format === 'pytorch') {
        if (!k.log) throw new LabError('input/invalid', `${k.fileName ?? 'This model'} was imported and has not trained here: train it here first (train.py continues a run it can read).`);
        bytes = await exportPytorchProject({ model: k.model, baseTopology: k.topology, runJson: run() }, await parityImages(k, k.log));
      } else {
        if (!k.log) throw new LabError('input/invalid', `${k.fileName ?? 'This model'} was imported and has not trained here: its own run.json is inside the model zip.`);
        bytes = exportRunZip(k.log, date());
      }
      const fileName = `${base}-${EXPORT_FILE_SUFFIX[format]}`;
      deps.emit({ type: 'trained/exported', file: { format, fileName, bytes, ms: now() - started, logId: k.logId, ...(to ? { to } : {}) } }, [bytes.buffer]);
    } catch (error) {
      deps.emit({ type: 'trained/exportFailed', format, error: explain(error), ...(to ? { to } : {}) });
    }
  }

  /** A few of the run's images (validation first), prepared as the model's spec says, for train.py's parity check. */
  async function parityImages(k: KeptModel, log: RunLog): Promise<ParityImages> {
    const dataset = deps.dataset();
    const listed = new Set([...log.dataset.files.validation, ...log.dataset.files.train].map((file) => file.path));
    const sameClasses = dataset !== null && dataset.index.classNames.join('\n') === k.model.classNames.join('\n');
    const candidates = sameClasses ? [...dataset.usable.validation, ...dataset.usable.train].filter((entry) => listed.has(entry.path)) : [];
    if (!dataset || candidates.length === 0) {
      throw new LabError('input/invalid', `Open the folder this model trained on (${log.dataset.rootName ?? 'its images'}) again: the PyTorch project holds the model's outputs on a few of its images, which train.py checks it reproduces.`);
    }
    // Round the classes, so that every class is among them when there are few enough.
    const byClass = k.model.classNames.map((_, c) => candidates.filter((entry) => entry.classIndex === c));
    const entries = Array.from({ length: Math.max(...byClass.map((list) => list.length)) }, (_, i) => byClass.flatMap((list) => (list[i] ? [list[i]] : []))).flat().slice(0, PARITY_IMAGES);
    const images = pooledImages({ pool: deps.pool(), entries, files: dataset.files, spec: k.model.spec, augment: null });
    return { paths: entries.map((e) => e.path), labels: entries.map((e) => e.classIndex), inputs: await images.load(entries.map((_, i) => i)) };
  }

  async function importModel(file: File): Promise<void> {
    try {
      if (busy) throw new LabError('input/invalid', 'A run is in progress: stop it before importing a model.');
      await deps.whenReady?.();
      const lost = deps.deviceLost?.();
      if (lost) throw lost;
      const imported = await importClassifierZip(new Uint8Array(await file.arrayBuffer()), file.name);
      discard();
      kept = {
        model: imported.model,
        origin: 'imported',
        fileName: file.name,
        topology: imported.topology,
        engine: null,
        log: null,
        logId: null,
        history: { steps: [], epochs: [] },
        importedRun: imported.runJson,
        rediagnose: null,
      };
      deps.emit({ type: 'trained/ready', model: info(kept) });
    } catch (error) {
      deps.emit({ type: 'trained/importFailed', fileName: file.name, error: explain(error) });
    }
  }

  return {
    discard,
    async handle(command) {
      try {
        switch (command.type) {
          case 'train/start':
          case 'train/resumeSaved':
            await start(command);
            break;
          case 'train/check':
            await check(command.settings).catch((error: unknown) => deps.emit({ type: 'train/warning', message: `The checks before training could not run: ${explain(error).message}` }));
            break;
          case 'train/pause':
            if (!busy || !kept?.engine) break;
            kept.engine.pause();
            deps.emit({ type: 'train/paused', reason: 'user' });
            break;
          case 'train/resume':
            if (!busy || !kept?.engine) break;
            kept.engine.resume();
            deps.emit({ type: 'train/resumed' });
            break;
          case 'train/stop':
            if (!busy) break;
            if (kept?.engine?.isRunning) kept.engine.stop();
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
          case 'trained/discard':
            // Not a failure of the run in progress: the page is told, and the run goes on.
            if (busy) deps.emit({ type: 'train/warning', message: 'The model is training: stop the run before discarding it.' });
            else discard();
            break;
          case 'trained/import':
            await importModel(command.file);
            break;
          case 'trained/predict':
            await predict(command);
            break;
          case 'trained/export':
            await exportModel(command.format, command.to);
            break;
          case 'trained/restoreBest':
            await restoreBest();
            break;
        }
      } catch (error) {
        deps.emit({ type: 'train/failed', error: explain(error) });
      }
    },
  };
}

type StartCommand = Extract<TrainingCommand, { type: 'train/start' }>;
type ResumeCommand = Extract<TrainingCommand, { type: 'train/resumeSaved' }>;
type RunCommand = StartCommand | ResumeCommand;

/** The arrays of a training state, to transfer rather than copy. */
function stateBuffers(state: TrainingState): ArrayBuffer[] {
  return trainingStateArrays(state).map((a) => a.buffer as ArrayBuffer);
}

/** What the diagnostics read of a run's records so far (a resumed run's, from its log). */
function historyOf(log: RunLog): HistoryRecorder {
  return { steps: log.steps.map((s) => ({ step: s.step, loss: s.loss, learningRate: s.learningRate, freezeDepth: s.freezeDepth })), epochs: [...log.epochs] };
}

/**
 * A run resumes only on the files it trained on, split as they were: the order of each split is
 * what its shuffles and its per-image records index.
 */
function checkSameFiles(log: RunLog, dataset: OpenDataset): void {
  const open = datasetLog(dataset).files;
  for (const split of ['train', 'validation', 'test'] as const) {
    const saved = log.dataset.files[split];
    const now = open[split];
    // Size and content too, where both sides have them (a run.json of an older version may not).
    const differs = (f: SplitFile, g: SplitFile | undefined) =>
      !g || f.path !== g.path || f.className !== g.className || (f.size !== undefined && g.size !== undefined && f.size !== g.size) || (f.contentHash !== undefined && g.contentHash !== undefined && f.contentHash !== g.contentHash);
    const i = saved.findIndex((f, j) => differs(f, now[j]));
    if (i < 0 && saved.length === now.length) continue;
    const changed = (f: SplitFile, g: SplitFile) => (f.path === g.path && f.className === g.className ? 'another picture now' : `now ${g.path} (${g.className})`);
    const what =
      i >= 0
        ? `${saved[i]!.path} (${saved[i]!.className}) is ${now[i] ? changed(saved[i]!, now[i]!) : 'not there'}`
        : `it had ${saved.length} ${split} images, the open folder has ${now.length}`;
    throw new LabError('input/invalid', `The open folder is not the one this run trained on (${split} split: ${what}). Open ${log.dataset.rootName ?? 'the same folder'} as it was, with the same split, to resume.`);
  }
}

/** A run log's name in the page's history: random, so that two tabs never share one. */
function newLogId(): string {
  return globalThis.crypto.randomUUID();
}

/** What run.json records of the dataset: where the splits came from and their exact files. */
function datasetLog(dataset: OpenDataset): RunLog['dataset'] {
  const { classNames } = dataset.index;
  const files = (split: 'train' | 'validation' | 'test') =>
    dataset.usable[split].map((e) => {
      const contentHash = dataset.profiles.get(e.path)?.contentHash;
      return { path: e.path, className: classNames[e.classIndex]!, size: e.size, ...(contentHash ? { contentHash } : {}) };
    });
  return {
    rootName: dataset.index.rootName,
    splitSource: dataset.index.splitSource,
    splitOptions: dataset.index.splitOptions,
    files: { train: files('train'), validation: files('validation'), test: files('test') },
  };
}

const EXPORT_FILE_SUFFIX: Record<ExportFormat, string> = { tfjs: 'tfjs-model.zip', onnx: 'model.onnx', pytorch: 'pytorch.zip', run: 'run.zip' };

/** A file name from the dataset's folder or the imported zip's name. */
function fileStem(k: KeptModel): string {
  const name = k.log?.dataset.rootName ?? k.fileName?.replace(/\.zip$/i, '') ?? 'finetune-lab';
  return name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'finetune-lab';
}
