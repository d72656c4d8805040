// The fine-tuning loop: a custom loop over an explicit variable list, so that the freeze depth,
// class weighting, learning rate and BatchNorm policy can change between two steps without
// rebuilding anything, frozen segments stay in inference mode (tfjs's BatchNormalization reads
// only the `training` flag, so `model.fit` would drift a "frozen" backbone), and the frozen
// prefix's output is computed once per image and cached. Progress leaves through plain hooks.

import * as tf from '@tensorflow/tfjs';
import { classCounts, classWeights, type ClassWeighting } from '../core/class-weights';
import { LabError, serializeError, type SerializedError } from '../core/errors';
import type { LabeledImages } from '../core/labeled-images';
import { learningRateAt } from '../core/lr-schedule';
import { addToConfusion, emptyConfusion, metricsFromConfusion, type ClassificationMetrics } from '../core/metrics';
import { createPrng, shuffledIndices } from '../core/prng';
import {
  validateFreezeDepth,
  validateTrainingConfig,
  type BatchNormPolicy,
  type TrainingConfig,
} from '../core/training-config';
import { FeatureCache, type FeatureCacheStats } from './feature-cache';
import { crossEntropies, weightedMean } from './losses';
import { KeyedOptimizer } from './optimizer';
import { registerBatchNormGradient } from './batchnorm-gradient';
import { activationBytesPerImage, runSegment, runSegments, runTrainableSegment, type SegmentedResNet50 } from './segments';
import {
  createTaskModel,
  disposeTaskModel,
  frozenPrefix,
  headLogits,
  trainableParamCount,
  trainableSegments,
  trainableVariables,
  type TaskModel,
} from './task-model';

export type { LabeledImages };

/** A setting that can change while a run trains; it applies at the next step. */
export type LiveChange =
  | { kind: 'freezeDepth'; value: number }
  | { kind: 'classWeighting'; value: ClassWeighting }
  | { kind: 'learningRate'; value: number }
  | { kind: 'batchNormPolicy'; value: BatchNormPolicy };

export interface StepReport {
  /** 0-based over the whole run. */
  step: number;
  epoch: number;
  /** Sample-weighted mean cross-entropy of the batch (what the optimizer minimised). */
  loss: number;
  batchSize: number;
  /** The head's learning rate at this step (the backbone's is × backboneLrMultiplier). */
  learningRate: number;
  freezeDepth: number;
  trainableParams: number;
  /** The class weights of this step's loss. */
  classWeights: number[];
  ms: number;
}

export interface SplitReport {
  /** Mean unweighted cross-entropy. */
  loss: number;
  metrics: ClassificationMetrics;
  /** Evaluation only: the predicted class of every image of the split, in its order. */
  predictions?: Int32Array;
  /** Evaluation only: class probabilities, [images, C] row-major. */
  probabilities?: Float32Array;
}

export interface EpochReport {
  epoch: number;
  /** Running figures of the epoch's training steps (dropout and BN policy as trained). */
  train: SplitReport;
  /** The validation split in inference mode, or null without one. */
  validation: SplitReport | null;
  cache: FeatureCacheStats;
  ms: number;
}

export interface ChangeReport {
  /** The first step that trains with the change. */
  step: number;
  change: LiveChange;
  trainableParams: number;
}

export interface StepFailure {
  step: number;
  /** 'non-finite-loss': the update was skipped and the run paused; 'error': the run ended. */
  kind: 'non-finite-loss' | 'error';
  error: SerializedError;
}

export interface TrainingHooks {
  onStep?(report: StepReport): void;
  onEpochEnd?(report: EpochReport): void;
  onChange?(report: ChangeReport): void;
  onStepFailed?(failure: StepFailure): void;
  onCacheFull?(stats: FeatureCacheStats): void;
  /** Awaited after every step so the host can process messages. Default: a macrotask (setTimeout 0). */
  onYield?(): Promise<void>;
}

/** How far one segment's BatchNorm moving statistics moved since the run started. */
export interface BatchNormDrift {
  /** 'stem', 'res2a' … 'res5c'. */
  name: string;
  /** Never trainable during the run. */
  frozen: boolean;
  /** ‖moving mean now − at the start‖₂ / ‖at the start‖₂ over the segment's BatchNorm layers. */
  meanRelativeChange: number;
  varianceRelativeChange: number;
}

export interface RunSummary {
  status: 'completed' | 'stopped' | 'failed';
  steps: number;
  epochs: number;
  error?: SerializedError;
}

export interface EngineOptions {
  pretrained: SegmentedResNet50;
  numClasses: number;
  config: TrainingConfig;
  hooks?: TrainingHooks;
  /** Clock for step timings. Default: performance.now. */
  now?: () => number;
}

const EVAL_BATCH = 32;
/**
 * Layer outputs one forward/backward pass may keep. Measured on WASM (4 GB): every block training
 * at 224 px, batch 8 (1.07 GB of layer outputs) ran out of memory; batch 4 (0.53 GB) trains.
 */
const ACTIVATION_BUDGET_BYTES = 600e6;
const defaultYield = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class TrainingEngine {
  readonly model: TaskModel;
  private config: TrainingConfig;
  private readonly hooks: TrainingHooks;
  private readonly now: () => number;
  private readonly optimizer: KeyedOptimizer;
  private readonly cache: FeatureCache;
  private pending: LiveChange[] = [];
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private stopRequested = false;
  private running = false;
  private step = 0;
  private cacheFullReported = false;
  private lastError: SerializedError | null = null;
  private epochNow = 0;
  /** Pretrained values of every backbone weight this engine may change, restored by dispose(). */
  private readonly originals = new Map<tf.Variable, tf.Tensor>();
  /** The last state known to be good (run start, every epoch end): what a non-finite loss rolls back to. */
  private checkpoint: { step: number; values: Map<tf.Variable, tf.Tensor> } | null = null;
  /** BatchNorm moving statistics per segment at the run's start, and the deepest freeze depth since. */
  private batchNormStart: { name: string; means: Float32Array; variances: Float32Array }[] = [];
  private deepestDepth = 0;

  constructor(options: EngineOptions) {
    this.config = { ...validateTrainingConfig(options.config) };
    registerBatchNormGradient();
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? (() => performance.now());
    this.model = createTaskModel(options.pretrained, options.numClasses, { dropout: this.config.dropout });
    this.optimizer = new KeyedOptimizer({ kind: this.config.optimizer, momentum: this.config.momentum });
    this.cache = new FeatureCache(this.config.featureCacheLimitBytes);
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

  /** The epoch being trained (0-based), e.g. to draw a new augmentation for each. */
  get currentEpoch(): number {
    return this.epochNow;
  }

  trainableParamCount(k = this.config.freezeDepth): number {
    return trainableParamCount(this.model, k);
  }

  cacheStats(): FeatureCacheStats {
    return this.cache.stats();
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

  /** Trains for config.epochs over `train`, evaluating `validation` after each epoch. */
  async run(train: LabeledImages, validation: LabeledImages | null): Promise<RunSummary> {
    if (this.running) throw new LabError('input/invalid', 'A run is already in progress.');
    checkSplit(train, this.model.numClasses, 'training');
    if (validation) checkSplit(validation, this.model.numClasses, 'validation');
    this.running = true;
    this.stopRequested = false;
    const random = createPrng(this.config.seed + this.step);
    const counts = classCounts(train.labels, this.model.numClasses);
    const batchesPerEpoch = Math.ceil(train.size / this.config.batchSize);
    const totalSteps = this.step + batchesPerEpoch * this.config.epochs;
    let epoch = 0;
    this.protectPretrained(this.config.freezeDepth);
    this.takeCheckpoint();
    this.batchNormStart = await this.batchNormStatistics();
    this.deepestDepth = this.config.freezeDepth;
    try {
      for (; epoch < this.config.epochs; epoch++) {
        this.epochNow = epoch;
        const epochStart = this.now();
        const order = shuffledIndices(train.size, random);
        const confusion = emptyConfusion(this.model.numClasses);
        let lossSum = 0;
        let seen = 0;
        for (let start = 0; start < train.size; start += this.config.batchSize) {
          await this.waitWhilePaused();
          if (this.stopRequested) return { status: 'stopped', steps: this.step, epochs: epoch };
          this.applyPending();
          const indices = order.slice(start, start + this.config.batchSize);
          const weights = classWeights(counts, this.config.classWeighting);
          const outcome = await this.trainStep(train, indices, weights, totalSteps, epoch);
          if (outcome === 'failed') return { status: 'failed', steps: this.step, epochs: epoch, error: this.lastError! };
          if (outcome === 'skipped') {
            start -= this.config.batchSize; // the paused batch is retried after resume
            continue;
          }
          const actual = indices.map((i) => train.labels[i]!);
          addToConfusion(confusion, actual, outcome.predicted);
          lossSum += outcome.unweightedLoss * indices.length;
          seen += indices.length;
          await (this.hooks.onYield ?? defaultYield)();
        }
        this.takeCheckpoint();
        const validationReport = validation ? await this.evaluate(validation) : null;
        this.hooks.onEpochEnd?.({
          epoch,
          train: { loss: lossSum / Math.max(1, seen), metrics: metricsFromConfusion(confusion) },
          validation: validationReport,
          cache: this.cache.stats(),
          ms: this.now() - epochStart,
        });
      }
      return { status: 'completed', steps: this.step, epochs: epoch };
    } catch (error) {
      return { status: 'failed', steps: this.step, epochs: epoch, error: serializeError(error) };
    } finally {
      this.running = false;
      this.applyPending();
    }
  }

  /** Loss and metrics of a split in inference mode (no dropout, BatchNorm on moving statistics). */
  async evaluate(set: LabeledImages): Promise<SplitReport> {
    const k = this.config.freezeDepth;
    const confusion = emptyConfusion(this.model.numClasses);
    const predictions = new Int32Array(set.size);
    const probabilities = new Float32Array(set.size * this.model.numClasses);
    let lossSum = 0;
    for (let start = 0; start < set.size; start += EVAL_BATCH) {
      const indices = Array.from({ length: Math.min(EVAL_BATCH, set.size - start) }, (_, i) => start + i);
      const input = await this.inputsFor(set, indices, k);
      const labels = Int32Array.from(indices, (i) => set.labels[i]!);
      let loss: tf.Tensor;
      let predicted: tf.Tensor;
      let softmax: tf.Tensor;
      try {
        [loss, predicted, softmax] = tf.tidy(() => {
          let x = input;
          for (const segment of trainableSegments(this.model, k)) x = runSegment(segment, x, false);
          const logits = headLogits(this.model, x, false);
          return [tf.sum(crossEntropies(logits, labels)), tf.argMax(logits, 1), tf.softmax(logits)];
        });
      } finally {
        input.dispose();
      }
      let lossValue: Float32Array | Int32Array | Uint8Array;
      let predictedValues: Float32Array | Int32Array | Uint8Array;
      let softmaxValues: Float32Array | Int32Array | Uint8Array;
      try {
        [lossValue, predictedValues, softmaxValues] = await Promise.all([loss.data(), predicted.data(), softmax.data()]);
      } finally {
        tf.dispose([loss, predicted, softmax]);
      }
      probabilities.set(softmaxValues, start * this.model.numClasses);
      lossSum += lossValue[0]!;
      addToConfusion(confusion, labels, predictedValues);
      predictions.set(predictedValues, start);
    }
    return { loss: lossSum / Math.max(1, set.size), metrics: metricsFromConfusion(confusion), predictions, probabilities };
  }

  /**
   * Puts the pretrained weights back as they were and frees the head, the optimizer state, the
   * checkpoint and the cache. The pretrained segments are shared: a next run must start from them.
   */
  dispose(): void {
    for (const [variable, value] of this.originals) {
      variable.assign(value);
      value.dispose();
    }
    this.originals.clear();
    this.dropCheckpoint();
    this.optimizer.dispose();
    this.cache.clear();
    disposeTaskModel(this.model);
  }

  /**
   * How far each segment's BatchNorm statistics moved since the run started: exactly 0 for every
   * segment that stayed frozen (they run in inference mode), the evidence the diagnostics show.
   */
  async batchNormDrift(): Promise<BatchNormDrift[]> {
    const now = await this.batchNormStatistics();
    const trainable = new Set(trainableSegments(this.model, this.deepestDepth).map((s) => s.name));
    return this.batchNormStart.map((start, i) => ({
      name: start.name,
      frozen: !trainable.has(start.name),
      meanRelativeChange: relativeChange(start.means, now[i]!.means),
      varianceRelativeChange: relativeChange(start.variances, now[i]!.variances),
    }));
  }

  /**
   * All segments' moving statistics in two asynchronous reads (one per kind). A synchronous read
   * per layer (~200 of them) left WebGPU on SwiftShader unable to allocate the next batch.
   */
  private async batchNormStatistics(): Promise<{ name: string; means: Float32Array; variances: Float32Array }[]> {
    const segments = [this.model.stem, ...this.model.blocks];
    const read = async (suffix: string) => {
      const perSegment = segments.map((segment) => segment.layers.flatMap(({ layer }) => layer.weights.filter((w) => w.originalName.endsWith(suffix)).map((w) => w.read())));
      const all = tf.tidy(() => tf.concat(perSegment.flat().map((t) => t.reshape([-1]))));
      let flat: Float32Array;
      try {
        flat = (await all.data()) as Float32Array;
      } finally {
        all.dispose();
      }
      let at = 0;
      return perSegment.map((tensors) => {
        const length = tensors.reduce((n, t) => n + t.size, 0);
        const part = flat.slice(at, at + length);
        at += length;
        return part;
      });
    };
    const means = await read('moving_mean');
    const variances = await read('moving_variance');
    return segments.map((segment, i) => ({ name: segment.name, means: means[i]!, variances: variances[i]! }));
  }

  /** Every weight of the segments that train at depth k, BatchNorm statistics included. */
  private segmentWeights(k: number): tf.Variable[] {
    return trainableSegments(this.model, k).flatMap((segment) => segment.layers.flatMap(({ layer }) => layer.weights.map((w) => w.read() as tf.Variable)));
  }

  /** Keeps the pretrained value of each weight before this engine first changes it. */
  private protectPretrained(k: number): void {
    for (const variable of this.segmentWeights(k)) {
      if (!this.originals.has(variable)) this.originals.set(variable, tf.keep(variable.clone()));
    }
  }

  private takeCheckpoint(): void {
    this.dropCheckpoint();
    const variables = [this.model.head.kernel, this.model.head.bias, ...this.originals.keys()];
    this.checkpoint = { step: this.step, values: new Map(variables.map((v) => [v, tf.keep(v.clone())])) };
  }

  private dropCheckpoint(): void {
    this.checkpoint?.values.forEach((value) => value.dispose());
    this.checkpoint = null;
  }

  /** Back to the checkpoint; weights first trained after it go back to their pretrained values. */
  private rollBack(): number {
    const checkpoint = this.checkpoint!;
    for (const [variable, original] of this.originals) variable.assign(checkpoint.values.get(variable) ?? original);
    this.model.head.kernel.assign(checkpoint.values.get(this.model.head.kernel)!);
    this.model.head.bias.assign(checkpoint.values.get(this.model.head.bias)!);
    // Moments of weights that blew up would blow them up again.
    this.optimizer.dispose();
    return checkpoint.step;
  }

  /**
   * One optimizer step. Everything the step allocates is released whether it succeeds or throws
   * (a throwing step once leaked ~1,500 tensors, 1.2 GB, here).
   */
  private async trainStep(
    set: LabeledImages,
    indices: number[],
    weights: number[],
    totalSteps: number,
    epoch: number,
  ): Promise<'skipped' | 'failed' | { predicted: Int32Array; unweightedLoss: number }> {
    const started = this.now();
    const k = this.config.freezeDepth;
    const step = this.step;
    this.protectPretrained(k);
    this.deepestDepth = Math.max(this.deepestDepth, k);
    const learningRate = learningRateAt(step, { ...this.config, totalSteps });
    const { head, backbone } = trainableVariables(this.model, k);
    const backboneNames = new Set(backbone.map((v) => v.name));
    const bnTraining = this.config.batchNormPolicy === 'train';
    const labels = Int32Array.from(indices, (i) => set.labels[i]!);
    const sampleWeights = Float32Array.from(labels, (label) => weights[label]!);

    const variables = [...head, ...backbone];
    const micro = this.microBatchSize(k, set.sizePx, indices.length);
    const summed = new Map<string, tf.Tensor>();
    const predicted = new Int32Array(indices.length);
    let loss = 0;
    let unweightedSum = 0;
    let input: tf.Tensor | null = null;
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap; unweighted: tf.Scalar; predicted: tf.Tensor } | null = null;
    try {
      for (let start = 0; start < indices.length; start += micro) {
        const end = Math.min(indices.length, start + micro);
        const partLabels = labels.subarray(start, end);
        const partWeights = sampleWeights.subarray(start, end);
        input = await this.inputsFor(set, indices.slice(start, end), k);
        const x0 = input;
        result = tf.tidy(() => {
          let unweighted: tf.Scalar | null = null;
          let partPredicted: tf.Tensor | null = null;
          const { value, grads } = tf.variableGrads(() => {
            // The first trainable segment reads features or pixels, which need no gradient.
            let x = x0;
            trainableSegments(this.model, k).forEach((segment, i) => {
              x = runTrainableSegment(segment, x, { batchStatistics: bnTraining, inputNeedsGradient: i > 0 });
            });
            const logits = headLogits(this.model, x, true);
            const losses = crossEntropies(logits, partLabels); // [micro]
            unweighted = tf.keep(tf.sum(losses) as tf.Scalar);
            partPredicted = tf.keep(tf.argMax(logits, 1));
            // Divided by the whole batch: the micro-batches' losses and gradients add up to the batch's.
            return weightedMean(losses, partWeights, indices.length);
          }, variables);
          return { value, grads, unweighted: unweighted!, predicted: partPredicted! };
        });
        const [lossValue, unweightedValue, predictedValues] = await Promise.all([result.value.data(), result.unweighted.data(), result.predicted.data()]);
        loss += lossValue[0]!;
        unweightedSum += unweightedValue[0]!;
        predicted.set(predictedValues, start);
        for (const [name, grad] of Object.entries(result.grads)) {
          const previous = summed.get(name);
          summed.set(name, previous ? tf.add(previous, grad) : tf.clone(grad));
          previous?.dispose();
        }
        tf.dispose([input, result.value, result.unweighted, result.predicted, ...Object.values(result.grads)]);
        input = null;
        result = null;
      }
      if (!Number.isFinite(loss)) {
        // The weights that gave this loss came from an earlier update: go back to the last good state.
        const goodStep = this.rollBack();
        this.paused = true;
        this.hooks.onStepFailed?.({
          step,
          kind: 'non-finite-loss',
          error: {
            code: 'internal',
            message: `The loss became ${loss} at step ${step} (learning rate ${learningRate.toExponential(1)}): the weights went back to where they were at step ${goodStep} and training paused. Lower the learning rate, then resume.`,
          },
        });
        return 'skipped';
      }
      const backboneRate = learningRate * this.config.backboneLrMultiplier;
      this.optimizer.apply(variables, Object.fromEntries(summed), (name) => (backboneNames.has(name) ? backboneRate : learningRate));
      this.step += 1;
      this.hooks.onStep?.({
        step,
        epoch,
        loss,
        batchSize: indices.length,
        learningRate,
        freezeDepth: k,
        trainableParams: this.trainableParamCount(k),
        classWeights: weights,
        ms: this.now() - started,
      });
      return { predicted, unweightedLoss: unweightedSum / indices.length };
    } catch (error) {
      releaseAbandonedTape();
      this.lastError = serializeError(error);
      this.hooks.onStepFailed?.({ step, kind: 'error', error: this.lastError });
      return 'failed';
    } finally {
      input?.dispose();
      if (result) tf.dispose([result.value, result.unweighted, result.predicted, ...Object.values(result.grads)]);
      summed.forEach((grad) => grad.dispose());
    }
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

  /** Images per pass through the network's convolutions: 4 from 160 px up, else 8, unless set. */
  private forwardChunk(sizePx: number): number {
    return this.config.microBatchSize > 0 ? this.config.microBatchSize : sizePx >= 160 ? 4 : 8;
  }

  /**
   * The input of the first trainable segment for these images: the frozen prefix's output, from
   * the cache where possible. Pooled [n, 2048] when only the head trains, since pooling has no
   * weights; feature maps otherwise; pixels when nothing is frozen.
   */
  private async inputsFor(set: LabeledImages, indices: readonly number[], k: number): Promise<tf.Tensor> {
    const prefix = frozenPrefix(this.model, k);
    const pooled = k === 0;
    // The frozen prefix runs a few images at a time: its activations for a whole batch at once
    // (16 × 224² through res4) are what exhausted WASM's 4 GB and SwiftShader's WebGPU buffers.
    const chunk = this.forwardChunk(set.sizePx);
    const compute = async (which: readonly number[]) => {
      const parts: tf.Tensor[] = [];
      try {
        for (let start = 0; start < which.length; start += chunk) {
          const part = which.slice(start, start + chunk);
          const pixels = await set.load(part);
          parts.push(
            tf.tidy(() => {
              const x = tf.tensor4d(pixels, [part.length, set.sizePx, set.sizePx, 3]);
              const features = prefix.length > 0 ? runSegments(prefix, x) : x;
              return pooled ? tf.mean(features, [1, 2]) : features;
            }),
          );
        }
        return parts.length === 1 ? parts.pop()! : tf.concat(parts);
      } finally {
        tf.dispose(parts);
      }
    };
    if (set.augmented || prefix.length === 0) return compute(indices);

    this.cache.use(`${prefix.length}|${pooled ? 'pooled' : 'map'}|${set.specHash}|${set.sizePx}`);
    const found = indices.map((i) => this.cache.get(set.ids[i]!));
    const missing = indices.filter((_, j) => !found[j]);
    if (missing.length > 0) {
      const computed = await compute(missing);
      this.cache.featureShape = computed.shape.slice(1);
      let values: Float32Array;
      try {
        values = await computed.data<'float32'>();
      } finally {
        computed.dispose();
      }
      const size = values.length / missing.length;
      missing.forEach((index, m) => {
        const row = values.slice(m * size, (m + 1) * size);
        found[indices.indexOf(index)] = row;
        if (!this.cache.put(set.ids[index]!, row) && !this.cacheFullReported) {
          this.cacheFullReported = true;
          this.hooks.onCacheFull?.(this.cache.stats());
        }
      });
    }
    const size = found[0]!.length;
    const batch = new Float32Array(size * indices.length);
    found.forEach((row, j) => batch.set(row!, j * size));
    return tf.tensor(batch, [indices.length, ...this.cache.featureShape!]);
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

/**
 * tfjs-core 4.22's gradients() keeps the tensors each recorded op saved for its backward pass,
 * and frees them only after a backward pass; when the forward function throws, they stay
 * allocated for good (14 tensors per failed step in the test here; the 1.2 GB leak DESIGN.md reports). Free them.
 */
function releaseAbandonedTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) node.saved?.forEach((tensor) => tensor.dispose());
  state.activeTape = null as unknown as typeof state.activeTape;
}

/** ‖b − a‖₂ / ‖a‖₂ (0 when a is all zeros and b equals it). */
function relativeChange(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    difference += (b[i]! - a[i]!) ** 2;
    norm += a[i]! ** 2;
  }
  return norm > 0 ? Math.sqrt(difference / norm) : Math.sqrt(difference);
}

function checkSplit(set: LabeledImages, numClasses: number, name: string): void {
  if (set.size === 0) throw new LabError('input/invalid', `The ${name} split has no images.`);
  if (set.labels.length !== set.size || set.ids.length !== set.size) {
    throw new LabError('input/invalid', `The ${name} split has ${set.size} images but ${set.labels.length} labels and ${set.ids.length} ids.`);
  }
  const bad = set.labels.find((label) => label < 0 || label >= numClasses);
  if (bad !== undefined) throw new LabError('input/invalid', `The ${name} split has label ${bad}, outside 0..${numClasses - 1}.`);
}
