// conv2d with its gradient written out, for the layers that train. tfjs-core's fused conv2d
// gradient always computes the input gradient, also where nothing needs it: the first trainable
// block reads cached features (19% of the input-gradient time at k=3 cached here) and the stem
// reads pixels. This op leaves x out of the recorded inputs then, so no input gradient is made.
// The forward pass is the same fused conv2d call tfjs-layers makes, so outputs are bit-identical.

import * as tf from '@tensorflow/tfjs';
import { channelSums } from './channel-sums';

export interface Conv2DSpec {
  strides: [number, number];
  padding: 'same' | 'valid';
}

/**
 * conv2d(x, kernel) + bias (NHWC, dilation 1, no activation). `inputNeedsGradient: false` makes
 * the gradient reach only the kernel and bias.
 */
export function trainableConv2d(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  spec: Conv2DSpec,
  inputNeedsGradient: boolean,
): tf.Tensor4D {
  const { strides, padding: pad } = spec;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([x, kernel]);
    const value = tf.fused.conv2d({ x, filter: kernel, bias: bias ?? undefined, strides, pad, dataFormat: 'NHWC' }); // [batch, outH, outW, outC]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [savedX, savedKernel] = saved as [tf.Tensor4D, tf.Tensor4D];
      const grads: tf.Tensor[] = [];
      if (inputNeedsGradient) {
        grads.push(tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: savedKernel }, { strides, pad, dataFormat: 'NHWC', inputShape: savedX.shape }) as tf.Tensor);
      }
      grads.push(tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: savedX, dy }, { strides, pad, dataFormat: 'NHWC', filterShape: savedKernel.shape }) as tf.Tensor);
      if (bias) grads.push(channelSums(dy));
      return grads;
    };
    return { value, gradFunc };
  });
  const inputs = [...(inputNeedsGradient ? [x] : []), kernel, ...(bias ? [bias] : [])];
  return op(...inputs) as tf.Tensor4D;
}
