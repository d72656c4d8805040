// Cuts the Keras ResNet50 into stem + 16 bottleneck blocks + ImageNet head, at block boundaries,
// and runs the segments eagerly. Running them one after another is the original network (tested
// to 1e-4); running them separately is what lets the engine freeze a prefix, cache its output and
// choose per segment whether BatchNorm uses batch or moving statistics.

import * as tf from '@tensorflow/tfjs';
import { LabError } from '../core/errors';
import { batchNormWeights, runFoldedSegment, segmentSteps, type SegmentStep } from './folded-segment';
import { trainableConvBatchNorm } from './trainable-conv-batchnorm';
import { trainableConv2d, type Conv2DSpec } from './trainable-conv2d';

type Layer = tf.LayersModel['layers'][number];

export type Stage = 'stem' | 'res2' | 'res3' | 'res4' | 'res5' | 'head';

export interface SegmentLayer {
  layer: Layer;
  /** Names of the layers whose outputs feed this one, in call order. */
  inputs: string[];
  /** Conv2D layers (NHWC, dilation 1, no activation): what training needs to run it with its own gradient. */
  conv?: Conv2DSpec;
}

export interface Segment {
  /** 'stem', the block's Keras prefix ('res2a' … 'res5c'), or 'imagenet-head'. */
  name: string;
  stage: Stage;
  /** In topological order. */
  layers: SegmentLayer[];
  /** The layer whose output enters this segment ('input_1' for the stem). */
  inputName: string;
  /** The layer whose output leaves it. */
  outputName: string;
  /** Σ of its layers' output sizes for one image of the model's input size (what training keeps per image). */
  outputElements: number;
  /** The input size (px) outputElements is counted at. */
  referenceSizePx: number;
}

export interface SegmentedResNet50 {
  stem: Segment;
  /** The 16 bottleneck blocks, input side first: res2a … res5c. */
  blocks: Segment[];
  /** Global average pooling and the 1000-way softmax. */
  head: Segment;
}

export const RESNET50_BLOCK_COUNT = 16;

function inboundNames(layer: Layer): string[] {
  const node = layer.inboundNodes[0];
  return node ? node.inboundLayers.map((inbound) => inbound.name) : [];
}

function blockName(layers: SegmentLayer[]): string {
  const conv = layers.find(({ layer }) => layer.getClassName() === 'Conv2D');
  const match = conv?.layer.name.match(/^(res\d[a-z])_/);
  return match?.[1] ?? `block${layers[0]?.layer.name ?? ''}`;
}

function closeSegment(name: string, stage: Stage, layers: SegmentLayer[], inputName: string, referenceSizePx: number): Segment {
  const last = layers[layers.length - 1];
  if (!last) throw new LabError('model/incompatible', `Segment ${name} of the model is empty.`);
  const inside = new Set([inputName, ...layers.map(({ layer }) => layer.name)]);
  for (const { layer, inputs } of layers) {
    const outside = inputs.find((input) => !inside.has(input));
    if (outside) {
      throw new LabError('model/incompatible', `Layer ${layer.name} of segment ${name} reads ${outside} from outside its segment: the model is not cut at block boundaries.`);
    }
  }
  const outputElements = layers.reduce((sum, { layer }) => sum + (layer.outputShape as (number | null)[]).slice(1).reduce<number>((n, d) => n * (d ?? 1), 1), 0);
  return { name, stage, layers, inputName, outputName: last.layer.name, outputElements, referenceSizePx };
}

function convSpec(layer: Layer): Conv2DSpec | undefined {
  if (layer.getClassName() !== 'Conv2D') return undefined;
  const config = layer.getConfig();
  const pair = (value: unknown) => (Array.isArray(value) ? (value as number[]) : [value as number, value as number]);
  const [dilationHeight, dilationWidth] = pair(config.dilationRate ?? 1);
  const [strideHeight, strideWidth] = pair(config.strides ?? 1);
  const plain =
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    (config.activation ?? 'linear') === 'linear' &&
    (config.dataFormat ?? 'channelsLast') === 'channelsLast' &&
    (config.padding === 'same' || config.padding === 'valid') &&
    Boolean(layer.weights[0]?.originalName.endsWith('kernel')) &&
    layer.weights.length === (config.useBias ? 2 : 1);
  return plain ? { strides: [strideHeight!, strideWidth!], padding: config.padding as Conv2DSpec['padding'] } : undefined;
}

/** Cuts a loaded Keras ResNet50 into segments that share its layers (and so its weights). */
export function segmentResNet50(model: tf.LayersModel): SegmentedResNet50 {
  const [inputLayer, ...rest] = model.layers;
  if (!inputLayer || inputLayer.getClassName() !== 'InputLayer') {
    throw new LabError('model/incompatible', 'The model does not start with an input layer.');
  }
  let stem: Segment | null = null;
  const blocks: Segment[] = [];
  let current: SegmentLayer[] = [];
  let inputName = inputLayer.name;
  const referenceSizePx = (inputLayer as unknown as { batchInputShape: (number | null)[] }).batchInputShape[1] ?? 224;

  for (const layer of rest) {
    const inputs = inboundNames(layer);
    const conv = convSpec(layer);
    current.push(conv ? { layer, inputs, conv } : { layer, inputs });
    const closesStem = !stem && layer.getClassName() === 'MaxPooling2D';
    const closesBlock =
      stem !== null &&
      blocks.length < RESNET50_BLOCK_COUNT &&
      layer.getClassName() === 'Activation' &&
      inputs.length === 1 &&
      model.getLayer(inputs[0]!).getClassName() === 'Add';
    if (closesStem) {
      stem = closeSegment('stem', 'stem', current, inputName, referenceSizePx);
    } else if (closesBlock) {
      const name = blockName(current);
      blocks.push(closeSegment(name, `res${name.charAt(3)}` as Stage, current, inputName, referenceSizePx));
    } else {
      continue;
    }
    inputName = layer.name;
    current = [];
  }
  if (!stem || blocks.length !== RESNET50_BLOCK_COUNT || current.length === 0) {
    throw new LabError('model/incompatible', `Expected a stem, ${RESNET50_BLOCK_COUNT} blocks and a head; found ${stem ? 1 : 0}, ${blocks.length} and ${current.length} head layers.`);
  }
  return { stem, blocks, head: closeSegment('imagenet-head', 'head', current, inputName, referenceSizePx) };
}

/** Bytes of layer outputs one image of `sizePx` leaves in these segments (float32). */
export function activationBytesPerImage(segments: readonly Segment[], sizePx: number): number {
  return segments.reduce((sum, s) => sum + s.outputElements * (sizePx / s.referenceSizePx) ** 2 * 4, 0);
}

/** All segments in order: stem, blocks, head. */
export function allSegments(net: SegmentedResNet50): Segment[] {
  return [net.stem, ...net.blocks, net.head];
}

/**
 * Runs one segment on `input`. `training` selects BatchNorm's batch statistics (true) or moving
 * statistics (false, inference mode, with each BatchNorm folded into its convolution:
 * folded-segment.ts); the caller owns the returned tensor.
 */
export function runSegment(segment: Segment, input: tf.Tensor, training = false): tf.Tensor {
  return training ? runSegmentLayers(segment, input, true) : runFoldedSegment(segment, input);
}

/** Runs one segment layer by layer, as Keras defines it: the reference the faster paths are tested against. */
export function runSegmentLayers(segment: Segment, input: tf.Tensor, training: boolean): tf.Tensor {
  return tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor>([[segment.inputName, input]]);
    for (const { layer, inputs } of segment.layers) {
      const args = inputs.map((name) => outputs.get(name)!);
      const output = layer.apply(args.length === 1 ? args[0]! : args, { training }) as tf.Tensor;
      outputs.set(layer.name, output);
    }
    return outputs.get(segment.outputName)!;
  });
}

export interface TrainingPassOptions {
  /** BatchNorm on the batch's statistics (true) or its moving statistics (false, inference mode). */
  batchStatistics: boolean;
  /** False where the segment's input comes from outside the gradient (cached features, pixels): no input gradient is computed for the layers that read it. */
  inputNeedsGradient: boolean;
}

/**
 * Runs a segment whose weights train: its convolutions carry their own gradient. With BatchNorm on
 * its batch statistics, layer by layer, the same outputs as runSegmentLayers bit for bit
 * (trainable-conv2d.ts); in inference mode, each convolution → BatchNorm (→ ReLU) as one folded
 * op, the same outputs as runFoldedSegment bit for bit (trainable-conv-batchnorm.ts). The caller
 * owns the returned tensor.
 */
export function runTrainableSegment(segment: Segment, input: tf.Tensor, options: TrainingPassOptions): tf.Tensor {
  return tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor>([[segment.inputName, input]]);
    // Outputs the loss's gradient must flow back through: those downstream of a trainable weight
    // (or of the input, when it needs a gradient). The stem's convolution reads padded pixels.
    const needGradient = new Set<string>(options.inputNeedsGradient ? [segment.inputName] : []);
    const steps: SegmentStep[] = options.batchStatistics ? segment.layers.map((entry) => ({ kind: 'layer', entry })) : segmentSteps(segment);
    for (const step of steps) {
      if (step.kind === 'unit') {
        const [kernel, bias] = step.conv.layer.weights.map((weight) => weight.read());
        const input = step.conv.inputs[0]!;
        const output = trainableConvBatchNorm({
          x: outputs.get(input)! as tf.Tensor4D,
          kernel: kernel as tf.Tensor4D,
          bias: (bias as tf.Tensor1D | undefined) ?? null,
          batchNorm: batchNormWeights(step),
          spec: step.conv.conv,
          relu: step.relu,
          inputNeedsGradient: needGradient.has(input),
        });
        const trains = step.conv.layer.trainableWeights.length > 0 || step.batchNorm.trainableWeights.length > 0;
        if (trains || needGradient.has(input)) needGradient.add(step.output);
        outputs.set(step.output, output);
        continue;
      }
      const { layer, inputs, conv } = step.entry;
      const args = inputs.map((name) => outputs.get(name)!);
      let output: tf.Tensor;
      if (conv) {
        const [kernel, bias] = layer.weights.map((weight) => weight.read());
        output = trainableConv2d(args[0] as tf.Tensor4D, kernel as tf.Tensor4D, (bias as tf.Tensor1D | undefined) ?? null, conv, needGradient.has(inputs[0]!));
      } else {
        output = layer.apply(args.length === 1 ? args[0]! : args, { training: options.batchStatistics }) as tf.Tensor;
      }
      if (layer.trainableWeights.length > 0 || inputs.some((name) => needGradient.has(name))) needGradient.add(layer.name);
      outputs.set(layer.name, output);
    }
    return outputs.get(segment.outputName)!;
  });
}

/** Runs segments one after another in inference mode; the caller owns the returned tensor. */
export function runSegments(segments: readonly Segment[], input: tf.Tensor): tf.Tensor {
  return tf.tidy(() => segments.reduce((x, segment) => runSegment(segment, x, false), input));
}
