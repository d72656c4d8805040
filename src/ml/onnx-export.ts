// A run's classifier as one ONNX file, for the serving stacks that read ONNX (ONNX Runtime,
// TensorRT, OpenVINO, Core ML converters). The graph is translated layer by layer from the
// classifier's Keras topology (the one the TF.js zip writes), with BatchNorm folded into the
// convolution before it; the protobuf messages are onnx-proto's (ONNX's own onnx.proto compiled
// by protobufjs).
//
// Input `input`: [N, H, W, 3] float32, channels-last and already prepared as preprocessing.json
// says (caffe: BGR, ImageNet mean subtracted, 0..255), the same tensor the TF.js model takes; the
// graph transposes it to the channels-first layout ONNX's operators want. Output `probabilities`:
// [N, classes], softmax. Class names and the preprocessing are in the model's metadata.

import { onnx } from 'onnx-proto';
import { LabError } from '../core/errors';
import { preprocessingJson } from '../core/preprocess-spec';
import { classifierTopology, classifierWeights } from './classifier-zip';
import type { KerasLayerJson, KerasTopology } from './model-loader';
import type { RunModel } from './run-model';

export const ONNX_OPSET = 13;
/** The IR version that goes with opset 13 (ONNX 1.8). */
const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Spatial size and channels of a tensor of the graph (channels-first after the input's transpose). */
interface Shape {
  channels: number;
  height: number;
  width: number;
}

/** The Keras layer each layer's output feeds, by name, from the topology's inbound nodes. */
function inputsOf(layer: KerasLayerJson): string[] {
  const nodes = layer.inbound_nodes as [string, number, number, unknown][][];
  if (nodes.length > 1) throw new LabError('model/incompatible', `Layer ${layer.name} is shared between several inputs, which the ONNX export does not handle.`);
  return (nodes[0] ?? []).map(([name]) => name);
}

function pair(value: unknown, layer: string, what: string): [number, number] {
  const list = Array.isArray(value) ? value : [value, value];
  if (list.length !== 2 || !list.every((v) => Number.isInteger(v))) throw new LabError('model/incompatible', `Layer ${layer} has a ${what} of ${JSON.stringify(value)}, which the ONNX export does not handle.`);
  return list as [number, number];
}

/** ONNX pads [top, left, bottom, right] for Keras' 'valid' or 'same' (TensorFlow puts the odd pixel at the end). */
function padsFor(padding: unknown, input: Shape, kernel: [number, number], strides: [number, number], layer: string): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new LabError('model/incompatible', `Layer ${layer} has padding '${String(padding)}', which the ONNX export does not handle.`);
  const side = (size: number, k: number, s: number) => {
    const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  };
  const [top, bottom] = side(input.height, kernel[0], strides[0]);
  const [left, right] = side(input.width, kernel[1], strides[1]);
  return [top, left, bottom, right];
}

function outputSize(size: number, k: number, s: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - k) / s) + 1;
}

const attribute = {
  ints: (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: AttributeType.INTS, ints }),
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: AttributeType.INT, i }),
  float: (name: string, f: number): onnx.IAttributeProto => ({ name, type: AttributeType.FLOAT, f }),
};

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** Keras' conv kernel [kh, kw, in, out] as ONNX's [out, in, kh, kw], each output channel scaled by `scale`. */
function convKernel(kernel: Float32Array, [kh, kw, cin, cout]: number[], scale: Float32Array | null): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh!; y++) {
    for (let x = 0; x < kw!; x++) {
      for (let i = 0; i < cin!; i++) {
        const from = ((y * kw! + x) * cin! + i) * cout!;
        for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + y) * kw! + x] = kernel[from + o]! * (scale ? scale[o]! : 1);
      }
    }
  }
  return out;
}

export interface OnnxExportInput {
  model: RunModel;
  /** The topology the model's network came from (as for the TF.js zip). */
  baseTopology: KerasTopology;
  /** Written into the metadata as `run`, as run.json holds it; null leaves it out. */
  runJson: unknown;
}

/** The classifier as ONNX bytes (opset 13). */
export async function exportOnnx({ model, baseTopology, runJson }: OnnxExportInput): Promise<Uint8Array> {
  const { sizePx } = model.spec;
  const topology = classifierTopology(baseTopology, model.baseNetwork.blocks.at(-1)!.outputName, sizePx, model.numClasses);
  const weights = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const { name, tensor } of classifierWeights(model)) weights.set(name, { values: (await tensor.data()) as Float32Array, shape: tensor.shape });
  const weight = (layer: string, name: string) => {
    const found = weights.get(`${layer}/${name}`);
    if (!found) throw new LabError('model/incompatible', `The model has no weight ${layer}/${name} for the ONNX export.`);
    return found;
  };
  const optionalWeight = (layer: string, name: string) => weights.get(`${layer}/${name}`) ?? null;

  const layers = topology.model_config.config.layers;
  const consumers = new Map<string, string[]>();
  for (const layer of layers) for (const input of inputsOf(layer)) consumers.set(input, [...(consumers.get(input) ?? []), layer.name]);
  const byName = new Map(layers.map((layer) => [layer.name, layer]));

  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  /** The ONNX tensor and shape each Keras layer's output became. */
  const outputs = new Map<string, { tensor: string; shape: Shape | null }>();
  /** BatchNorm layers folded into the convolution before them: they output what the convolution does. */
  const folded = new Set<string>();

  const batchNormScale = (bn: KerasLayerJson, channels: number) => {
    const epsilon = Number(bn.config.epsilon ?? 1e-3);
    const gamma = optionalWeight(bn.name, 'gamma')?.values;
    const beta = optionalWeight(bn.name, 'beta')?.values;
    const mean = weight(bn.name, 'moving_mean').values;
    const variance = weight(bn.name, 'moving_variance').values;
    const scale = new Float32Array(channels);
    const shift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + epsilon);
      shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!;
    }
    return { scale, shift, epsilon };
  };

  for (const layer of layers) {
    const inputs = inputsOf(layer).map((name) => {
      const found = outputs.get(name);
      if (!found) throw new LabError('model/incompatible', `Layer ${layer.name} reads ${name}, which comes later in the topology.`);
      return found;
    });
    const input = inputs[0];
    const shape = input?.shape ?? null;
    const out = layer.name;
    const { config } = layer;
    if (config.data_format !== undefined && config.data_format !== 'channels_last') {
      throw new LabError('model/incompatible', `Layer ${layer.name} is ${String(config.data_format)}; the ONNX export reads channels-last Keras models.`);
    }
    switch (layer.class_name) {
      case 'InputLayer':
        nodes.push({ opType: 'Transpose', name: 'input_to_nchw', input: [ONNX_INPUT], output: [out], attribute: [attribute.ints('perm', [0, 3, 1, 2])] });
        outputs.set(out, { tensor: out, shape: { channels: 3, height: sizePx, width: sizePx } });
        break;
      case 'ZeroPadding2D': {
        const padding = Array.isArray(config.padding) ? config.padding : [config.padding, config.padding];
        const [top, bottom] = pair(padding[0], layer.name, 'padding');
        const [left, right] = pair(padding[1], layer.name, 'padding');
        const pads = `${out}/pads`;
        initializers.push({ name: pads, dims: [8], dataType: DataType.INT64, int64Data: [0, 0, top, left, 0, 0, bottom, right] });
        nodes.push({ opType: 'Pad', name: out, input: [input!.tensor, pads], output: [out], attribute: [] });
        outputs.set(out, { tensor: out, shape: { channels: shape!.channels, height: shape!.height + top + bottom, width: shape!.width + left + right } });
        break;
      }
      case 'Conv2D': {
        const kernelSize = pair(config.kernel_size, layer.name, 'kernel size');
        const strides = pair(config.strides ?? 1, layer.name, 'stride');
        const dilation = pair(config.dilation_rate ?? 1, layer.name, 'dilation');
        if (dilation[0] !== 1 || dilation[1] !== 1) throw new LabError('model/incompatible', `Layer ${layer.name} is dilated, which the ONNX export does not handle.`);
        if ((config.groups ?? 1) !== 1) throw new LabError('model/incompatible', `Layer ${layer.name} is a grouped convolution, which the ONNX export does not handle.`);
        const kernel = weight(layer.name, 'kernel');
        const channels = kernel.shape[3]!;
        const bias = config.use_bias === false ? new Float32Array(channels) : Float32Array.from(weight(layer.name, 'bias').values);
        // The BatchNorm this convolution alone feeds is folded into its kernel and bias.
        const next = consumers.get(layer.name) ?? [];
        const bn = next.length === 1 ? byName.get(next[0]!) : undefined;
        let scale: Float32Array | null = null;
        if (bn?.class_name === 'BatchNormalization') {
          const folding = batchNormScale(bn, channels);
          scale = folding.scale;
          for (let c = 0; c < channels; c++) bias[c] = bias[c]! * folding.scale[c]! + folding.shift[c]!;
          folded.add(bn.name);
        }
        const pads = padsFor(config.padding, shape!, kernelSize, strides, layer.name);
        initializers.push(floatTensor(`${out}/kernel`, [channels, kernel.shape[2]!, ...kernelSize], convKernel(kernel.values, kernel.shape, scale)));
        initializers.push(floatTensor(`${out}/bias`, [channels], bias));
        const activation = config.activation ?? 'linear';
        if (activation !== 'linear') throw new LabError('model/incompatible', `Layer ${layer.name} has a fused ${String(activation)} activation, which the ONNX export does not handle.`);
        nodes.push({
          opType: 'Conv',
          name: out,
          input: [input!.tensor, `${out}/kernel`, `${out}/bias`],
          output: [out],
          attribute: [attribute.ints('kernel_shape', kernelSize), attribute.ints('strides', strides), attribute.ints('pads', pads), attribute.ints('dilations', [1, 1])],
        });
        const result: Shape = {
          channels,
          height: outputSize(shape!.height, kernelSize[0], strides[0], pads[0]!, pads[2]!),
          width: outputSize(shape!.width, kernelSize[1], strides[1], pads[1]!, pads[3]!),
        };
        outputs.set(out, { tensor: out, shape: result });
        if (bn && folded.has(bn.name)) outputs.set(bn.name, { tensor: out, shape: result });
        break;
      }
      case 'BatchNormalization': {
        if (folded.has(layer.name)) break;
        const axis = config.axis;
        if (!(axis === 3 || axis === -1 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === 3 || axis[0] === -1)))) {
          throw new LabError('model/incompatible', `Layer ${layer.name} normalizes axis ${JSON.stringify(axis)}; the ONNX export handles the channel axis only.`);
        }
        const { scale, shift } = batchNormScale(layer, shape!.channels);
        // y = x · scale + shift, per channel: a BatchNormalization with mean 0 and variance 1 − ε would
        // do the same, but Mul and Add say it without the round trip through ε.
        initializers.push(floatTensor(`${out}/scale`, [shape!.channels, 1, 1], scale), floatTensor(`${out}/shift`, [shape!.channels, 1, 1], shift));
        nodes.push({ opType: 'Mul', name: `${out}/mul`, input: [input!.tensor, `${out}/scale`], output: [`${out}/scaled`] });
        nodes.push({ opType: 'Add', name: out, input: [`${out}/scaled`, `${out}/shift`], output: [out] });
        outputs.set(out, { tensor: out, shape });
        break;
      }
      case 'Activation': {
        const kind = config.activation;
        if (kind === 'relu') nodes.push({ opType: 'Relu', name: out, input: [input!.tensor], output: [out] });
        else if (kind === 'softmax') nodes.push({ opType: 'Softmax', name: out, input: [input!.tensor], output: [out], attribute: [attribute.int('axis', 1)] });
        else throw new LabError('model/incompatible', `Layer ${layer.name} is a ${String(kind)} activation, which the ONNX export does not handle.`);
        outputs.set(out, { ...input!, tensor: out });
        break;
      }
      case 'MaxPooling2D': {
        const kernelSize = pair(config.pool_size, layer.name, 'pool size');
        const strides = pair(config.strides ?? config.pool_size, layer.name, 'stride');
        const pads = padsFor(config.padding, shape!, kernelSize, strides, layer.name);
        nodes.push({ opType: 'MaxPool', name: out, input: [input!.tensor], output: [out], attribute: [attribute.ints('kernel_shape', kernelSize), attribute.ints('strides', strides), attribute.ints('pads', pads)] });
        outputs.set(out, {
          tensor: out,
          shape: { channels: shape!.channels, height: outputSize(shape!.height, kernelSize[0], strides[0], pads[0]!, pads[2]!), width: outputSize(shape!.width, kernelSize[1], strides[1], pads[1]!, pads[3]!) },
        });
        break;
      }
      case 'Add': {
        if (inputs.length !== 2) throw new LabError('model/incompatible', `Layer ${layer.name} adds ${inputs.length} tensors; the ONNX export handles two.`);
        nodes.push({ opType: 'Add', name: out, input: inputs.map((i) => i.tensor), output: [out] });
        outputs.set(out, { tensor: out, shape });
        break;
      }
      case 'GlobalAveragePooling2D':
        nodes.push({ opType: 'GlobalAveragePool', name: `${out}/pool`, input: [input!.tensor], output: [`${out}/pooled`] });
        nodes.push({ opType: 'Flatten', name: out, input: [`${out}/pooled`], output: [out], attribute: [attribute.int('axis', 1)] });
        outputs.set(out, { tensor: out, shape: null });
        break;
      case 'Dense': {
        const kernel = weight(layer.name, 'kernel');
        const units = kernel.shape[1]!;
        const bias = config.use_bias === false ? new Float32Array(units) : weight(layer.name, 'bias').values;
        initializers.push(floatTensor(`${out}/kernel`, kernel.shape, kernel.values), floatTensor(`${out}/bias`, [units], bias));
        const activation = config.activation ?? 'linear';
        const linear = activation === 'linear' ? out : `${out}/logits`;
        nodes.push({ opType: 'Gemm', name: `${out}/gemm`, input: [input!.tensor, `${out}/kernel`, `${out}/bias`], output: [linear] });
        if (activation === 'softmax') nodes.push({ opType: 'Softmax', name: out, input: [linear], output: [out], attribute: [attribute.int('axis', 1)] });
        else if (activation !== 'linear') throw new LabError('model/incompatible', `Layer ${layer.name} has a ${String(activation)} activation, which the ONNX export does not handle.`);
        outputs.set(out, { tensor: out, shape: null });
        break;
      }
      default:
        throw new LabError('model/incompatible', `Layer ${layer.name} is a ${layer.class_name}, which the ONNX export does not handle.`);
    }
  }

  // The last layer (the classifier) is the output, under the name serving code looks for.
  const last = outputs.get(layers.at(-1)!.name)!;
  nodes.push({ opType: 'Identity', name: ONNX_OUTPUT, input: [last.tensor], output: [ONNX_OUTPUT] });
  const dims = (values: (number | string)[]): onnx.ITensorShapeProto => ({ dim: values.map((v) => (typeof v === 'string' ? { dimParam: v } : { dimValue: v })) });
  const modelProto: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'Finetune Lab',
    producerVersion: '1',
    docString: 'ResNet50 fine-tuned in Finetune Lab. Input: [N, H, W, 3] float32, channels-last, prepared as the metadata\'s preprocessing says. Output: softmax probabilities over the classes in the metadata\'s labels.',
    graph: {
      name: 'finetune_lab_classifier',
      node: nodes,
      initializer: initializers,
      input: [{ name: ONNX_INPUT, type: { tensorType: { elemType: DataType.FLOAT, shape: dims(['N', sizePx, sizePx, 3]) } } }],
      output: [{ name: ONNX_OUTPUT, type: { tensorType: { elemType: DataType.FLOAT, shape: dims(['N', model.numClasses]) } } }],
    },
    metadataProps: [
      { key: 'labels', value: JSON.stringify(model.classNames) },
      { key: 'preprocessing', value: JSON.stringify(preprocessingJson(model.spec)) },
      { key: 'input_layout', value: 'NHWC' },
      ...(runJson === null ? [] : [{ key: 'run', value: JSON.stringify(runJson) }]),
    ],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(modelProto)).finish();
}
