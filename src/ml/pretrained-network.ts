// The pretrained ResNet50 as the training worker holds it: loaded, cut into segments, warmed up
// (so that shaders are compiled before the page says ready), and freed when replaced. It is
// read-only: runs train copies of its segments (run-model.ts), so the photo check always sees
// the ImageNet network.

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS_SPEC } from '../core/preprocess-spec';
import { releaseFoldedWeights } from './folded-segment';
import { loadPretrainedResNet50, type KerasTopology } from './model-loader';
import type { ModelSource } from './model-source';
import { allSegments, runSegments, segmentResNet50, type Segment, type SegmentedResNet50 } from './segments';

export interface PretrainedNetwork {
  net: SegmentedResNet50;
  /** ImageNet class names, when labels.json came with the model. */
  labels: string[] | null;
  /** The Keras topology it was built from (what exports start from). */
  topology: KerasTopology;
  model: tf.LayersModel;
  layers: number;
  parameters: number;
  weightBytes: number;
  /** From the first byte requested to a built model. */
  loadMs: number;
  /** One forward at the default input size. */
  warmupMs: number;
  /** Trainable parameters of the stem and of each block (input side first). */
  segmentParams: { stem: number; blocks: number[] };
}

export interface LoadNetworkOptions {
  onProgress?: (fraction: number) => void;
  now?: () => number;
}

function segmentParamCount(segment: Segment): number {
  return segment.layers.reduce((sum, { layer }) => sum + layer.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0), 0);
}

export async function loadPretrainedNetwork(source: ModelSource, options: LoadNetworkOptions = {}): Promise<PretrainedNetwork> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const loaded = await loadPretrainedResNet50(source, options.onProgress ? { onProgress: options.onProgress } : {});
  const loadMs = now() - started;
  const net = segmentResNet50(loaded.model);
  const warmStart = now();
  const size = DEFAULT_PREPROCESS_SPEC.sizePx;
  const probe = tf.tidy(() => runSegments(allSegments(net), tf.zeros([1, size, size, 3]))); // [1, 1000]
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
  return {
    net,
    labels: loaded.labels,
    topology: loaded.topology,
    model: loaded.model,
    layers: loaded.model.layers.length,
    parameters: loaded.model.countParams(),
    weightBytes: loaded.weightBytes,
    loadMs,
    warmupMs: now() - warmStart,
    segmentParams: { stem: segmentParamCount(net.stem), blocks: net.blocks.map(segmentParamCount) },
  };
}

export function disposePretrainedNetwork(network: PretrainedNetwork): void {
  releaseFoldedWeights(allSegments(network.net));
  network.model.dispose();
}
