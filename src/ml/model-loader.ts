// Loads the pretrained ResNet50 (TensorFlow.js layers format) from a ModelSource, checking what
// tfjs would otherwise fail on obscurely: a file that is not a layers model, a model that is not
// ResNet50, a shard that is missing or shorter than the manifest says.

import * as tf from '@tensorflow/tfjs';
import { LabError } from '../core/errors';
import type { ModelSource } from './model-source';

export interface PretrainedModel {
  model: tf.LayersModel;
  /** ImageNet class names by index, or null when labels.json was not supplied. */
  labels: string[] | null;
  /** Total bytes of weights read. */
  weightBytes: number;
  /** model.json's Keras topology as read: what an export of a model trained from this one starts from. */
  topology: KerasTopology;
}

/** The part of a Keras model config the lab reads and rewrites. */
export interface KerasTopology {
  model_config: { class_name: string; config: { layers: KerasLayerJson[]; input_layers: unknown; output_layers: unknown; name?: string } };
  [key: string]: unknown;
}

export interface KerasLayerJson {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

export interface LoadOptions {
  /** Called as bytes arrive, with a fraction from 0 to 1. */
  onProgress?: (fraction: number) => void;
}

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface LayersModelJson {
  format?: string;
  modelTopology: KerasTopology;
  weightsManifest: WeightsGroup[];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };
const IMAGENET_CLASSES = 1000;
const RESNET50_BLOCKS = 16;

function parseModelJson(bytes: ArrayBuffer): LayersModelJson {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new LabError('model/invalid', 'model.json is not valid JSON (is it the right file, and complete?).', 'model.json');
  }
  const candidate = json as Partial<LayersModelJson> | null;
  if (!candidate || typeof candidate !== 'object' || !candidate.modelTopology || !Array.isArray(candidate.weightsManifest)) {
    throw new LabError('model/invalid', 'model.json is not a TensorFlow.js layers model (it has no modelTopology and weightsManifest).', 'model.json');
  }
  if (candidate.format !== undefined && candidate.format !== 'layers-model') {
    throw new LabError('model/invalid', `model.json is a '${candidate.format}', not a layers model.`, 'model.json');
  }
  return candidate as LayersModelJson;
}

/** The topology must be the Keras ResNet50 this lab cuts into segments. */
function checkIsResNet50(json: LayersModelJson): void {
  const layers = json.modelTopology.model_config?.config?.layers ?? [];
  const names = new Set(layers.map((layer) => layer.name));
  const adds = layers.filter((layer) => layer.class_name === 'Add').length;
  if (!names.has('conv1') || !names.has('fc1000') || adds !== RESNET50_BLOCKS) {
    throw new LabError(
      'model/incompatible',
      `model.json is a layers model but not the Keras ResNet50 (expected conv1, fc1000 and ${RESNET50_BLOCKS} residual blocks; found ${layers.length} layers, ${adds} blocks).`,
      'model.json',
    );
  }
}

function expectedBytes(group: WeightsGroup): number {
  return group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? 4), 0);
}

async function readShards(source: ModelSource, groups: WeightsGroup[], onProgress?: (fraction: number) => void) {
  const expected = groups.reduce((sum, group) => sum + expectedBytes(group), 0);
  let received = 0;
  const readOne = async (path: string) => {
    const bytes = await source.read(path);
    received += bytes.byteLength;
    onProgress?.(Math.min(1, received / expected));
    return bytes;
  };
  const shards = await Promise.all(groups.map((group) => Promise.all(group.paths.map(readOne))));

  groups.forEach((group, g) => {
    const buffers = shards[g]!;
    const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
    const want = expectedBytes(group);
    if (total === want) return;
    // The converter writes equal shards but for the last: a differing one is the culprit.
    const full = Math.max(...buffers.map((b) => b.byteLength));
    const odd = buffers.findIndex((b, i) => i < buffers.length - 1 && b.byteLength !== full);
    const culprit = group.paths[odd >= 0 ? odd : buffers.length - 1]!;
    throw new LabError(
      'model/truncated',
      `The weight shards hold ${total.toLocaleString('en')} bytes but model.json lists ${want.toLocaleString('en')}: ${culprit} looks ${total < want ? 'truncated' : 'wrong'}. Reinstall the model (npm run setup).`,
      culprit,
    );
  });
  return { shards: shards.flat(), expected };
}

function concat(buffers: ArrayBuffer[], total: number): ArrayBuffer {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out.buffer;
}

async function readLabels(source: ModelSource): Promise<string[] | null> {
  let bytes: ArrayBuffer;
  try {
    bytes = await source.read('labels.json');
  } catch {
    return null;
  }
  try {
    const byIndex = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string> | string[];
    const labels = Array.from({ length: IMAGENET_CLASSES }, (_, i) => (byIndex as Record<string, string>)[i]);
    if (labels.some((label) => typeof label !== 'string')) throw new Error('not 1000 names');
    return (labels as string[]).map((label) => label.replaceAll('_', ' '));
  } catch {
    throw new LabError('model/invalid', 'labels.json is not a list of the 1000 ImageNet class names.', 'labels.json');
  }
}

/** Reads, checks and builds the pretrained ResNet50 from `source`. */
export async function loadPretrainedResNet50(source: ModelSource, options: LoadOptions = {}): Promise<PretrainedModel> {
  const json = parseModelJson(await source.read('model.json'));
  checkIsResNet50(json);
  const [{ shards, expected }, labels] = await Promise.all([readShards(source, json.weightsManifest, options.onProgress), readLabels(source)]);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: concat(shards, expected),
      }),
    );
  } catch (error) {
    throw new LabError('model/invalid', `tfjs could not build the model from ${source.description}: ${(error as Error).message}`, 'model.json', { cause: error });
  }
  return { model, labels, weightBytes: expected, topology: json.modelTopology };
}
