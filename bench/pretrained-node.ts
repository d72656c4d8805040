// Node, wasm backend (one thread): loading the real weights, a 224² and a 112² forward pass, and
// preprocessing a real photo.

import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS_SPEC } from '../src/core/preprocess-spec';
import { preprocessImage } from '../src/data/preprocess';
import { initBackend } from '../src/ml/backend';
import { loadPretrainedResNet50 } from '../src/ml/model-loader';
import { allSegments, runSegments, segmentResNet50 } from '../src/ml/segments';
import { decodeImageFile } from '../tests/helpers/node-images';
import { fsModelSource } from '../tests/helpers/node-model';
import { hasShared, PHOTOS_DIR, requireModel } from '../tests/helpers/paths';
import { median, printTable, timeMs } from './shared';

const REPEATS = 5;

export async function benchPretrainedNode(): Promise<void> {
  const backend = await initBackend({ force: 'wasm' });
  let pretrained!: Awaited<ReturnType<typeof loadPretrainedResNet50>>;
  const loadMs = await timeMs(async () => {
    pretrained = await loadPretrainedResNet50(fsModelSource(requireModel()));
  });
  const net = segmentResNet50(pretrained.model);
  const segments = allSegments(net);

  const forward = async (size: number, batch = 1) => {
    const x = tf.zeros([batch, size, size, 3]);
    const once = async () => {
      const y = runSegments(segments, x);
      await y.data();
      y.dispose();
    };
    await once(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) times.push(await timeMs(once));
    x.dispose();
    return median(times);
  };
  const rows: [string, string][] = [
    ['backend', `${backend.name} (threads: ${backend.wasmThreads ?? 1})`],
    ['load weights from disk', `${loadMs.toFixed(0)} ms`],
    ['forward 224² (batch 1, median of 5)', `${(await forward(224)).toFixed(0)} ms`],
    ['forward 112² (batch 1, median of 5)', `${(await forward(112)).toFixed(0)} ms`],
    ['forward 112² (batch 8, per image)', `${((await forward(112, 8)) / 8).toFixed(0)} ms`],
  ];
  if (hasShared()) {
    const image = decodeImageFile(path.join(PHOTOS_DIR, 'rocket.jpg'));
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) times.push(await timeMs(() => preprocessImage(image, DEFAULT_PREPROCESS_SPEC)));
    rows.push([`preprocess ${image.width}×${image.height} → 224² caffe`, `${median(times).toFixed(1)} ms`]);
  }
  printTable('Pretrained ResNet50 in Node', rows);
  pretrained.model.dispose();
}
