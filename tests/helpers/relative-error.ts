// max |actual − expected| / max |expected|: how the gradient and inference tests compare a result
// with its reference (reordered float32 sums differ by ~1e-7 of the largest value).

import type * as tf from '@tensorflow/tfjs';

type Values = ArrayLike<number> | tf.Tensor;

const valuesOf = (v: Values): ArrayLike<number> => ('dataSync' in v ? (v.dataSync() as ArrayLike<number>) : v);

export function relativeMaxError(actual: Values, expected: Values): number {
  const a = valuesOf(actual);
  const e = valuesOf(expected);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - e[i]!));
    scale = Math.max(scale, Math.abs(e[i]!));
  }
  return diff / scale;
}
