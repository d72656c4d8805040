// The model a run trains and leaves behind: the network it started from (the shared pretrained
// ResNet50, read-only, or an imported classifier's own), copies of the segments it has trained,
// and its head. It outlives the run, trains more in later runs, predicts, and is exported, until
// the user discards it. The network it started from is never written.

import * as tf from '@tensorflow/tfjs';
import { LabError } from '../core/errors';
import type { PreprocessSpec } from '../core/preprocess-spec';
import { BLOCK_COUNT } from '../core/training-config';
import { releaseFoldedWeights } from './folded-segment';
import { copySegment, disposeSegmentCopy } from './segment-copy';
import { runSegments, type Segment, type SegmentedResNet50 } from './segments';
import { createHead, headLogits, trainableSegments, type Head, type TaskModel } from './task-model';

export interface RunModelOptions {
  /** The network the model starts from: the pretrained one (shared) or an imported one (owned, see `ownsBase`). */
  base: SegmentedResNet50;
  classNames: string[];
  /** How images are prepared for it (the run's validation spec). */
  spec: PreprocessSpec;
  /** Dropout before the head while training. Default: 0. */
  dropout?: number;
  /** An imported classifier's head; default: a new zero head. */
  head?: Head;
  /** Called by dispose() to free a base the model owns (an imported model); the pretrained one is never freed here. */
  releaseBase?: () => void;
}

/** Index of a segment in [stem, ...blocks]. */
type SegmentIndex = number;

export class RunModel implements TaskModel {
  readonly classNames: string[];
  readonly head: Head;
  dropout: number;
  spec: PreprocessSpec;
  private readonly base: SegmentedResNet50;
  private readonly own = new Map<SegmentIndex, Segment>();
  private readonly releaseBase: (() => void) | null;
  private disposed = false;

  constructor(options: RunModelOptions) {
    if (options.base.blocks.length !== BLOCK_COUNT) throw new LabError('model/incompatible', `Expected ${BLOCK_COUNT} blocks, got ${options.base.blocks.length}.`);
    if (options.classNames.length < 2) throw new LabError('input/invalid', 'A classifier needs at least two classes.');
    this.base = options.base;
    this.classNames = [...options.classNames];
    this.spec = options.spec;
    this.dropout = options.dropout ?? 0;
    this.head = options.head ?? createHead(options.classNames.length);
    this.releaseBase = options.releaseBase ?? null;
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  get stem(): Segment {
    return this.own.get(0) ?? this.base.stem;
  }

  get blocks(): Segment[] {
    return this.base.blocks.map((block, i) => this.own.get(i + 1) ?? block);
  }

  /** The segments of the network it started from, whatever it trained since (the export's layer names and order). */
  get baseNetwork(): SegmentedResNet50 {
    return this.base;
  }

  /**
   * Gives every segment that trains at depth k weights of its own, copied from what it runs now.
   * Called before a step trains them: the shared network is never written.
   */
  ownSegmentsFor(k: number): void {
    for (const segment of trainableSegments(this, k)) {
      const index = this.indexOf(segment);
      if (!this.own.has(index)) this.own.set(index, copySegment(segment));
    }
  }

  /**
   * Weights of its own for the segments at these indices (in [stem, ...blocks]), copied from the
   * network it started from: where a resumed run's saved weights go.
   */
  ownSegmentsAt(indices: readonly SegmentIndex[]): void {
    const network = [this.base.stem, ...this.base.blocks];
    for (const index of indices) {
      const segment = network[index];
      if (!segment) throw new LabError('input/invalid', `There is no segment ${index} in this network.`);
      if (!this.own.has(index)) this.own.set(index, copySegment(segment));
    }
  }

  /** The segments with weights of their own, by index in [stem, ...blocks], input side first. */
  ownedSegmentsByIndex(): [SegmentIndex, Segment][] {
    return [...this.own.entries()].sort(([a], [b]) => a - b);
  }

  /** Names of the segments with weights of their own, input side first. */
  trainedSegments(): string[] {
    return [...this.own.keys()].sort((a, b) => a - b).map((i) => this.own.get(i)!.name);
  }

  /** Which segments are the model's own (to check point them, and to forget those made after a checkpoint). */
  ownedIndices(): Set<SegmentIndex> {
    return new Set(this.own.keys());
  }

  ownedSegments(): Segment[] {
    return [...this.own.values()];
  }

  /** Drops the copies not in `keep`: those segments run the shared weights again. */
  forgetSegmentsExcept(keep: ReadonlySet<SegmentIndex>): void {
    for (const [index, segment] of this.own) {
      if (keep.has(index)) continue;
      releaseFoldedWeights([segment]);
      disposeSegmentCopy(segment);
      this.own.delete(index);
    }
  }

  /** Parameters of the whole classifier (BatchNorm statistics included). */
  parameterCount(): number {
    const segments = [this.stem, ...this.blocks];
    const backbone = segments.reduce((sum, s) => sum + s.layers.reduce((n, { layer }) => n + layer.weights.reduce((m, w) => m + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0), 0), 0);
    return backbone + this.head.kernel.size + this.head.bias.size;
  }

  /**
   * Class logits of images or of a segment's output, in inference mode: `x` enters `segments`
   * (the whole network for pixels, the part above the freeze boundary for cached features), then
   * the head. Validation and predict both come through here. [n, C]
   */
  logits(x: tf.Tensor, segments: readonly Segment[]): tf.Tensor2D {
    return tf.tidy(() => headLogits(this, runSegments(segments, x), false));
  }

  /** Class probabilities of preprocessed images, [n, size, size, 3] channels last. Returns [n, C] row-major. */
  async predict(pixels: Float32Array, sizePx: number): Promise<Float32Array> {
    this.checkAlive();
    const count = pixels.length / (sizePx * sizePx * 3);
    const probabilities = tf.tidy(() => tf.softmax(this.logits(tf.tensor4d(pixels, [count, sizePx, sizePx, 3]), this.allSegments()))); // [n, C]
    try {
      return (await probabilities.data()) as Float32Array;
    } finally {
      probabilities.dispose();
    }
  }

  /** Stem and blocks as this model runs them, input side first. */
  allSegments(): Segment[] {
    return [this.stem, ...this.blocks];
  }

  /** Frees the copies and the head, and an imported network; the pretrained network stays. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.forgetSegmentsExcept(new Set());
    this.head.kernel.dispose();
    this.head.bias.dispose();
    this.releaseBase?.();
  }

  private indexOf(segment: Segment): SegmentIndex {
    if (segment === this.stem) return 0;
    const i = this.blocks.indexOf(segment);
    if (i < 0) throw new Error(`Segment ${segment.name} is not part of this model.`);
    return i + 1;
  }

  private checkAlive(): void {
    if (this.disposed) throw new LabError('model/not-found', 'This model was discarded.');
  }
}
