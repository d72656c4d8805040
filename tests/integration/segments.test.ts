// Cutting ResNet50 into stem + 16 blocks + head changes nothing: the segments run one after another
// give the original model's output on a real photo, and every stage ends where DESIGN.md says.

import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS_SPEC } from '../../src/core/preprocess-spec';
import { preprocessImage } from '../../src/data/preprocess';
import { allSegments, runSegment, runSegments, segmentResNet50, type SegmentedResNet50 } from '../../src/ml/segments';
import { decodeImageFile } from '../helpers/node-images';
import { loadRealModel } from '../helpers/node-model';
import { hasShared, PHOTOS_DIR } from '../helpers/paths';

describe('ResNet50 segments', () => {
  let model: tf.LayersModel;
  let net: SegmentedResNet50;

  beforeAll(async () => {
    model = (await loadRealModel()).model;
    net = segmentResNet50(model);
  });

  it('has the layer and parameter counts measured on the Keras model', () => {
    expect(model.layers.length).toBe(177);
    expect(model.countParams()).toBe(25_636_712);
  });

  it('cuts stem + 16 named blocks + head, covering every layer once', () => {
    expect(net.blocks.map((b) => b.name)).toEqual([
      'res2a', 'res2b', 'res2c',
      'res3a', 'res3b', 'res3c', 'res3d',
      'res4a', 'res4b', 'res4c', 'res4d', 'res4e', 'res4f',
      'res5a', 'res5b', 'res5c',
    ]);
    expect(net.stem.outputName).toBe('max_pooling2d');
    const stageEnds = net.blocks.filter((b, i) => net.blocks[i + 1]?.stage !== b.stage).map((b) => b.outputName);
    expect(stageEnds).toEqual(['activation_9', 'activation_21', 'activation_39', 'activation_48']);
    expect(net.head.layers.map((l) => l.layer.name)).toEqual(['avg_pool', 'fc1000']);
    const covered = allSegments(net).flatMap((s) => s.layers.map((l) => l.layer.name));
    expect(covered.length).toBe(model.layers.length - 1); // all but the input layer
    expect(new Set(covered).size).toBe(covered.length);
  });

  it('gives stage outputs of the expected shapes at a small size', () => {
    const shapes = tf.tidy(() => {
      let x: tf.Tensor = tf.zeros([1, 64, 64, 3]);
      const out: Record<string, number[]> = {};
      for (const segment of allSegments(net)) {
        x = runSegment(segment, x);
        out[segment.name] = x.shape;
      }
      return out;
    });
    // 64 px in: the stem divides by 4, res3..res5 each by 2 more; channels 64, 256, 512, 1024, 2048.
    expect(shapes.stem).toEqual([1, 16, 16, 64]);
    expect(shapes.res2c).toEqual([1, 16, 16, 256]);
    expect(shapes.res3d).toEqual([1, 8, 8, 512]);
    expect(shapes.res4f).toEqual([1, 4, 4, 1024]);
    expect(shapes.res5c).toEqual([1, 2, 2, 2048]);
    expect(shapes['imagenet-head']).toEqual([1, 1000]);
  });

  it.skipIf(!hasShared())('runs to the original model’s output within 1e-4 on a real photo (needs ../shared)', async () => {
    const pixels = preprocessImage(decodeImageFile(path.join(PHOTOS_DIR, 'chelsea.png')), DEFAULT_PREPROCESS_SPEC);
    const x = tf.tensor4d(pixels, [1, 224, 224, 3]);
    const original = model.predict(x) as tf.Tensor;
    const segmented = runSegments(allSegments(net), x);
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(original, segmented))).dataSync()[0]!);
    expect(maxDiff).toBeLessThan(1e-4);
    // The photo is a cat (281..285), so the comparison is over a meaningful output.
    expect([281, 282, 283, 284, 285]).toContain(tf.tidy(() => tf.argMax(segmented, 1).dataSync()[0]));
    tf.dispose([x, original, segmented]);
  });

  it('leaks no tensors across repeated forwards', () => {
    const forward = () => tf.tidy(() => runSegments(allSegments(net), tf.zeros([1, 64, 64, 3])).dispose());
    forward();
    const before = tf.memory().numTensors;
    forward();
    forward();
    expect(tf.memory().numTensors).toBe(before);
  });
});
