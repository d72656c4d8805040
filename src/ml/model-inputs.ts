// The input of the first trainable segment for a batch of images: the frozen prefix's output,
// computed once per image and cached while the prefix and the preprocessing stay the same.

import * as tf from '@tensorflow/tfjs';
import type { LabeledImages } from '../core/labeled-images';
import { FeatureCache, type FeatureCacheStats } from './feature-cache';
import { runSegments, type Segment } from './segments';
import { frozenPrefix, type TaskModel } from './task-model';

export interface ModelInputsOptions {
  /** Bytes of cached features. */
  cacheLimitBytes: number;
  /** Images per pass through the frozen prefix; 0: 4 from 160 px up, else 8. */
  chunkSize: () => number;
  /** Called once, the first time the cache turns an entry away. */
  onCacheFull?: (stats: FeatureCacheStats) => void;
}

/** A number per segment object: a trained copy and the pretrained block it replaced are different prefixes. */
const segmentSerials = new WeakMap<Segment, number>();
let nextSerial = 0;
function serialOf(segment: Segment): number {
  let serial = segmentSerials.get(segment);
  if (serial === undefined) segmentSerials.set(segment, (serial = nextSerial++));
  return serial;
}

export class ModelInputs {
  private readonly cache: FeatureCache;
  /** Shape of one entry per set key, [h, w, c] or [c]. */
  private readonly shapes = new Map<string, number[]>();
  private cacheFullReported = false;

  constructor(private readonly options: ModelInputsOptions) {
    this.cache = new FeatureCache(options.cacheLimitBytes);
  }

  stats(): FeatureCacheStats {
    return this.cache.stats();
  }

  clear(): void {
    this.cache.clear();
  }

  /**
   * The frozen prefix's output at depth k for these images, from the cache where possible. Pooled
   * [n, 2048] when only the head trains, since pooling has no weights; feature maps otherwise;
   * pixels when nothing is frozen. The caller owns the returned tensor.
   */
  async for(model: TaskModel, set: LabeledImages, indices: readonly number[], k: number): Promise<tf.Tensor> {
    const prefix = frozenPrefix(model, k);
    const pooled = k === 0;
    // The frozen prefix runs a few images at a time: its activations for a whole batch at once
    // (16 × 224² through res4) are what exhausted WASM's 4 GB and SwiftShader's WebGPU buffers.
    const chunk = this.options.chunkSize() > 0 ? this.options.chunkSize() : set.sizePx >= 160 ? 4 : 8;
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
    // With nothing frozen every segment may train, so no cached feature stays valid.
    if (prefix.length === 0) this.cache.clear();
    if (set.augmented || prefix.length === 0) return compute(indices);

    // The prefix's segments are what the cache is for: a block trained earlier and frozen again
    // gives other features than the pretrained block it replaced. A frozen segment's weights
    // cannot change, and the cache holds one prefix at a time, so its features are always current.
    // Within it, each set (training, validation: their specs may differ on purpose) has entries
    // of its own, so evaluating one does not empty the other's.
    this.cache.use(prefix.map(serialOf).join(','));
    const setKey = `${pooled ? 'pooled' : 'map'}|${set.specHash}|${set.sizePx}`;
    const entryId = (index: number) => `${setKey}|${set.ids[index]!}`;
    const found = indices.map((i) => this.cache.get(entryId(i)));
    const missing = indices.filter((_, j) => !found[j]);
    if (missing.length > 0) {
      const computed = await compute(missing);
      this.shapes.set(setKey, computed.shape.slice(1));
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
        if (!this.cache.put(entryId(index), row) && !this.cacheFullReported) {
          this.cacheFullReported = true;
          this.options.onCacheFull?.(this.cache.stats());
        }
      });
    }
    const size = found[0]!.length;
    const batch = new Float32Array(size * indices.length);
    found.forEach((row, j) => batch.set(row!, j * size));
    return tf.tensor(batch, [indices.length, ...this.shapes.get(setKey)!]);
  }
}
