// A run's model as one zip that loads anywhere TensorFlow.js does: a layers model of the whole
// classifier (input → ResNet50 trunk with the trained weights → global average pooling → dense
// softmax; no dropout, nothing training-only), its class names, its preprocessing and the run's
// record; and the same zip read back into a RunModel that predicts and trains more.

import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { LabError } from '../core/errors';
import { preprocessingJson, specFromPreprocessingJson } from '../core/preprocess-spec';
import type { KerasLayerJson, KerasTopology } from './model-loader';
import { RunModel } from './run-model';
import { releaseFoldedWeights } from './folded-segment';
import { allSegments, segmentResNet50 } from './segments';
import { createHead } from './task-model';

export const CLASSIFIER_FORMAT = 'finetune-lab/tfjs-classifier';
export const CLASSIFIER_FORMAT_VERSION = 1;
/** The dense softmax layer's name in the exported model. */
export const CLASSIFIER_LAYER = 'classifier';
const POOL_LAYER = 'avg_pool';
/** The shard size tfjs's own converter writes. */
const SHARD_BYTES = 4 * 1024 * 1024;
const WEIGHTS_PREFIX = 'group1-shard';

export interface ExportedClassifier {
  model: RunModel;
  /** The topology the model's network came from (the pretrained model.json's, or an imported zip's). */
  baseTopology: KerasTopology;
  /** Written as run.json. */
  runJson: unknown;
}

/**
 * The classifier's topology: the base network's layers up to its last block, then global average
 * pooling and a dense softmax over the user's classes, at the run's input size.
 */
export function classifierTopology(base: KerasTopology, lastBlockOutput: string, sizePx: number, numClasses: number): KerasTopology {
  const layers = base.model_config.config.layers;
  const end = layers.findIndex((layer) => layer.name === lastBlockOutput);
  if (end < 0) throw new LabError('model/incompatible', `The model has no layer ${lastBlockOutput} to put the classifier on.`);
  const trunk = layers.slice(0, end + 1).map((layer): KerasLayerJson => {
    if (layer.class_name !== 'InputLayer') return layer;
    return { ...layer, config: { ...layer.config, batch_input_shape: [null, sizePx, sizePx, 3] } };
  });
  const inputName = trunk.find((layer) => layer.class_name === 'InputLayer')?.name;
  if (!inputName) throw new LabError('model/incompatible', 'The model has no input layer.');
  const pool: KerasLayerJson = {
    class_name: 'GlobalAveragePooling2D',
    name: POOL_LAYER,
    config: { name: POOL_LAYER, trainable: true, dtype: 'float32', data_format: 'channels_last' },
    inbound_nodes: [[[lastBlockOutput, 0, 0, {}]]],
  };
  const dense: KerasLayerJson = {
    class_name: 'Dense',
    name: CLASSIFIER_LAYER,
    config: {
      name: CLASSIFIER_LAYER,
      trainable: true,
      dtype: 'float32',
      units: numClasses,
      activation: 'softmax',
      use_bias: true,
      kernel_initializer: { class_name: 'Zeros', config: {} },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    inbound_nodes: [[[POOL_LAYER, 0, 0, {}]]],
  };
  return {
    ...base,
    model_config: {
      ...base.model_config,
      config: {
        ...base.model_config.config,
        name: 'finetune_lab_classifier',
        layers: [...trunk, pool, dense],
        input_layers: [[inputName, 0, 0]],
        output_layers: [[CLASSIFIER_LAYER, 0, 0]],
      },
    },
  };
}

/** The classifier's weights under the names tfjs gives them when it builds the topology (`layer/weight`). */
export function classifierWeights(model: RunModel): { name: string; tensor: tf.Tensor }[] {
  const base = model.baseNetwork;
  const own = model.allSegments();
  const trunk = [base.stem, ...base.blocks].flatMap((segment, s) =>
    segment.layers.flatMap(({ layer }, l) => layer.weights.map((weight, w) => ({ name: weight.originalName, tensor: own[s]!.layers[l]!.layer.weights[w]!.read() }))),
  );
  return [...trunk, { name: `${CLASSIFIER_LAYER}/kernel`, tensor: model.head.kernel }, { name: `${CLASSIFIER_LAYER}/bias`, tensor: model.head.bias }];
}

/** The zip: model.json + shards, labels.json, preprocessing.json, run.json. */
export async function exportClassifierZip(classifier: ExportedClassifier): Promise<Uint8Array> {
  return zipSync(await classifierFiles(classifier), { level: 6 });
}

/** The zip's files, for zips that hold more (the PyTorch project). */
export async function classifierFiles({ model, baseTopology, runJson }: ExportedClassifier): Promise<Zippable> {
  const topology = classifierTopology(baseTopology, model.baseNetwork.blocks.at(-1)!.outputName, model.spec.sizePx, model.numClasses);
  const { data, specs } = await tf.io.encodeWeights(classifierWeights(model));
  const weights = new Uint8Array(data as ArrayBuffer);
  const shardCount = Math.max(1, Math.ceil(weights.byteLength / SHARD_BYTES));
  const paths = Array.from({ length: shardCount }, (_, i) => `${WEIGHTS_PREFIX}${i + 1}of${shardCount}.bin`);
  const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value, null, 1));
  const files: Zippable = {
    'model.json': json({
      format: 'layers-model',
      generatedBy: `${CLASSIFIER_FORMAT} v${CLASSIFIER_FORMAT_VERSION}`,
      convertedBy: null,
      modelTopology: topology,
      weightsManifest: [{ paths, weights: specs }],
    }),
    'labels.json': json(model.classNames),
    'preprocessing.json': json(preprocessingJson(model.spec)),
    'run.json': json(runJson),
  };
  // Float weights barely compress (~7%) and deflating 100 MB takes seconds: stored as they are.
  paths.forEach((path, i) => (files[path] = [weights.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES), { level: 0 }]));
  return files;
}

export interface ImportedClassifier {
  model: RunModel;
  topology: KerasTopology;
  /** The zip's run.json, as it was. */
  runJson: unknown;
}

interface ModelJson {
  modelTopology?: KerasTopology;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function parseJson(files: Record<string, Uint8Array>, name: string, zipName: string): unknown {
  const bytes = files[name];
  if (!bytes) throw new LabError('model/invalid', `${zipName} has no ${name}: it is not a model exported by Finetune Lab.`, zipName);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new LabError('model/invalid', `${name} in ${zipName} is not valid JSON.`, zipName);
  }
}

/** Reads a zip that exportClassifierZip wrote; each problem is named with the file it is in. */
export async function importClassifierZip(bytes: Uint8Array, zipName: string): Promise<ImportedClassifier> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new LabError('model/invalid', `${zipName} is not a readable zip file (${(error as Error).message}).`, zipName, { cause: error });
  }
  // A zip of the folder (rather than of its files) holds them one level down.
  const prefix = Object.keys(files).find((name) => name.endsWith('model.json'))?.slice(0, -'model.json'.length) ?? '';
  if (prefix) files = Object.fromEntries(Object.entries(files).filter(([name]) => name.startsWith(prefix)).map(([name, data]) => [name.slice(prefix.length), data]));

  const spec = specFromPreprocessingJson(parseJson(files, 'preprocessing.json', zipName), `preprocessing.json in ${zipName}`);
  const labels = parseJson(files, 'labels.json', zipName);
  if (!Array.isArray(labels) || labels.length < 2 || labels.some((label) => typeof label !== 'string')) {
    throw new LabError('model/invalid', `labels.json in ${zipName} is not a list of two or more class names.`, zipName);
  }
  const runJson = files['run.json'] ? parseJson(files, 'run.json', zipName) : null;
  const modelJson = parseJson(files, 'model.json', zipName) as ModelJson;
  const topology = modelJson.modelTopology;
  const manifest = modelJson.weightsManifest;
  if (!topology?.model_config?.config?.layers || !Array.isArray(manifest)) {
    throw new LabError('model/invalid', `model.json in ${zipName} is not a TensorFlow.js layers model.`, zipName);
  }
  const dense = topology.model_config.config.layers.find((layer) => layer.name === CLASSIFIER_LAYER);
  if (!dense || dense.config.units !== labels.length) {
    throw new LabError('model/incompatible', `model.json in ${zipName} has no '${CLASSIFIER_LAYER}' layer with one output per class of labels.json (${labels.length}).`, zipName);
  }
  const shards = manifest.flatMap((group) => group.paths).map((path) => {
    const shard = files[path];
    if (!shard) throw new LabError('model/truncated', `${zipName} lacks the weight file ${path} that model.json lists.`, zipName);
    return shard;
  });
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  shards.reduce((at, shard) => (weightData.set(shard, at), at + shard.byteLength), 0);

  let layersModel: tf.LayersModel;
  try {
    layersModel = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'], weightSpecs: manifest.flatMap((g) => g.weights), weightData: weightData.buffer }),
    );
  } catch (error) {
    throw new LabError('model/invalid', `tfjs could not build the model in ${zipName}: ${(error as Error).message}`, zipName, { cause: error });
  }
  try {
    const net = segmentResNet50(layersModel);
    const [kernel, bias] = layersModel.getLayer(CLASSIFIER_LAYER).getWeights();
    const model = new RunModel({
      base: net,
      classNames: labels as string[],
      spec,
      head: createHead(labels.length, { kernel: kernel!, bias: bias! }),
      releaseBase: () => {
        releaseFoldedWeights(allSegments(net));
        layersModel.dispose();
      },
    });
    return { model, topology, runJson };
  } catch (error) {
    layersModel.dispose();
    throw error;
  }
}
