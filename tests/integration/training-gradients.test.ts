// The gradients and updates the lab trains with (trainable-conv2d.ts, batchnorm-gradient.ts,
// channel-sums.ts, wasm-adam.ts) equal tfjs's own, skip what nothing needs, and leak nothing; on
// the real blocks, the first trainable block of a cached run computes no input gradient.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng';
import { registerBatchNormGradient } from '../../src/ml/batchnorm-gradient';
import { registerWasmChannelScale } from '../../src/ml/channel-scale';
import { channelSums, registerWasmChannelSums } from '../../src/ml/channel-sums';
import { KeyedOptimizer } from '../../src/ml/optimizer';
import { registerWasmAdam } from '../../src/ml/wasm-adam';
import { runFoldedSegment } from '../../src/ml/folded-segment';
import { registerReluGradient, registerWasmReluBackprop } from '../../src/ml/relu-gradient';
import { trainableConvBatchNorm } from '../../src/ml/trainable-conv-batchnorm';
import { runSegmentLayers, runTrainableSegment, segmentResNet50, type SegmentedResNet50 } from '../../src/ml/segments';
import { trainableConv2d } from '../../src/ml/trainable-conv2d';
import { registerWasmConv2DGradients } from '../../src/ml/wasm-conv2d-gradients';
import { loadRealModel } from '../helpers/node-model';
import { relativeMaxError } from '../helpers/relative-error';

// Reordered float32 sums (XNNPACK against the cpu's loops, broadcasting against tiling) differ by
// ~1e-7 of the largest value (measured); 1e-5 still catches a wrong axis, sign or factor.
const RELATIVE_TOLERANCE = 1e-5;

// Read before anything of ours replaces it: the reference for the BatchNorm gradient.
const tfjsBatchNormGradient = tf.getGradient(tf.FusedBatchNorm);

function random(shape: number[], seed: number): tf.Tensor {
  const next = createPrng(seed);
  return tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => next() * 2 - 1), shape);
}


/** Kernel names run by `f`, with their counts. */
async function kernelsRun(f: () => tf.TensorContainer): Promise<Map<string, number>> {
  const info = await tf.profile(() => {
    const out = f();
    tf.dispose(out);
    return [];
  });
  const counts = new Map<string, number>();
  for (const kernel of info.kernels) counts.set(kernel.name, (counts.get(kernel.name) ?? 0) + 1);
  return counts;
}

describe('trainableConv2d', () => {
  beforeAll(async () => {
    registerWasmConv2DGradients();
    await tf.setBackend('wasm');
  });

  const cases = [
    { name: '3×3/1 same, with bias', x: [2, 6, 6, 5], w: [3, 3, 5, 7], strides: [1, 1] as [number, number], padding: 'same' as const, bias: true },
    { name: '1×1/2 valid, no bias', x: [2, 7, 7, 6], w: [1, 1, 6, 4], strides: [2, 2] as [number, number], padding: 'valid' as const, bias: false },
  ];

  it.each(cases)('$name: the fused conv2d forward, bit for bit, and tfjs’s gradients', (c) => {
    tf.tidy(() => {
      const x = random(c.x, 1) as tf.Tensor4D;
      const w = random(c.w, 2) as tf.Tensor4D;
      const b = c.bias ? (random([c.w[3]!], 3) as tf.Tensor1D) : null;
      const r = random(tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.padding }).shape, 4);
      const reference = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: c.strides, pad: c.padding }), r));
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) =>
        tf.sum(tf.mul(trainableConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, (bb as tf.Tensor1D | undefined) ?? null, c, true), r));

      const forward = trainableConv2d(x, w, b, c, true);
      expect(forward.dataSync()).toEqual(tf.fused.conv2d({ x, filter: w, bias: b ?? undefined, strides: c.strides, pad: c.padding }).dataSync());
      const inputs = b ? [x, w, b] : [x, w];
      const expected = tf.grads(reference)(inputs);
      const actual = tf.grads(ours)(inputs);
      actual.forEach((grad, i) => {
        expect(grad.shape).toEqual(expected[i]!.shape);
        expect(relativeMaxError(grad, expected[i]!)).toBeLessThan(RELATIVE_TOLERANCE);
      });
    });
  });

  it('computes no input gradient when the input needs none, and the same filter gradient', async () => {
    const x = random([2, 6, 6, 5], 5) as tf.Tensor4D;
    const w = tf.variable(random([3, 3, 5, 7], 6));
    const spec = cases[0]!;
    const filterGradient = (inputNeedsGradient: boolean) =>
      tf.variableGrads(() => tf.sum(tf.square(trainableConv2d(x, w as tf.Tensor as tf.Tensor4D, null, spec, inputNeedsGradient))) as tf.Scalar, [w]);
    const withInput = await kernelsRun(() => filterGradient(true).grads);
    const without = await kernelsRun(() => filterGradient(false).grads);
    // A custom gradient makes every input's gradient, needed or not (as tfjs's fused conv2d does):
    // only the flag keeps the input gradient from being computed.
    expect(withInput.get(tf.Conv2DBackpropInput)).toBe(1);
    expect(without.get(tf.Conv2DBackpropInput)).toBeUndefined();
    const a = filterGradient(true);
    const b = filterGradient(false);
    expect(b.grads[w.name]!.dataSync()).toEqual(a.grads[w.name]!.dataSync());
    tf.dispose([x, w, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  });

  it('leaks no tensor', () => {
    const x = random([2, 6, 6, 5], 7) as tf.Tensor4D;
    const w = tf.variable(random([3, 3, 5, 7], 8));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(trainableConv2d(tf.relu(x), w as tf.Tensor as tf.Tensor4D, null, cases[0]!, true)) as tf.Scalar, [w]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});

describe('trainableConvBatchNorm (inference mode, folded)', () => {
  beforeAll(async () => {
    registerWasmConv2DGradients();
    registerWasmChannelSums();
    registerWasmChannelScale();
    registerWasmReluBackprop();
    await tf.setBackend('wasm');
  });

  // 8 output channels take our kernels (convolution, scaling); 5 take tfjs's ops.
  const cases = [
    { name: '3×3/1 same, bias, ReLU', x: [2, 6, 6, 5], w: [3, 3, 5, 8], strides: [1, 1] as [number, number], padding: 'same' as const, bias: true, relu: true },
    { name: '1×1/2 valid, no bias, no ReLU', x: [2, 7, 7, 6], w: [1, 1, 6, 5], strides: [2, 2] as [number, number], padding: 'valid' as const, bias: false, relu: false },
  ];

  it.each(cases)('$name: conv → batchNorm → relu’s value and gradients (x, kernel, bias, γ, β), and no leak', (c) => {
    tf.tidy(() => {
      const x = random(c.x, 71) as tf.Tensor4D;
      const w = random(c.w, 72) as tf.Tensor4D;
      const channels = c.w[3]!;
      const b = c.bias ? (random([channels], 73) as tf.Tensor1D) : null;
      const [gamma, beta, movingMean] = [74, 75, 76].map((seed) => random([channels], seed) as tf.Tensor1D) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      const movingVariance = tf.add(tf.abs(random([channels], 77)), 0.5) as tf.Tensor1D;
      const epsilon = 1e-3;
      const layers = (xx: tf.Tensor, ww: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, cb?: tf.Tensor) => {
        const conv = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.padding);
        const normed = tf.batchNorm(cb ? tf.add(conv, cb) : conv, movingMean, movingVariance, bb, gg, epsilon);
        return c.relu ? tf.relu(normed) : normed;
      };
      const folded = (xx: tf.Tensor, ww: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, cb?: tf.Tensor) =>
        trainableConvBatchNorm({
          x: xx as tf.Tensor4D,
          kernel: ww as tf.Tensor4D,
          bias: (cb as tf.Tensor1D | undefined) ?? null,
          batchNorm: { gamma: gg as tf.Tensor1D, beta: bb as tf.Tensor1D, movingMean, movingVariance, epsilon },
          spec: c,
          relu: c.relu,
          inputNeedsGradient: true,
        });
      const r = random(layers(x, w, gamma, beta, b ?? undefined).shape, 78);
      const inputs = [x, w, gamma, beta, ...(b ? [b] : [])];
      expect(relativeMaxError(folded(x, w, gamma, beta, b ?? undefined), layers(x, w, gamma, beta, b ?? undefined))).toBeLessThan(RELATIVE_TOLERANCE);
      const expected = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(layers(t[0]!, t[1]!, t[2]!, t[3]!, t[4]), r)))(inputs);
      const step = () => tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(folded(t[0]!, t[1]!, t[2]!, t[3]!, t[4]), r)))(inputs);
      const actual = step();
      actual.forEach((grad, i) => {
        expect(grad.shape).toEqual(expected[i]!.shape);
        expect(relativeMaxError(grad, expected[i]!)).toBeLessThan(RELATIVE_TOLERANCE);
      });
      const before = tf.memory().numTensors;
      tf.dispose(step());
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});

describe('ReLU’s gradient', () => {
  it('is tfjs’s dy · step(x) on wasm (one kernel of ours, odd sizes included) and elsewhere', async () => {
    registerReluGradient();
    registerWasmReluBackprop();
    const plain = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0); // -0 (dy · 0, dy < 0) as 0
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      for (const size of [4096, 1 << 17, 7]) {
        tf.tidy(() => {
          const x = random([size], 81 + size);
          const dy = random([size], 82 + size);
          const ours = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.relu(xx), dy)))(x);
          expect(plain(ours)).toEqual(plain(tf.mul(dy, tf.step(x))));
        });
      }
      const kernels = await kernelsRun(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(xx)))(tf.ones([8])));
      expect([kernels.get('FinetuneLabReluBackprop'), kernels.get(tf.Step)]).toEqual(backend === 'wasm' ? [1, undefined] : [undefined, 1]);
    }
  });
});

describe('channelSums', () => {
  it('sums every position per channel on wasm as tf.sum does, and leaks nothing', async () => {
    registerWasmChannelSums();
    await tf.setBackend('wasm');
    const x = random([3, 5, 7, 11], 41);
    const expected = tf.sum(x, [0, 1, 2]);
    expect(relativeMaxError(channelSums(x), expected)).toBeLessThan(RELATIVE_TOLERANCE);
    tf.dispose(channelSums(x));
    const before = tf.memory().numTensors;
    tf.dispose(channelSums(x));
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    expect(relativeMaxError(channelSums(x), expected)).toBeLessThan(RELATIVE_TOLERANCE); // tf.sum where no kernel of ours is registered
    tf.dispose([x, expected]);
  });
});

describe('Adam on wasm (one fused kernel)', () => {
  it('takes the same three steps as tfjs ops on the cpu, and leaks nothing', async () => {
    registerWasmAdam();
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const w = tf.variable(random([64, 33], 51), true, `adam-${backend}`);
      const optimizer = new KeyedOptimizer({ kind: 'adam' });
      const step = (i: number) => tf.tidy(() => optimizer.apply([w], { [w.name]: random(w.shape, 60 + i) }, () => 0.01));
      step(0);
      const before = tf.memory().numTensors;
      const kernels = await kernelsRun(() => {
        step(1);
        return [];
      });
      step(2);
      expect(tf.memory().numTensors).toBe(before);
      expect(kernels.get('FinetuneLabAdam')).toBe(backend === 'wasm' ? 1 : undefined);
      const values = w.dataSync().slice();
      optimizer.dispose();
      w.dispose();
      return tf.tensor(values);
    };
    const reference = await run('cpu');
    const fused = await run('wasm');
    expect(relativeMaxError(fused, reference)).toBeLessThan(1e-6);
  });
});

describe('BatchNorm gradient', () => {
  beforeAll(async () => {
    registerBatchNormGradient();
    await tf.setBackend('cpu');
  });

  /** ∂/∂(x, scale, offset[, through mean and variance]) of sum(batchNorm(x) · r) under `config`. */
  function gradients(config: tf.GradConfig, batchStatistics: boolean): tf.Tensor[] {
    const previous = tf.getGradient(tf.FusedBatchNorm);
    tf.registerGradient(config);
    try {
      return tf.tidy(() => {
        const x = random([2, 4, 3, 6], 11);
        const scale = random([6], 12);
        const offset = random([6], 13);
        const movingMean = random([6], 14);
        const movingVariance = tf.add(tf.abs(random([6], 15)), 0.5);
        const r = random(x.shape, 16);
        const loss = (xx: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
          const { mean, variance } = batchStatistics ? tf.moments(xx, [0, 1, 2]) : { mean: movingMean, variance: movingVariance };
          return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, o, s, 1e-3), r));
        };
        return tf.grads(loss)([x, scale, offset]);
      });
    } finally {
      tf.registerGradient(previous);
    }
  }

  it.each([
    ['inference mode (moving statistics)', false],
    ['batch statistics (gradients through the mean and variance)', true],
  ])('gives tfjs-core’s gradients in %s', (_name, batchStatistics) => {
    const ours = gradients(tf.getGradient(tf.FusedBatchNorm), batchStatistics);
    const expected = gradients(tfjsBatchNormGradient, batchStatistics);
    ours.forEach((grad, i) => expect(relativeMaxError(grad, expected[i]!)).toBeLessThan(RELATIVE_TOLERANCE));
    tf.dispose([...ours, ...expected]);
  });

  it('tiles nothing: in inference mode the input gradient is one multiply by a per-channel scale', async () => {
    const x = random([2, 4, 3, 6], 21);
    const kernels = await kernelsRun(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.batchNorm(xx, tf.zeros([6]), tf.ones([6]), tf.zeros([6]), tf.ones([6]))))(x));
    expect(kernels.get('Tile')).toBeUndefined();
    x.dispose();
  });
});

describe('on the real blocks', () => {
  let net: SegmentedResNet50;

  beforeAll(async () => {
    net = segmentResNet50((await loadRealModel()).model);
    registerBatchNormGradient();
    registerReluGradient();
  });

  it('every conv layer of ResNet50 takes the trainable path', () => {
    const convs = [net.stem, ...net.blocks].flatMap((s) => s.layers.filter(({ layer }) => layer.getClassName() === 'Conv2D'));
    expect(convs.length).toBe(53);
    expect(convs.every((c) => c.conv !== undefined)).toBe(true);
  });

  it('runs a block in inference mode folded: the folded inference path’s output bit for bit, the layers’ output and gradients to 1e-5', () => {
    const block = net.blocks[13]!; // res5a: its branch2a and shortcut convs read the block's input
    const x = tf.relu(random([1, 4, 4, 1024], 31));
    const r = random([1, 2, 2, 2048], 32);
    const variables = block.layers.flatMap(({ layer }) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
    const trained = tf.tidy(() => runTrainableSegment(block, x, { batchStatistics: false, inputNeedsGradient: true }));
    expect(trained.dataSync()).toEqual(tf.tidy(() => runFoldedSegment(block, x).dataSync()));
    const layers = tf.tidy(() => runSegmentLayers(block, x, false));
    expect(relativeMaxError(trained, layers)).toBeLessThan(RELATIVE_TOLERANCE);
    const ours = tf.variableGrads(() => tf.sum(tf.mul(runTrainableSegment(block, x, { batchStatistics: false, inputNeedsGradient: true }), r)) as tf.Scalar, variables);
    const reference = tf.variableGrads(() => tf.sum(tf.mul(runSegmentLayers(block, x, false), r)) as tf.Scalar, variables);
    const errors = variables.map((v) => [v.name, relativeMaxError(ours.grads[v.name]!, reference.grads[v.name]!)] as const);
    expect(errors).toHaveLength(4 * 4); // four convolutions (kernel, bias), each with its BatchNorm (γ, β)
    expect(errors.filter(([, error]) => !(error < RELATIVE_TOLERANCE))).toEqual([]);
    tf.dispose([x, r, trained, layers, ours.value, reference.value, ...Object.values(ours.grads), ...Object.values(reference.grads)]);
  });

  it('skips the input gradient of the layers that read a cached input, and runs no BatchNorm, tile or step kernel', async () => {
    const block = net.blocks[13]!;
    const x = tf.relu(random([1, 4, 4, 1024], 33));
    const variables = block.layers.flatMap(({ layer }) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
    const loss = (batchStatistics: boolean) => () => tf.sum(tf.square(runTrainableSegment(block, x, { batchStatistics, inputNeedsGradient: false }))) as tf.Scalar;
    const convs = block.layers.filter((l) => l.conv).length;
    for (const batchStatistics of [false, true]) {
      const kernels = await kernelsRun(() => tf.variableGrads(loss(batchStatistics), variables).grads);
      // All convs but the two reading the input (branch2a, branch1) need an input gradient.
      expect(kernels.get(tf.Conv2DBackpropInput)).toBe(convs - 2);
      expect(kernels.get(tf.Conv2DBackpropFilter)).toBe(convs);
      expect(kernels.get('Tile')).toBeUndefined();
      expect(kernels.get(tf.Step)).toBeUndefined();
      expect(kernels.has(tf.FusedBatchNorm)).toBe(batchStatistics); // folded in inference mode
    }
    x.dispose();
  });

  it('computes no input gradient for the stem’s convolution, which reads padded pixels', async () => {
    const pixels = tf.randomNormal([1, 32, 32, 3]);
    const variables = net.stem.layers.flatMap(({ layer }) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
    const loss = () => tf.sum(runTrainableSegment(net.stem, pixels, { batchStatistics: false, inputNeedsGradient: false })) as tf.Scalar;
    const kernels = await kernelsRun(() => tf.variableGrads(loss, variables).grads);
    expect(kernels.get(tf.Conv2DBackpropInput)).toBeUndefined();
    expect(kernels.get(tf.Conv2DBackpropFilter)).toBe(1);
    pixels.dispose();
  });
});
