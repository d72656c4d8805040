// The wasm conv2d kernels of ours at ResNet50 sizes (Node, one thread): the forward convolution
// next to tfjs-wasm's XNNPACK one, the filter gradient (tfjs-wasm has none), and the input gradient
// next to tfjs-wasm's own scalar loop.

import * as tf from '@tensorflow/tfjs';
// tfjs-wasm's own input gradient, which ours replaces (bench only; set up below on the running backend).
import { conv2DBackpropInputConfig as tfjsInputGradient } from '@tensorflow/tfjs-backend-wasm/dist/kernels/Conv2DBackpropInput';
// tfjs-wasm's XNNPACK convolution, which ours replaces (bench only, set up the same way).
import { fusedConv2DConfig as tfjsFusedConv2D } from '@tensorflow/tfjs-backend-wasm/dist/kernels/FusedConv2D';
import { initBackend } from '../src/ml/backend';
import { runningWasmKernels } from '../src/ml/wasm-tensors';
import { median, printTable } from './shared';

const REPEATS = 3;

const CASES = [
  { name: '3×3/1 same, 512→512, 14×14, batch 4', input: [4, 14, 14, 512], filter: [3, 3, 512, 512], pad: 'same', strides: 1 },
  { name: '3×3/1 same, 64→64, 56×56, batch 4', input: [4, 56, 56, 64], filter: [3, 3, 64, 64], pad: 'same', strides: 1 },
  { name: '1×1/1, 1024→256, 14×14, batch 8', input: [8, 14, 14, 1024], filter: [1, 1, 1024, 256], pad: 'valid', strides: 1 },
  { name: '1×1/2, 512→1024, 28×28, batch 4', input: [4, 28, 28, 512], filter: [1, 1, 512, 1024], pad: 'valid', strides: 2 },
  { name: '7×7/2 valid, 3→64 (stem), 230×230, batch 4', input: [4, 230, 230, 3], filter: [7, 7, 3, 64], pad: 'valid', strides: 2 },
] as const;

function msOf(run: () => tf.TensorInfo | tf.Tensor): number {
  const once = () => {
    const start = performance.now();
    const out = tf.engine().makeTensorFromTensorInfo(run() as tf.TensorInfo);
    out.dataSync();
    out.dispose();
    return performance.now() - start;
  };
  once();
  return median(Array.from({ length: REPEATS }, once));
}

export async function benchConvGradients(): Promise<void> {
  await initBackend({ force: 'wasm' });
  const backend = tf.backend();
  tfjsInputGradient.setupFunc!(backend);
  tfjsFusedConv2D.setupFunc!(backend);
  const rows: [string, string][] = CASES.map((c) => {
    const x = tf.randomNormal([...c.input]) as tf.Tensor4D;
    const w = tf.randomNormal([...c.filter]) as tf.Tensor4D;
    const dy = tf.tidy(() => tf.onesLike(tf.conv2d(x, w, c.strides, c.pad)));
    const conv = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' as const };
    const fused = { ...conv, dilations: 1, activation: 'relu' };
    const forwardMs = msOf(() => tf.engine().runKernel<tf.Tensor>(tf.FusedConv2D, { x, filter: w }, fused));
    const xnnpackMs = msOf(() => tfjsFusedConv2D.kernelFunc({ inputs: { x, filter: w }, backend, attrs: fused }) as tf.TensorInfo);
    const filterMs = msOf(() => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, { ...conv, filterShape: [...c.filter] }));
    const inputMs = msOf(() => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropInput, { dy, filter: w }, { ...conv, inputShape: [...c.input] }));
    const tfjsInputMs = msOf(() => tfjsInputGradient.kernelFunc({ inputs: { dy, filter: w }, backend, attrs: { ...conv, inputShape: [...c.input] } }) as tf.TensorInfo);
    tf.dispose([x, w, dy]);
    return [c.name, `forward ${forwardMs.toFixed(0)} ms (XNNPACK: ${xnnpackMs.toFixed(0)} ms) | filter ${filterMs.toFixed(0)} ms | input ${inputMs.toFixed(0)} ms (tfjs-wasm's own: ${tfjsInputMs.toFixed(0)} ms)`];
  });
  const kernels = runningWasmKernels();
  printTable(`Conv2D and its gradients on wasm (ours: ${kernels?.fma ?? 'not bound'} multiply-add), median of 3; the stem keeps tfjs’s gradients`, rows);
}
