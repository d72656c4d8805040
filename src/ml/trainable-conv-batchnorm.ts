// conv2d → BatchNorm in inference mode (→ ReLU) as one op whose weights train: the BatchNorm
// folded into the convolution as the inference path folds it (folded-segment.ts, the same
// arithmetic, so the same bits), and a gradient written out for the unit. Layer by layer, the
// BatchNorm and the ReLU each add a forward pass, and their gradients full-size passes of their own
// (the ReLU's step, cast and product; the BatchNorm's scaling, centring, product and three channel
// sums): ~16% of a k=16 step here. Folded, the backward makes one mask and one sum over the
// activation, the rest per channel or per weight:
//   z = conv(x, W·s) + (b − μ)·s + β,  s = γ/√(σ² + ε),  y = relu(z)
//   dz = dy where y > 0;  G = ∂conv/∂W at dz (the filter gradient);  Σdz per channel
//   dx = conv input gradient of dz with W·s;  dW = G·s;  db = Σdz·s;  dβ = Σdz
//   dγ = Σ dz·(c + b − μ)/√(σ² + ε) over positions, c = conv(x, W): since Σ_n dz·c = Σ_k W·G per
//        output channel, dγ = (Σ_k W·G + (b − μ)·Σdz)/√(σ² + ε), with no pass over the activation.

import * as tf from '@tensorflow/tfjs';
import { scaleGradient } from './channel-scale';
import { channelSums } from './channel-sums';
import { foldConvBatchNorm, type BatchNormWeights } from './folded-segment';
import { reluBackprop } from './relu-gradient';
import type { Conv2DSpec } from './trainable-conv2d';

export interface ConvBatchNormInputs {
  x: tf.Tensor4D;
  kernel: tf.Tensor4D;
  /** The convolution's bias, if it has one. */
  bias: tf.Tensor1D | null;
  batchNorm: BatchNormWeights;
  spec: Conv2DSpec;
  relu: boolean;
  /** False where x comes from outside the gradient (cached features, pixels): no input gradient is made. */
  inputNeedsGradient: boolean;
}

/**
 * relu?(batchNorm(conv2d(x, kernel) + bias)) with BatchNorm on its moving statistics; gradients
 * reach x (if asked), the kernel, the bias, γ and β. The moving statistics are constants here.
 */
export function trainableConvBatchNorm({ x, kernel, bias, batchNorm, spec, relu, inputNeedsGradient }: ConvBatchNormInputs): tf.Tensor4D {
  const { strides, padding: pad } = spec;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const folded = foldConvBatchNorm(kernel, bias ?? undefined, batchNorm);
    // The kernel itself: under a gradient tape tf.fused.conv2d splits off a ReLU (Conv2D, Add, Relu).
    const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation: relu ? 'relu' : 'linear' };
    const value = tf.engine().runKernel(tf.FusedConv2D, { x, filter: folded.kernel, bias: folded.bias }, attrs) as tf.Tensor4D;
    save([x, kernel, folded.kernel, folded.scale, folded.inverseStd, folded.centredBias, value]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [savedX, savedKernel, foldedKernel, scale, inverseStd, centredBias, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D];
      const dz = relu ? reluBackprop(dy, y) : dy;
      const dzSums = channelSums(dz);
      const grads: tf.Tensor[] = [];
      if (inputNeedsGradient) {
        grads.push(tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz, filter: foldedKernel }, { strides, pad, dataFormat: 'NHWC', inputShape: savedX.shape }) as tf.Tensor);
      }
      const filterGradient = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: savedX, dy: dz }, { strides, pad, dataFormat: 'NHWC', filterShape: savedKernel.shape }) as tf.Tensor;
      const [kernelGradient, kernelDots] = scaleGradient(filterGradient, savedKernel, scale); // G·s, Σ_k W·G
      grads.push(kernelGradient);
      if (bias) grads.push(tf.mul(dzSums, scale));
      grads.push(tf.mul(tf.add(kernelDots, tf.mul(centredBias, dzSums)), inverseStd)); // γ
      grads.push(dzSums); // β
      return grads;
    };
    return { value, gradFunc };
  });
  const inputs = [...(inputNeedsGradient ? [x] : []), kernel, ...(bias ? [bias] : []), batchNorm.gamma, batchNorm.beta];
  return op(...inputs) as tf.Tensor4D;
}
