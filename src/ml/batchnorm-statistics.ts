// BatchNorm moving statistics per segment, and how far they moved: the evidence behind the drift
// diagnostic (a "frozen" block whose statistics move is not frozen).

import * as tf from '@tensorflow/tfjs';
import type { BatchNormDrift } from '../core/run-records';
import type { Segment } from './segments';

export interface SegmentStatistics {
  name: string;
  means: Float32Array;
  variances: Float32Array;
}

/**
 * All segments' moving statistics in two asynchronous reads (one per kind). A synchronous read
 * per layer (~200 of them) left WebGPU on SwiftShader unable to allocate the next batch.
 */
export async function readBatchNormStatistics(segments: readonly Segment[]): Promise<SegmentStatistics[]> {
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

/** How far each segment's statistics moved from `start` to `now` (same segments, same order). */
export function batchNormDrift(start: readonly SegmentStatistics[], now: readonly SegmentStatistics[], trainable: ReadonlySet<string>): BatchNormDrift[] {
  return start.map((before, i) => ({
    name: before.name,
    frozen: !trainable.has(before.name),
    meanRelativeChange: relativeChange(before.means, now[i]!.means),
    varianceRelativeChange: relativeChange(before.variances, now[i]!.variances),
  }));
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
