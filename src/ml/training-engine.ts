// The fine-tuning loop: a custom loop over an explicit variable list, so that the freeze depth,
// class weighting, learning rate and BatchNorm policy can change between two steps without
// rebuilding anything, frozen segments stay in inference mode (tfjs's BatchNormalization reads
// only the `training` flag, so `model.fit` would drift a "frozen" backbone), and the frozen
// prefix's output is computed once per image and cached. The loop trains a RunModel it does not
// own: the model stays when the loop is disposed, and a later loop (or this one, with new
// settings) trains it more. Progress leaves through plain hooks.

import { classCounts, classWeights } from '../core/class-weights';
import { LabError, serializeError, type SerializedError } from '../core/errors';
import type { LabeledImages } from '../core/labeled-images';
import { learningRateAt } from '../core/lr-schedule';
import { addToConfusion, emptyConfusion, metricsFromConfusion } from '../core/metrics';
import { createPrng, shuffledIndices } from '../core/prng';
import type { BatchNormDrift, ChangeRecord, EpochRecord, LiveChange, StepRecord } from '../core/run-records';
import { validateFreezeDepth, validateTrainingConfig, type TrainingConfig } from '../core/training-config';
import { registerBatchNormGradient } from './batchnorm-gradient';
import { batchNormDrift, readBatchNormStatistics, type SegmentStatistics } from './batchnorm-statistics';
import { evaluate, type Evaluation } from './evaluation';
import type { FeatureCacheStats } from './feature-cache';
import { ModelInputs } from './model-inputs';
import { KeyedOptimizer } from './optimizer';
import { registerReluGradient } from './relu-gradient';
import type { RunModel } from './run-model';
import { activationBytesPerImage } from './segments';
import { trainableParamCount, trainableSegments } from './task-model';
import type { TrainingState } from '../core/run-records';
import { restoreTrainingState, snapshotTrainingState } from './training-state';
import { trainStep } from './training-step';
import { WeightsCheckpoint } from './weights-checkpoint';

export type { LabeledImages, LiveChange };

export interface StepFailure {
  step: number;
  /** 'non-finite-loss': the update was skipped and the run paused; 'error': the run ended. */
  kind: 'non-finite-loss' | 'error';
  error: SerializedError;
}

export interface TrainingHooks {
  onStep?(record: StepRecord): void;
  /** With the validation split's per-image probabilities, when there is one. */
  onEpochEnd?(record: EpochRecord, validation: Evaluation | null): void;
  onChange?(record: ChangeRecord): void;
  onStepFailed?(failure: StepFailure): void;
  onCacheFull?(stats: FeatureCacheStats): void;
  /** Awaited after every step so the host can process messages. Default: a macrotask (setTimeout 0). */
  onYield?(): Promise<void>;
}

export interface RunSummary {
  status: 'completed' | 'stopped' | 'failed';
  /** Steps and epochs of the model's whole training so far. */
  steps: number;
  epochs: number;
  error?: SerializedError;
}

export interface EngineOptions {
  /** The model to train; the caller owns it (dispose() leaves it alone). */
  model: RunModel;
  config: TrainingConfig;
  hooks?: TrainingHooks;
  /** Clock for step timings. Default: performance.now. */
  now?: () => number;
}

/**
 * Layer outputs one forward/backward pass may keep. Measured on WASM (4 GB): every block training
 * at 224 px, batch 8 (1.07 GB of layer outputs) ran out of memory; batch 4 (0.53 GB) trains.
 */
const ACTIVATION_BUDGET_BYTES = 600e6;
const defaultYield = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class TrainingEngine {
  readonly model: RunModel;
  private config: TrainingConfig;
  private readonly hooks: TrainingHooks;
  private readonly now: () => number;
  private optimizer: KeyedOptimizer;
  private readonly inputs: ModelInputs;
  private pending: LiveChange[] = [];
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private stopRequested = false;
  private running = false;
  private step = 0;
  private epoch = 0;
  /** Where the run in progress (or the last one) began: its schedule and shuffles count from there. */
  private runStart = { step: 0, epoch: 0 };
  /** True while onEpochEnd runs: the one moment of a run whose state can be saved. */
  private atEpochEnd = false;
  private checkpoint: WeightsCheckpoint | null = null;
  /** The weights at the end of the epoch with the lowest validation loss so far: early stopping's. */
  private best: { checkpoint: WeightsCheckpoint; epoch: number; loss: number } | null = null;
  /** BatchNorm moving statistics per segment at the run's start, and the deepest freeze depth since. */
  private batchNormStart: SegmentStatistics[] = [];
  private deepestDepth = 0;

  constructor(options: EngineOptions) {
    this.config = { ...validateTrainingConfig(options.config) };
    registerBatchNormGradient();
    registerReluGradient();
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? (() => performance.now());
    this.model = options.model;
    this.model.dropout = this.config.dropout;
    this.optimizer = new KeyedOptimizer({ kind: this.config.optimizer, momentum: this.config.momentum });
    this.inputs = new ModelInputs({
      cacheLimitBytes: this.config.featureCacheLimitBytes,
      chunkSize: () => this.config.microBatchSize,
      onCacheFull: (stats) => this.hooks.onCacheFull?.(stats),
    });
  }

  get settings(): Readonly<TrainingConfig> {
    return this.config;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Steps trained so far, over every run of this engine. */
  get stepsDone(): number {
    return this.step;
  }

  /** Epochs trained so far; also the (0-based) epoch being trained, e.g. to draw a new augmentation for each. */
  get currentEpoch(): number {
    return this.epoch;
  }

  trainableParamCount(k = this.config.freezeDepth): number {
    return trainableParamCount(this.model, k);
  }

  cacheStats(): FeatureCacheStats {
    return this.inputs.stats();
  }

  /**
   * New settings for the next run ("train more"): the weights, the optimizer's moments and the
   * step count carry on, so the schedule goes on from where it was. A different optimizer starts
   * with no moments.
   */
  configure(config: TrainingConfig): void {
    if (this.running) throw new LabError('input/invalid', 'The settings of a run in progress change one at a time (freeze depth, class weighting, learning rate, BatchNorm policy).');
    const next = { ...validateTrainingConfig(config) };
    if (next.optimizer !== this.config.optimizer || next.momentum !== this.config.momentum) {
      this.optimizer.dispose();
      this.optimizer = new KeyedOptimizer({ kind: next.optimizer, momentum: next.momentum });
    }
    this.config = next;
    this.model.dropout = next.dropout;
  }

  /** Queues a change for the next step (applied at once when no run is in progress). */
  change(change: LiveChange): void {
    if (change.kind === 'freezeDepth') validateFreezeDepth(change.value);
    if (change.kind === 'learningRate' && !(change.value > 0)) throw new LabError('input/invalid', `Learning rate must be positive, not ${change.value}.`);
    // Dragging a slider sends many values: only the last of each kind applies at the next step.
    if (this.running) this.pending = [...this.pending.filter((p) => p.kind !== change.kind), change];
    else this.applyChange(change);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeWaiters.splice(0).forEach((wake) => wake());
  }

  /** Ends the run after the current step. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /**
   * Trains for config.epochs more epochs over `train`, evaluating `validation` after each. With
   * `resume`, the run restored by restoreState goes on instead: to the end it planned, with the
   * batches and learning rates it would have had.
   */
  async run(train: LabeledImages, validation: LabeledImages | null, { resume = false } = {}): Promise<RunSummary> {
    if (this.running) throw new LabError('input/invalid', 'A run is already in progress.');
    checkSplit(train, this.model.numClasses, 'training');
    if (validation) checkSplit(validation, this.model.numClasses, 'validation');
    this.running = true;
    this.stopRequested = false;
    if (!resume) this.runStart = { step: this.step, epoch: this.epoch };
    const random = createPrng(this.config.seed + this.runStart.step);
    // The shuffles of the epochs the run already trained, drawn again to reach this epoch's.
    for (let e = this.runStart.epoch; e < this.epoch; e++) shuffledIndices(train.size, random);
    const counts = classCounts(train.labels, this.model.numClasses);
    const batchesPerEpoch = Math.ceil(train.size / this.config.batchSize);
    const totalSteps = this.runStart.step + batchesPerEpoch * this.config.epochs;
    const lastEpoch = this.runStart.epoch + this.config.epochs;
    const summary = (status: RunSummary['status'], error?: SerializedError): RunSummary => ({ status, steps: this.step, epochs: this.epoch, ...(error ? { error } : {}) });
    this.takeCheckpoint();
    this.batchNormStart = await readBatchNormStatistics(this.model.allSegments());
    this.deepestDepth = this.config.freezeDepth;
    try {
      for (; this.epoch < lastEpoch; this.epoch++) {
        const epochStart = this.now();
        const order = shuffledIndices(train.size, random);
        const confusion = emptyConfusion(this.model.numClasses);
        let lossSum = 0;
        let seen = 0;
        for (let start = 0; start < train.size; start += this.config.batchSize) {
          await this.waitWhilePaused();
          if (this.stopRequested) return summary('stopped');
          this.applyPending();
          const indices = order.slice(start, start + this.config.batchSize);
          const outcome = await this.trainOneStep(train, indices, classWeights(counts, this.config.classWeighting), totalSteps);
          if (outcome.kind === 'failed') return summary('failed', outcome.error);
          if (outcome.kind === 'skipped') {
            start -= this.config.batchSize; // the paused batch is retried after resume
            continue;
          }
          addToConfusion(confusion, indices.map((i) => train.labels[i]!), outcome.predicted);
          lossSum += outcome.unweightedLoss * indices.length;
          seen += indices.length;
          await (this.hooks.onYield ?? defaultYield)();
        }
        this.takeCheckpoint();
        const validationReport = validation ? await this.evaluate(validation) : null;
        if (validationReport && Number.isFinite(validationReport.loss) && !(validationReport.loss >= (this.best?.loss ?? Infinity))) {
          this.best?.checkpoint.dispose();
          this.best = { checkpoint: WeightsCheckpoint.take(this.model, this.step), epoch: this.epoch, loss: validationReport.loss };
        }
        this.atEpochEnd = true;
        this.hooks.onEpochEnd?.(
          {
            epoch: this.epoch,
            train: { loss: lossSum / Math.max(1, seen), metrics: metricsFromConfusion(confusion) },
            validation: validationReport && {
              loss: validationReport.loss,
              metrics: validationReport.metrics,
              predictions: validationReport.predictions,
              losses: validationReport.losses,
              confidences: validationReport.confidences,
            },
            cache: { entries: this.inputs.stats().entries, bytes: this.inputs.stats().bytes, full: this.inputs.stats().full },
            ms: this.now() - epochStart,
          },
          validationReport,
        );
        this.atEpochEnd = false;
      }
      return summary('completed');
    } catch (error) {
      return summary('failed', serializeError(error));
    } finally {
      this.running = false;
      this.atEpochEnd = false;
      this.applyPending();
    }
  }

  /** Loss, metrics and probabilities of a split in inference mode at the current freeze depth. */
  evaluate(set: LabeledImages): Promise<Evaluation> {
    return evaluate(this.model, this.inputs, set, this.config.freezeDepth);
  }

  /**
   * The pooled features [n, 2048] the head reads, for every image of `set`, when only the head
   * trains: they are in the cache then, so this costs no forward pass. null otherwise (or during
   * a run): a linear probe on them is the baseline the diagnostics compare the head with.
   */
  async headFeatures(set: LabeledImages): Promise<Float32Array | null> {
    if (this.running || this.config.freezeDepth !== 0) return null;
    const features = await this.inputs.for(this.model, set, Array.from({ length: set.size }, (_, i) => i), 0); // [n, 2048]
    try {
      return (await features.data()) as Float32Array;
    } finally {
      features.dispose();
    }
  }

  /** The (0-based) epoch with the lowest validation loss so far, over every run of this engine. */
  get bestEpoch(): { epoch: number; loss: number } | null {
    return this.best && { epoch: this.best.epoch, loss: this.best.loss };
  }

  /**
   * Early stopping after the fact: the model goes back to its weights at the end of the best
   * epoch. The step and epoch counts stay (the charts go on from them); the optimizer's moments,
   * which belong to the later weights, start over, and cached features of blocks that trained
   * since are dropped.
   */
  restoreBestEpoch(): { epoch: number; loss: number } | null {
    if (this.running) throw new LabError('input/invalid', 'Stop the run before going back to its best epoch.');
    if (!this.best) return null;
    this.best.checkpoint.restore(this.model);
    this.optimizer.dispose();
    this.inputs.clear();
    return this.bestEpoch;
  }

  /**
   * The training state now, for the run history: copies taken at once, read later (the run goes
   * on meanwhile). Taken at an epoch's end, a resumed run goes on from it as the run would have.
   */
  snapshotState(): { read(): Promise<TrainingState>; dispose(): void } {
    if (this.running && !this.atEpochEnd) throw new LabError('input/invalid', 'A run in progress can be saved only at the end of an epoch (from onEpochEnd).');
    // In onEpochEnd the epoch just trained is still the current one.
    const epoch = this.atEpochEnd ? this.epoch + 1 : this.epoch;
    return snapshotTrainingState(this.model, this.optimizer, { step: this.step, epoch, config: this.config, runStart: this.runStart });
  }

  /**
   * Back to a saved state (this engine's model fresh from the network it trained from, with this
   * state's config): weights, moments, step and epoch counts; then run(…, { resume: true }).
   */
  restoreState(state: TrainingState): void {
    if (this.running) throw new LabError('input/invalid', 'Stop the run before restoring a saved one.');
    if (state.optimizer.kind !== this.config.optimizer) throw new LabError('input/invalid', `The saved run used ${state.optimizer.kind}; this engine is set up for ${this.config.optimizer}.`);
    restoreTrainingState(this.model, this.optimizer, state);
    this.step = state.step;
    this.epoch = state.epoch;
    this.runStart = { ...state.runStart };
    this.inputs.clear();
  }

  /** Frees the optimizer's state, the checkpoints and the cache; the model stays with its owner. */
  dispose(): void {
    this.checkpoint?.dispose();
    this.checkpoint = null;
    this.best?.checkpoint.dispose();
    this.best = null;
    this.optimizer.dispose();
    this.inputs.clear();
  }

  /**
   * How far each segment's BatchNorm statistics moved since the run started: exactly 0 for every
   * segment that stayed frozen (they run in inference mode), the evidence the diagnostics show.
   */
  async batchNormDrift(): Promise<BatchNormDrift[]> {
    const now = await readBatchNormStatistics(this.model.allSegments());
    return batchNormDrift(this.batchNormStart, now, new Set(trainableSegments(this.model, this.deepestDepth).map((s) => s.name)));
  }

  private takeCheckpoint(): void {
    this.checkpoint?.dispose();
    this.checkpoint = WeightsCheckpoint.take(this.model, this.step);
  }

  /** One step with its bookkeeping: the record, a rollback and pause on a non-finite loss, the failure report. */
  private async trainOneStep(
    set: LabeledImages,
    indices: number[],
    weights: number[],
    totalSteps: number,
  ): Promise<{ kind: 'skipped' } | { kind: 'failed'; error: SerializedError } | { kind: 'trained'; predicted: Int32Array; unweightedLoss: number }> {
    const started = this.now();
    const k = this.config.freezeDepth;
    const step = this.step;
    this.deepestDepth = Math.max(this.deepestDepth, k);
    const learningRate = learningRateAt(step, { ...this.config, totalSteps });
    try {
      const outcome = await trainStep({
        model: this.model,
        inputs: this.inputs,
        optimizer: this.optimizer,
        set,
        indices,
        classWeights: weights,
        freezeDepth: k,
        learningRate,
        backboneLrMultiplier: this.config.backboneLrMultiplier,
        batchStatistics: this.config.batchNormPolicy === 'train',
        microBatch: this.microBatchSize(k, set.sizePx, indices.length),
        dropoutSeed: this.config.seed * 1_000_003 + step * 1_009,
      });
      if (outcome.kind === 'non-finite') {
        // The weights that gave this loss came from an earlier update: go back to the last good state.
        const goodStep = this.rollBack();
        this.paused = true;
        this.hooks.onStepFailed?.({
          step,
          kind: 'non-finite-loss',
          error: {
            code: 'internal',
            message: `The loss became ${outcome.loss} at step ${step} (learning rate ${learningRate.toExponential(1)}): the weights went back to where they were at step ${goodStep} and training paused. Lower the learning rate, then resume.`,
          },
        });
        return { kind: 'skipped' };
      }
      this.step += 1;
      this.hooks.onStep?.({
        step,
        epoch: this.epoch,
        loss: outcome.loss,
        batchSize: indices.length,
        learningRate,
        freezeDepth: k,
        trainableParams: this.trainableParamCount(k),
        classWeights: weights,
        ms: this.now() - started,
      });
      return outcome;
    } catch (error) {
      const failure = serializeError(error);
      this.hooks.onStepFailed?.({ step, kind: 'error', error: failure });
      return { kind: 'failed', error: failure };
    }
  }

  /** Back to the checkpoint; segments first trained after it run the shared weights again. */
  private rollBack(): number {
    const checkpoint = this.checkpoint!;
    checkpoint.restore(this.model);
    // Moments of weights that blew up would blow them up again; features of a frozen block that
    // trained since the checkpoint are stale.
    this.optimizer.dispose();
    this.inputs.clear();
    return checkpoint.step;
  }

  /**
   * Images per forward/backward pass: the whole batch when only the head trains (a dense layer on
   * cached features), else as many as the trainable segments' layer outputs fit in the budget
   * (4 at 224 px with every block, the whole batch when only res5 trains), unless set.
   */
  private microBatchSize(k: number, sizePx: number, batch: number): number {
    if (k === 0) return batch;
    if (this.config.microBatchSize > 0) return Math.min(batch, this.config.microBatchSize);
    const perImage = activationBytesPerImage(trainableSegments(this.model, k), sizePx);
    return Math.max(1, Math.min(batch, Math.floor(ACTIVATION_BUDGET_BYTES / perImage)));
  }

  private applyPending(): void {
    for (const change of this.pending.splice(0)) this.applyChange(change);
  }

  private applyChange(change: LiveChange): void {
    switch (change.kind) {
      case 'freezeDepth':
        this.config.freezeDepth = change.value;
        break;
      case 'classWeighting':
        this.config.classWeighting = change.value;
        break;
      case 'learningRate':
        this.config.learningRate = change.value;
        break;
      case 'batchNormPolicy':
        this.config.batchNormPolicy = change.value;
        break;
    }
    this.hooks.onChange?.({ step: this.step, change, trainableParams: this.trainableParamCount() });
  }

  private async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.stopRequested) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }
}

function checkSplit(set: LabeledImages, numClasses: number, name: string): void {
  if (set.size === 0) throw new LabError('input/invalid', `The ${name} split has no images.`);
  if (set.labels.length !== set.size || set.ids.length !== set.size) {
    throw new LabError('input/invalid', `The ${name} split has ${set.size} images but ${set.labels.length} labels and ${set.ids.length} ids.`);
  }
  const bad = set.labels.find((label) => label < 0 || label >= numClasses);
  if (bad !== undefined) throw new LabError('input/invalid', `The ${name} split has label ${bad}, outside 0..${numClasses - 1}.`);
}
