// tf.clone on wasm shares the data instead of copying it, and each tensor still owns its life.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, expect, it } from 'vitest';
import { registerWasmSharedIdentity } from '../../src/ml/wasm-identity';

beforeAll(async () => {
  registerWasmSharedIdentity();
  await tf.setBackend('wasm');
});

it('clones without a new buffer; the clone outlives its source, and a variable’s assign leaves it alone', () => {
  const backend = tf.engine().backend;
  const x = tf.tensor([1, 2, 3]);
  const buffers = backend.numDataIds();
  const y = tf.clone(x);
  expect(backend.numDataIds()).toBe(buffers);
  x.dispose();
  expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);

  const v = tf.tidy(() => tf.variable(tf.tensor([4, 5])));
  const saved = tf.clone(v);
  tf.tidy(() => v.assign(tf.tensor([6, 7])));
  expect(Array.from(saved.dataSync())).toEqual([4, 5]);
  expect(Array.from(v.dataSync())).toEqual([6, 7]);
  tf.dispose([y, v, saved]);
  expect(backend.numDataIds()).toBe(buffers - 1); // x's buffer went with its last holder, y
});

it('still copies strings (they do not live in the wasm heap)', () => {
  const s = tf.tensor(['a', 'b']);
  const t = tf.clone(s);
  s.dispose();
  expect(t.dataSync()).toEqual(['a', 'b']);
  t.dispose();
});
