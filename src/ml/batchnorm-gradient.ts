// BatchNorm's gradient without full-size tiling. tfjs-core 4.22's FusedBatchNorm gradient tiles
// rsqrt(variance) to the activation's shape (wasm Tile: ~100 ns per element) and makes x − mean
// and dy · scale at full size up front, even when only the input gradient is asked for: 16% of a
// k=16 step here. With BatchNorm in inference mode the input gradient is dy times one scale per
// channel; the other terms are made only when their input needs them, by broadcasting.

import * as tf from '@tensorflow/tfjs';
import { channelSums } from './channel-sums';

type Saved = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];

const gradient: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dyOrList, saved, attrs) => {
    const dy = dyOrList as tf.Tensor; // FusedBatchNorm has one output
    const [x, mean, variance, scale] = saved as Saved;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    // Mean and variance are per channel ([C]) in every call tfjs-layers makes: sums over the rest.
    const reduce = (t: tf.Tensor) => (mean.rank === 1 ? channelSums(t) : t);
    const inverseStd = () => tf.rsqrt(tf.add(variance, varianceEpsilon)); // [C]
    const channelScale = () => (scale ? tf.mul(scale, inverseStd()) : inverseStd()); // [C]
    const centred = () => tf.sub(x, mean); // x's shape
    const dyTimesCentred = () => reduce(tf.mul(dy, centred())); // [C]
    return {
      x: () => tf.mul(dy, channelScale()),
      mean: () => tf.reshape(tf.neg(tf.mul(reduce(dy), channelScale())), mean.shape),
      variance: () => tf.reshape(tf.mul(dyTimesCentred(), tf.mul(tf.mul(channelScale(), tf.square(inverseStd())), -0.5)), mean.shape),
      scale: () => tf.reshape(tf.mul(dyTimesCentred(), inverseStd()), mean.shape),
      offset: () => tf.reshape(reduce(dy), mean.shape),
    };
  },
};

/** Replaces tfjs-core's FusedBatchNorm gradient, for every backend; calling it again does nothing. */
export function registerBatchNormGradient(): void {
  if (tf.getGradient(tf.FusedBatchNorm) !== gradient) tf.registerGradient(gradient);
}
