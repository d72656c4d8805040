// The wasm Conv2DBackpropFilter kernel of ours at ResNet50 sizes (Node, one thread).

import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/ml/backend';
import { median, printTable } from './shared';

const REPEATS = 3;

const CASES = [
  { name: '3×3/1 same, 512→512, 14×14, batch 4', input: [4, 14, 14, 512], filter: [3, 3, 512, 512], pad: 'same' },
  { name: '1×1/1, 1024→256, 14×14, batch 8', input: [8, 14, 14, 1024], filter: [1, 1, 1024, 256], pad: 'valid' },
  { name: '7×7/2 valid, 3→64 (stem), 230×230, batch 4', input: [4, 230, 230, 3], filter: [7, 7, 3, 64], pad: 'valid', strides: 2 },
] as const;

export async function benchConvFilterGrad(): Promise<void> {
  await initBackend({ force: 'wasm' });
  const rows: [string, string][] = CASES.map((c) => {
    const strides = 'strides' in c ? c.strides : 1;
    const x = tf.randomNormal([...c.input]) as tf.Tensor4D;
    const w = tf.randomNormal([...c.filter]) as tf.Tensor4D;
    const dy = tf.tidy(() => tf.onesLike(tf.conv2d(x, w, strides, c.pad)));
    const once = () => {
      const start = performance.now();
      const dw = tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, { strides, pad: c.pad, dataFormat: 'NHWC', filterShape: [...c.filter] });
      dw.dataSync();
      dw.dispose();
      return performance.now() - start;
    };
    once();
    const ms = median(Array.from({ length: REPEATS }, once));
    tf.dispose([x, w, dy]);
    return [c.name, `${ms.toFixed(0)} ms`];
  });
  printTable('Conv2DBackpropFilter on wasm (ours), median of 3', rows);
}
