// The keyed optimizer: Adam and SGD by hand, and state that follows the variable, not its
// position in the list, when the trainable set changes.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyedOptimizer } from '../../../src/ml/optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('KeyedOptimizer', () => {
  it('Adam: first step moves each weight by lr·sign(g) (bias-corrected m/√v = ±1)', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'adam-w');
    const opt = new KeyedOptimizer({ kind: 'adam' });
    opt.apply([w], { 'adam-w': tf.tensor1d([0.5, -3]) }, () => 0.1);
    const [a, b] = w.dataSync();
    expect(a).toBeCloseTo(0.9, 5);
    expect(b).toBeCloseTo(2.1, 5);
    opt.dispose();
    w.dispose();
  });

  it('SGD with momentum: v = μv + g, w -= lr·v, by hand over two steps', () => {
    const w = tf.variable(tf.scalar(1), true, 'sgd-w');
    const opt = new KeyedOptimizer({ kind: 'sgd', momentum: 0.5 });
    opt.apply([w], { 'sgd-w': tf.scalar(2) }, () => 0.1); // v = 2, w = 0.8
    opt.apply([w], { 'sgd-w': tf.scalar(2) }, () => 0.1); // v = 3, w = 0.5
    expect(w.dataSync()[0]).toBeCloseTo(0.5, 6);
    opt.dispose();
    w.dispose();
  });

  it('keeps a variable’s state when other variables join or leave, and uses per-variable rates', () => {
    const head = tf.variable(tf.scalar(0), true, 'k-head');
    const block = tf.variable(tf.scalar(0), true, 'k-block');
    const opt = new KeyedOptimizer({ kind: 'sgd', momentum: 0.9 });
    opt.apply([head], { 'k-head': tf.scalar(1) }, () => 1); // head v = 1
    expect(opt.hasState('k-head')).toBe(true);
    expect(opt.hasState('k-block')).toBe(false);
    // The block joins, listed first: the head's velocity must still be its own.
    opt.apply([block, head], { 'k-block': tf.scalar(1), 'k-head': tf.scalar(1) }, (name) => (name === 'k-block' ? 0.1 : 1));
    expect(head.dataSync()[0]).toBeCloseTo(-1 - 1.9, 6); // v = 0.9·1 + 1 = 1.9
    expect(block.dataSync()[0]).toBeCloseTo(-0.1, 6); // fresh v = 1, rate 0.1
    opt.dispose();
    tf.dispose([head, block]);
  });

  it('leaks no tensors per step', () => {
    const w = tf.variable(tf.ones([3]), true, 'leak-w');
    const opt = new KeyedOptimizer({ kind: 'adam' });
    const step = () => tf.tidy(() => opt.apply([w], { 'leak-w': tf.ones([3]) }, () => 0.01));
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    w.dispose();
  });
});
