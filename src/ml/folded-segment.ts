// A segment in inference mode with each BatchNorm folded into the convolution before it, and the
// ReLU after it fused into the same call: conv(x, W·s) + (b − mean)·s + β with s = γ/√(var + ε),
// one convolution where the layers make three passes. Training in inference mode folds the same
// way, with the same arithmetic (trainable-conv-batchnorm.ts), so both give the same bits. The
// folded weights are made once and kept until a weight they came from
// changes (a variable gets new data when it is assigned), so training and inference can share them.

import * as tf from '@tensorflow/tfjs';
import { scaleChannels } from './channel-scale';
import type { Segment } from './segments';
import type { Conv2DSpec } from './trainable-conv2d';

type Layer = Segment['layers'][number]['layer'];
type SegmentLayer = Segment['layers'][number];

/** A convolution, the BatchNorm that alone reads it, and the ReLU that alone reads that (if any). */
export interface ConvBatchNormUnit {
  conv: SegmentLayer & { conv: Conv2DSpec };
  batchNorm: Layer;
  epsilon: number;
  relu: boolean;
  /** The unit's last layer: the BatchNorm, or the ReLU after it. */
  output: string;
}

/** A segment's layers in order, each foldable convolution → BatchNorm (→ ReLU) taken as one unit. */
export type SegmentStep = { kind: 'layer'; entry: SegmentLayer } | ({ kind: 'unit' } & ConvBatchNormUnit);

/** The four weights of a BatchNormalization layer, read now, and its epsilon. */
export interface BatchNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  movingMean: tf.Tensor1D;
  movingVariance: tf.Tensor1D;
  epsilon: number;
}

/** A convolution with a BatchNorm in inference mode folded in, and the per-channel terms it was made with. */
export interface FoldedConv {
  /** W·s, [kh, kw, inC, outC]. */
  kernel: tf.Tensor4D;
  /** (b − mean)·s + β, [outC]. */
  bias: tf.Tensor1D;
  /** s = γ/√(var + ε). */
  scale: tf.Tensor1D;
  /** 1/√(var + ε). */
  inverseStd: tf.Tensor1D;
  /** b − mean (b: the convolution's bias, or 0). */
  centredBias: tf.Tensor1D;
}

interface Plan {
  steps: ({ kind: 'layer'; layer: Layer; inputs: string[] } | { kind: 'conv'; input: string; output: string; spec: Conv2DSpec; relu: boolean; kernel: tf.Tensor4D; bias: tf.Tensor1D })[];
  /** The weights' data the folded tensors were made from: a new one means rebuild. */
  sources: object[];
}

const plans = new WeakMap<Segment, Plan>();
const stepsOf = new WeakMap<Segment, SegmentStep[]>();

function weight(layer: Layer, suffix: string): tf.Tensor | undefined {
  return layer.weights.find((w) => w.originalName.endsWith(suffix))?.read();
}

/** The data of every weight of the segment, in a fixed order. */
function sourcesOf(segment: Segment): object[] {
  return segment.layers.flatMap(({ layer }) => layer.weights.map((w) => w.read().dataId));
}

/** BatchNormalization over the channel axis, with its four weights: what folding needs. */
function foldableBatchNorm(layer: Layer): { epsilon: number } | null {
  if (layer.getClassName() !== 'BatchNormalization') return null;
  const config = layer.getConfig();
  const axis = Array.isArray(config.axis) ? config.axis[0] : config.axis;
  const channelsLast = axis === -1 || axis === 3;
  const complete = ['gamma', 'beta', 'moving_mean', 'moving_variance'].every((suffix) => weight(layer, suffix));
  return channelsLast && complete ? { epsilon: config.epsilon as number } : null;
}

function findSteps(segment: Segment): SegmentStep[] {
  const readers = new Map<string, number>([[segment.outputName, 1]]);
  for (const { inputs } of segment.layers) for (const name of inputs) readers.set(name, (readers.get(name) ?? 0) + 1);
  const readBy = (name: string) => segment.layers.filter(({ inputs }) => inputs.includes(name));
  const folded = new Set<string>();
  const steps: SegmentStep[] = [];
  for (const entry of segment.layers) {
    const { layer, conv } = entry;
    if (folded.has(layer.name)) continue;
    const next = readBy(layer.name);
    const bn = conv && readers.get(layer.name) === 1 && next.length === 1 ? next[0]! : null;
    const norm = bn ? foldableBatchNorm(bn.layer) : null;
    if (!conv || !bn || !norm) {
      steps.push({ kind: 'layer', entry });
      continue;
    }
    const after = readBy(bn.layer.name);
    const relu =
      readers.get(bn.layer.name) === 1 &&
      after.length === 1 &&
      after[0]!.layer.getClassName() === 'Activation' &&
      after[0]!.layer.getConfig().activation === 'relu';
    const output = relu ? after[0]!.layer.name : bn.layer.name;
    folded.add(bn.layer.name);
    if (relu) folded.add(output);
    steps.push({ kind: 'unit', conv: { ...entry, conv }, batchNorm: bn.layer, epsilon: norm.epsilon, relu, output });
  }
  return steps;
}

/** The segment's steps (found once per segment: its layers never change). */
export function segmentSteps(segment: Segment): SegmentStep[] {
  let steps = stepsOf.get(segment);
  if (!steps) stepsOf.set(segment, (steps = findSteps(segment)));
  return steps;
}

/** The BatchNorm's weights as they are now. */
export function batchNormWeights(unit: ConvBatchNormUnit): BatchNormWeights {
  const read = (suffix: string) => weight(unit.batchNorm, suffix) as tf.Tensor1D;
  return { gamma: read('gamma'), beta: read('beta'), movingMean: read('moving_mean'), movingVariance: read('moving_variance'), epsilon: unit.epsilon };
}

/** conv(x, W) + b then BatchNorm in inference mode, as one convolution (the caller owns the tensors). */
export function foldConvBatchNorm(kernel: tf.Tensor4D, convBias: tf.Tensor1D | undefined, bn: BatchNormWeights): FoldedConv {
  const [folded, bias, scale, inverseStd, centredBias] = tf.tidy(() => {
    const inverseStd = tf.rsqrt(tf.add(bn.movingVariance, bn.epsilon));
    const scale = tf.mul(bn.gamma, inverseStd) as tf.Tensor1D;
    const centredBias = tf.sub(convBias ?? tf.zerosLike(bn.movingMean), bn.movingMean);
    return [scaleChannels(kernel, scale), tf.add(tf.mul(centredBias, scale), bn.beta), scale, inverseStd, centredBias];
  }) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return { kernel: folded, bias, scale, inverseStd, centredBias };
}

function buildPlan(segment: Segment): Plan {
  const steps = segmentSteps(segment).map((step): Plan['steps'][number] => {
    if (step.kind === 'layer') return { kind: 'layer', layer: step.entry.layer, inputs: step.entry.inputs };
    const folded = foldConvBatchNorm(weight(step.conv.layer, 'kernel') as tf.Tensor4D, weight(step.conv.layer, 'bias') as tf.Tensor1D | undefined, batchNormWeights(step));
    tf.dispose([folded.scale, folded.inverseStd, folded.centredBias]);
    // Kept: a plan outlives the tidy it may be built in.
    return { kind: 'conv', input: step.conv.inputs[0]!, output: step.output, spec: step.conv.conv, relu: step.relu, kernel: tf.keep(folded.kernel), bias: tf.keep(folded.bias) };
  });
  return { steps, sources: sourcesOf(segment) };
}

function release(plan: Plan | undefined): void {
  for (const step of plan?.steps ?? []) if (step.kind === 'conv') tf.dispose([step.kernel, step.bias]);
}

function planFor(segment: Segment): Plan {
  const plan = plans.get(segment);
  const sources = sourcesOf(segment);
  if (plan && plan.sources.length === sources.length && plan.sources.every((source, i) => source === sources[i])) return plan;
  release(plan);
  const fresh = buildPlan(segment);
  plans.set(segment, fresh);
  return fresh;
}

/** Runs `segment` in inference mode with its BatchNorms folded; the caller owns the result. */
export function runFoldedSegment(segment: Segment, input: tf.Tensor): tf.Tensor {
  const plan = planFor(segment);
  return tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor>([[segment.inputName, input]]);
    for (const step of plan.steps) {
      if (step.kind === 'conv') {
        const { strides, padding } = step.spec;
        const x = outputs.get(step.input)! as tf.Tensor4D;
        outputs.set(step.output, tf.fused.conv2d({ x, filter: step.kernel, bias: step.bias, strides, pad: padding, activation: step.relu ? 'relu' : 'linear' }));
      } else {
        const args = step.inputs.map((name) => outputs.get(name)!);
        outputs.set(step.layer.name, step.layer.apply(args.length === 1 ? args[0]! : args, { training: false }) as tf.Tensor);
      }
    }
    return outputs.get(segment.outputName)!;
  });
}

/** Frees the folded weights kept for these segments (when their model goes). */
export function releaseFoldedWeights(segments: readonly Segment[]): void {
  for (const segment of segments) {
    release(plans.get(segment));
    plans.delete(segment);
  }
}
