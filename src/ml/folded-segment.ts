// A segment in inference mode with each BatchNorm folded into the convolution before it, and the
// ReLU after it fused into the same call: conv(x, W·s) + (b − mean)·s + β with s = γ/√(var + ε),
// one XNNPACK convolution (on the wasm thread pool) where the layers make three passes, two of
// them single-threaded. The folded weights are made once and kept until a weight they came from
// changes (a variable gets new data when it is assigned), so training and inference can share them.

import * as tf from '@tensorflow/tfjs';
import type { Segment } from './segments';
import type { Conv2DSpec } from './trainable-conv2d';

type Layer = Segment['layers'][number]['layer'];

type Step =
  | { kind: 'layer'; layer: Layer; inputs: string[] }
  | { kind: 'conv'; input: string; output: string; spec: Conv2DSpec; relu: boolean; kernel: tf.Tensor4D; bias: tf.Tensor1D };

interface Plan {
  steps: Step[];
  /** The weights' data the folded tensors were made from: a new one means rebuild. */
  sources: object[];
}

const plans = new WeakMap<Segment, Plan>();

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

function buildPlan(segment: Segment): Plan {
  const readers = new Map<string, number>([[segment.outputName, 1]]);
  for (const { inputs } of segment.layers) for (const name of inputs) readers.set(name, (readers.get(name) ?? 0) + 1);
  const readBy = (name: string) => segment.layers.filter(({ inputs }) => inputs.includes(name));
  const folded = new Set<string>();
  const steps: Step[] = [];
  for (const { layer, inputs, conv } of segment.layers) {
    if (folded.has(layer.name)) continue;
    const next = readBy(layer.name);
    const bn = conv && readers.get(layer.name) === 1 && next.length === 1 ? next[0]! : null;
    const norm = bn ? foldableBatchNorm(bn.layer) : null;
    if (!conv || !bn || !norm) {
      steps.push({ kind: 'layer', layer, inputs });
      continue;
    }
    const after = readBy(bn.layer.name);
    const relu =
      readers.get(bn.layer.name) === 1 &&
      after.length === 1 &&
      after[0]!.layer.getClassName() === 'Activation' &&
      after[0]!.layer.getConfig().activation === 'relu';
    const last = relu ? after[0]!.layer.name : bn.layer.name;
    folded.add(bn.layer.name);
    if (relu) folded.add(last);
    const [kernel, bias] = tf.tidy(() => {
      const scale = tf.mul(weight(bn.layer, 'gamma')!, tf.rsqrt(tf.add(weight(bn.layer, 'moving_variance')!, norm.epsilon))); // [outC]
      const convBias = weight(layer, 'bias') ?? tf.zeros(scale.shape);
      return [
        tf.keep(tf.mul(weight(layer, 'kernel')!, scale) as tf.Tensor4D), // [kh, kw, inC, outC]
        tf.keep(tf.add(tf.mul(tf.sub(convBias, weight(bn.layer, 'moving_mean')!), scale), weight(bn.layer, 'beta')!) as tf.Tensor1D), // [outC]
      ];
    });
    steps.push({ kind: 'conv', input: inputs[0]!, output: last, spec: conv, relu, kernel, bias });
  }
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
