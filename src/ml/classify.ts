// ImageNet classification with the pretrained network: the check that the weights and the
// preprocessing are right before anything is fine-tuned.

import * as tf from '@tensorflow/tfjs';
import { topK, type LabelledClass } from '../core/top-k';
import { allSegments, runSegments, type SegmentedResNet50 } from './segments';

export type ImageNetPrediction = LabelledClass;

/**
 * Classifies preprocessed images, [n, size, size, 3] data laid out channels last, and returns the
 * top `k` ImageNet classes of each. Any size works: the network ends in global average pooling.
 */
export async function classifyImageNet(
  net: SegmentedResNet50,
  labels: readonly string[] | null,
  pixels: Float32Array,
  sizePx: number,
  k = 5,
): Promise<ImageNetPrediction[][]> {
  const count = pixels.length / (sizePx * sizePx * 3);
  const probabilities = tf.tidy(() => runSegments(allSegments(net), tf.tensor4d(pixels, [count, sizePx, sizePx, 3]))); // [n, 1000]
  const values = await probabilities.data();
  probabilities.dispose();
  const classes = values.length / count;
  return Array.from({ length: count }, (_, i) =>
    topK(values.subarray(i * classes, (i + 1) * classes), k).map(({ index, probability }) => ({
      index,
      label: labels?.[index] ?? `class ${index}`,
      probability,
    })),
  );
}

export interface ImageNetTop1Probe {
  classIndex: number;
  probability: number;
  /** Entropy of the 1000-way softmax divided by ln 1000: 0 = certain, 1 = uniform. */
  normalizedEntropy: number;
}

/**
 * The ImageNet head's top class and uncertainty for each image ([n, size, size, 3] pixels), one
 * image at a time: a batch through the whole network right before training left WebGPU (on
 * SwiftShader) without room for the training's own buffers ("createBuffer failed").
 */
export async function probeImageNet(net: SegmentedResNet50, pixels: Float32Array, sizePx: number): Promise<ImageNetTop1Probe[]> {
  const perImage = sizePx * sizePx * 3;
  const answers: ImageNetTop1Probe[] = [];
  for (let offset = 0; offset < pixels.length; offset += perImage) {
    const probabilities = tf.tidy(() => runSegments(allSegments(net), tf.tensor4d(pixels.subarray(offset, offset + perImage), [1, sizePx, sizePx, 3]))); // [1, 1000]
    const row = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    const [top] = topK(row, 1);
    let entropy = 0;
    for (const p of row) if (p > 0) entropy -= p * Math.log(p);
    answers.push({ classIndex: top!.index, probability: top!.probability, normalizedEntropy: entropy / Math.log(row.length) });
  }
  return answers;
}
