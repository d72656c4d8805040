// Node, wasm backend: what keeping a trained model costs at 224 px: predict per image, the
// Grad-CAM heat map, exporting the TF.js zip and importing it back (res5c and the head trained,
// one step on synthetic images, so that the model has a segment of its own).

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS_SPEC } from '../src/core/preprocess-spec';
import { DEFAULT_TRAINING_CONFIG } from '../src/core/training-config';
import { initBackend } from '../src/ml/backend';
import { exportClassifierZip, importClassifierZip } from '../src/ml/classifier-zip';
import { predictWithHeatMap } from '../src/ml/grad-cam';
import { loadPretrainedResNet50 } from '../src/ml/model-loader';
import { RunModel } from '../src/ml/run-model';
import { segmentResNet50 } from '../src/ml/segments';
import { TrainingEngine } from '../src/ml/training-engine';
import { syntheticImages } from '../tests/helpers/engine-fixtures';
import { fsModelSource } from '../tests/helpers/node-model';
import { requireModel } from '../tests/helpers/paths';
import { median, printTable, timeMs } from './shared';

const SIZE_PX = 224;
const REPEATS = 5;

async function medianMs(repeats: number, run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await timeMs(run));
  return median(times);
}

export async function benchTrainedNode(): Promise<void> {
  const backend = await initBackend({ force: 'wasm' });
  const pretrained = await loadPretrainedResNet50(fsModelSource(requireModel()));
  const model = new RunModel({ base: segmentResNet50(pretrained.model), classNames: ['a', 'b', 'c', 'd'], spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX } });
  const engine = new TrainingEngine({ model, config: { ...DEFAULT_TRAINING_CONFIG, freezeDepth: 1, epochs: 1, batchSize: 4 }, hooks: { onYield: () => Promise.resolve() } });
  await engine.run(syntheticImages([1, 1, 1, 1], SIZE_PX), null);
  engine.dispose();
  const pixels = (await syntheticImages([1], SIZE_PX).load([0])).slice();

  // Warm-up of every path first (the folded inference weights are made once and kept): then the count must not move.
  await model.predict(pixels, SIZE_PX);
  await predictWithHeatMap(model, pixels, SIZE_PX);
  const tensorsBefore = tf.memory().numTensors;
  const predictMs = await medianMs(REPEATS, () => model.predict(pixels, SIZE_PX));
  const explainedMs = await medianMs(REPEATS, () => predictWithHeatMap(model, pixels, SIZE_PX));
  let zip: Uint8Array = new Uint8Array();
  const exportMs = await medianMs(3, async () => (zip = await exportClassifierZip({ model, baseTopology: pretrained.topology, runJson: null })));
  const tensorsAfter = tf.memory().numTensors;
  let importedModel: RunModel | null = null;
  const importMs = await timeMs(async () => (importedModel = (await importClassifierZip(zip, 'bench.zip')).model));
  importedModel!.dispose();
  model.dispose();

  printTable(`Keeping a trained model, Node, ${backend.name} (threads: ${backend.wasmThreads ?? 1}), ${SIZE_PX} px, res5c + head trained`, [
    ['predict, one image (median of 5)', `${predictMs.toFixed(0)} ms`],
    ['predict with its Grad-CAM heat map, one image (median of 5)', `${explainedMs.toFixed(0)} ms`],
    ['export TF.js zip (median of 3)', `${exportMs.toFixed(0)} ms, ${(zip.byteLength / 1e6).toFixed(1)} MB`],
    ['import that zip', `${importMs.toFixed(0)} ms`],
    ['tensors over predict, heat map and export (after a warm-up)', `${tensorsBefore} → ${tensorsAfter}`],
  ]);
}
