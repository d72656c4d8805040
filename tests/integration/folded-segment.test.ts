// Inference with each BatchNorm folded into its convolution gives the layers' own outputs on every
// segment of the real ResNet50, follows weights that change, and frees what it kept.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { releaseFoldedWeights, runFoldedSegment } from '../../src/ml/folded-segment';
import { allSegments, runSegmentLayers, segmentResNet50, type SegmentedResNet50 } from '../../src/ml/segments';
import { loadRealModel } from '../helpers/node-model';
import { relativeMaxError } from '../helpers/relative-error';

// Folding reorders float32 arithmetic ((x·W)·s against x·(W·s)): measured up to ~2e-6 of the
// largest output here; 1e-4 still catches a wrong scale, mean or a ReLU where none belongs.
const RELATIVE_TOLERANCE = 1e-4;


describe('folded BatchNorm inference', () => {
  let net: SegmentedResNet50;

  beforeAll(async () => {
    net = segmentResNet50((await loadRealModel()).model);
  });

  it('gives every segment’s layer-by-layer output (stem at 64 px, then each block on the one before)', () => {
    let x = tf.randomUniform([2, 64, 64, 3], -120, 130);
    for (const segment of allSegments(net)) {
      const expected = runSegmentLayers(segment, x, false);
      const folded = runFoldedSegment(segment, x);
      expect(folded.shape).toEqual(expected.shape);
      expect(relativeMaxError(folded, expected), segment.name).toBeLessThan(RELATIVE_TOLERANCE);
      tf.dispose([x, folded]);
      x = expected;
    }
    x.dispose();
  });

  it('refolds when a weight changes, and frees its tensors when released', () => {
    const block = net.blocks[15]!;
    const x = tf.relu(tf.randomNormal([1, 2, 2, 2048]));
    runFoldedSegment(block, x).dispose(); // folded weights made and kept
    const kept = tf.memory().numTensors;
    runFoldedSegment(block, x).dispose();
    expect(tf.memory().numTensors).toBe(kept); // nothing more per call

    const gamma = block.layers.find(({ layer }) => layer.getClassName() === 'BatchNormalization')!.layer.weights[0]!.read() as tf.Variable;
    const original = tf.clone(gamma);
    try {
      tf.tidy(() => gamma.assign(tf.mul(original, 2)));
      const expected = runSegmentLayers(block, x, false);
      const before = tf.memory().numTensors;
      const folded = runFoldedSegment(block, x);
      expect(relativeMaxError(folded, expected)).toBeLessThan(RELATIVE_TOLERANCE);
      expect(tf.memory().numTensors).toBe(before + 1); // refolded: the old folded weights went, the new stay
      tf.dispose([expected, folded]);
    } finally {
      gamma.assign(original);
      original.dispose();
    }
    releaseFoldedWeights([block]);
    expect(tf.memory().numTensors).toBeLessThan(kept);
    x.dispose();
  });
});
