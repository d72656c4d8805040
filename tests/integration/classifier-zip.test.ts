// The exports on the real stamps6 folder and the real weights: train the head and res5c for one
// epoch at 64 px, export the zip, load it with plain tf.loadLayersModel, feed it images prepared
// by its own preprocessing.json, and get the run's validation predictions back. Then the lab reads
// the zip again, and names what is wrong with a broken one. The same model as ONNX runs in ONNX
// Runtime (its wasm build, in Node) and gives the lab's probabilities on stamps6's validation
// images and on the real photos; Debian's python3-onnx checks the file.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS_SPEC, specFromPreprocessingJson } from '../../src/core/preprocess-spec';
import { DEFAULT_TRAINING_CONFIG } from '../../src/core/training-config';
import { preprocessImage } from '../../src/data/preprocess';
import { exportClassifierZip, importClassifierZip } from '../../src/ml/classifier-zip';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUT } from '../../src/ml/onnx-export';
import type { Evaluation } from '../../src/ml/evaluation';
import type { PretrainedModel } from '../../src/ml/model-loader';
import { RunModel } from '../../src/ml/run-model';
import { segmentResNet50 } from '../../src/ml/segments';
import { TrainingEngine } from '../../src/ml/training-engine';
import { changedWeights, snapshotWeights } from '../helpers/engine-fixtures';
import { decodeImageFile } from '../helpers/node-images';
import { loadRealModel } from '../helpers/node-model';
import { hasShared, PHOTOS_DIR, STAMPS_DIR } from '../helpers/paths';
import { stampsSplits } from '../helpers/stamps';

const SIZE_PX = 64;
/** The bar for "the same predictions" (float32 through 50 layers, folded vs unfolded BatchNorm). */
const PROBABILITY_TOLERANCE = 1e-4;

describe.skipIf(!hasShared())('the TF.js classifier zip (needs ../shared)', () => {
  let pretrained: PretrainedModel;
  let runModel: RunModel;
  let validationFiles: string[];
  let validationLabels: Int32Array;
  let evaluation: Evaluation;
  let zip: Uint8Array;
  let exportMs: number;

  beforeAll(async () => {
    pretrained = await loadRealModel();
    const pristine = snapshotWeights(pretrained.model);
    const { train, validation, dataset } = stampsSplits(SIZE_PX);
    validationFiles = validation.ids.map((id) => path.join(STAMPS_DIR, id));
    validationLabels = validation.labels;
    runModel = new RunModel({ base: segmentResNet50(pretrained.model), classNames: dataset.classNames, spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX } });
    const engine = new TrainingEngine({
      model: runModel,
      config: { ...DEFAULT_TRAINING_CONFIG, freezeDepth: 1, epochs: 1, batchSize: 16, learningRate: 3e-3, warmupSteps: 0 },
      hooks: { onEpochEnd: (_, validationResult) => (evaluation = validationResult!), onYield: () => Promise.resolve() },
    });
    expect((await engine.run(train, validation)).status).toBe('completed');
    engine.dispose();
    expect(runModel.trainedSegments()).toEqual(['res5c']);
    expect(changedWeights(pretrained.model, pristine)).toEqual([]);
    const started = performance.now();
    zip = await exportClassifierZip({ model: runModel, baseTopology: pretrained.topology, runJson: { note: 'test' } });
    exportMs = performance.now() - started;
  }, 600_000);

  it('holds model.json with its shards, labels.json, preprocessing.json and run.json', () => {
    const files = unzipSync(zip);
    const names = Object.keys(files).sort();
    expect(names.filter((n) => !n.endsWith('.bin'))).toEqual(['labels.json', 'model.json', 'preprocessing.json', 'run.json']);
    const modelJson = JSON.parse(new TextDecoder().decode(files['model.json']));
    expect(modelJson.weightsManifest[0].paths.sort()).toEqual(names.filter((n) => n.endsWith('.bin')));
    const layers = modelJson.modelTopology.model_config.config.layers as { class_name: string; name: string }[];
    expect(layers.slice(-2).map((l) => [l.class_name, l.name])).toEqual([
      ['GlobalAveragePooling2D', 'avg_pool'],
      ['Dense', 'classifier'],
    ]);
    expect(layers.some((l) => l.class_name === 'Dropout')).toBe(false);
    expect(JSON.parse(new TextDecoder().decode(files['labels.json']))).toEqual(runModel.classNames);
    const preprocessing = JSON.parse(new TextDecoder().decode(files['preprocessing.json']));
    expect(preprocessing).toMatchObject({ channelOrder: 'BGR', scale: 1, mean: [103.939, 116.779, 123.68], spec: { sizePx: SIZE_PX, normalization: 'caffe' } });
    console.info(`export: ${(zip.byteLength / 1e6).toFixed(1)} MB zip in ${exportMs.toFixed(0)} ms (Node, wasm)`);
  });

  it('loads with plain tf.loadLayersModel and gives the run’s validation predictions', async () => {
    const files = unzipSync(zip);
    const modelJson = JSON.parse(new TextDecoder().decode(files['model.json']));
    const shards: Uint8Array[] = modelJson.weightsManifest[0].paths.map((p: string) => files[p]!);
    const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
    shards.reduce((at, s) => (weightData.set(s, at), at + s.byteLength), 0);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: weightData.buffer }));
    const spec = specFromPreprocessingJson(JSON.parse(new TextDecoder().decode(files['preprocessing.json'])));
    const classes = runModel.numClasses;
    let worst = 0;
    for (let i = 0; i < validationFiles.length; i++) {
      const pixels = preprocessImage(decodeImageFile(validationFiles[i]!), spec);
      const output = loaded.predict(tf.tensor4d(pixels, [1, SIZE_PX, SIZE_PX, 3])) as tf.Tensor;
      const probabilities = (await output.data()) as Float32Array;
      tf.dispose(output);
      const expected = evaluation.probabilities.subarray(i * classes, (i + 1) * classes);
      expect(argmax(probabilities), validationFiles[i]).toBe(evaluation.predictions[i]);
      probabilities.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - expected[c]!))));
    }
    console.info(`plain tfjs vs the run's validation: ${validationFiles.length} images, largest probability difference ${worst.toExponential(2)}; labels ${validationLabels.length}`);
    expect(worst).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
    loaded.dispose();
  });

  it('reads back into a model that predicts the same, and leaks nothing over predict and export', async () => {
    const imported = await importClassifierZip(zip, 'stamps6-tfjs-model.zip');
    expect(imported.runJson).toEqual({ note: 'test' });
    expect(imported.model.classNames).toEqual(runModel.classNames);
    expect(imported.model.spec).toEqual(runModel.spec);
    const pixels = preprocessImage(decodeImageFile(validationFiles[0]!), imported.model.spec);
    const again = await imported.model.predict(pixels, SIZE_PX);
    const original = await runModel.predict(pixels, SIZE_PX);
    again.forEach((p, c) => expect(Math.abs(p - original[c]!)).toBeLessThanOrEqual(PROBABILITY_TOLERANCE));

    // Warm, then count: predict and export must leave the tensor count where it was.
    const tensors = tf.memory().numTensors;
    await runModel.predict(pixels, SIZE_PX);
    await exportClassifierZip({ model: imported.model, baseTopology: imported.topology, runJson: null });
    await imported.model.predict(pixels, SIZE_PX);
    expect(tf.memory().numTensors).toBe(tensors);
    imported.model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(tensors);
  });

  it('names the file and the problem in a broken or foreign zip', async () => {
    const files = unzipSync(zip);
    const without = (name: string) => zipSync(Object.fromEntries(Object.entries(files).filter(([n]) => n !== name)), { level: 0 });
    const replaced = (name: string, text: string) => zipSync({ ...files, [name]: strToU8(text) }, { level: 0 });
    const shard = Object.keys(files).find((n) => n.endsWith('.bin'))!;
    await expect(importClassifierZip(strToU8('not a zip'), 'photo.zip')).rejects.toThrow(/photo\.zip is not a readable zip file/);
    await expect(importClassifierZip(without('preprocessing.json'), 'a.zip')).rejects.toThrow(/a\.zip has no preprocessing\.json/);
    await expect(importClassifierZip(without(shard), 'b.zip')).rejects.toThrow(new RegExp(`b\\.zip lacks the weight file ${shard}`));
    const newer = JSON.stringify({ ...JSON.parse(new TextDecoder().decode(files['preprocessing.json'])), version: 2 });
    await expect(importClassifierZip(replaced('preprocessing.json', newer), 'c.zip')).rejects.toThrow(/preprocessing\.json in c\.zip is version 2; this lab reads version 1/);
    await expect(importClassifierZip(replaced('labels.json', '["only one"]'), 'd.zip')).rejects.toThrow(/labels\.json in d\.zip is not a list of two or more class names/);
    await expect(importClassifierZip(replaced('labels.json', '["a","b","c"]'), 'e.zip')).rejects.toThrow(/one output per class of labels\.json \(3\)/);
  });

  describe('as ONNX', () => {
    let onnxBytes: Uint8Array;
    let onnxMs: number;

    beforeAll(async () => {
      const started = performance.now();
      onnxBytes = await exportOnnx({ model: runModel, baseTopology: pretrained.topology, runJson: { note: 'test' } });
      onnxMs = performance.now() - started;
    }, 120_000);

    it('runs in ONNX Runtime and gives the lab’s probabilities on stamps6 and on the photos', async () => {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      const session = await ort.InferenceSession.create(onnxBytes);
      expect(session.inputNames).toEqual([ONNX_INPUT]);
      expect(session.outputNames).toEqual([ONNX_OUTPUT]);
      const photos = fs.readdirSync(PHOTOS_DIR).filter((name) => /\.(png|jpe?g)$/i.test(name)).map((name) => path.join(PHOTOS_DIR, name));
      const files = [...validationFiles, ...photos];
      let worst = 0;
      const started = performance.now();
      for (const file of files) {
        const pixels = preprocessImage(decodeImageFile(file), runModel.spec);
        const expected = await runModel.predict(pixels, SIZE_PX);
        const result = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', pixels, [1, SIZE_PX, SIZE_PX, 3]) });
        const probabilities = result[ONNX_OUTPUT]!.data as Float32Array;
        expect(probabilities).toHaveLength(runModel.numClasses);
        probabilities.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - expected[c]!))));
      }
      const perImage = (performance.now() - started) / files.length;
      // A batch gives each image's own probabilities.
      const batch = files.slice(0, 3).map((file) => preprocessImage(decodeImageFile(file), runModel.spec));
      const joined = new Float32Array(batch.reduce((n, b) => n + b.length, 0));
      batch.reduce((at, b) => (joined.set(b, at), at + b.length), 0);
      const batched = (await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', joined, [3, SIZE_PX, SIZE_PX, 3]) }))[ONNX_OUTPUT]!;
      expect(batched.dims).toEqual([3, runModel.numClasses]);
      const first = await runModel.predict(batch[2]!, SIZE_PX);
      first.forEach((p, c) => (worst = Math.max(worst, Math.abs((batched.data as Float32Array)[2 * runModel.numClasses + c]! - p))));
      console.info(
        `ONNX export: ${(onnxBytes.byteLength / 1e6).toFixed(1)} MB in ${onnxMs.toFixed(0)} ms; ONNX Runtime (wasm, Node) vs the lab on ${validationFiles.length} validation images and ${photos.length} photos at ${SIZE_PX} px: largest probability difference ${worst.toExponential(2)} (lab + ORT ${perImage.toFixed(0)} ms per image)`,
      );
      expect(worst).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
      await session.release();
    }, 300_000);

    it('holds the class names and the preprocessing in its metadata, and passes onnx.checker', async () => {
      const { onnx } = await import('onnx-proto');
      const decoded = onnx.ModelProto.decode(onnxBytes);
      const metadata = Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]));
      expect(JSON.parse(metadata.labels!)).toEqual(runModel.classNames);
      expect(JSON.parse(metadata.preprocessing!)).toMatchObject({ channelOrder: 'BGR', mean: [103.939, 116.779, 123.68], spec: { sizePx: SIZE_PX } });
      expect(metadata.input_layout).toBe('NHWC');
      expect(decoded.opsetImport.map((o) => Number(o.version))).toEqual([13]);
      expect(decoded.graph?.initializer?.length).toBeGreaterThan(100);
      // Folded: no BatchNormalization left, one Conv per Keras convolution.
      const ops = (decoded.graph?.node ?? []).map((n) => n.opType);
      expect(ops).not.toContain('BatchNormalization');
      expect(ops.filter((op) => op === 'Conv')).toHaveLength(53);

      const python = '/usr/bin/python3';
      const hasOnnx = fs.existsSync(python) && spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
      if (!hasOnnx) {
        if (process.env.CI === 'true') throw new Error('CI needs Debian\'s python3-onnx for onnx.checker: apt-get install python3-onnx.');
        console.warn('python3-onnx is not installed: onnx.checker skipped (apt-get install python3-onnx)');
        return;
      }
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-export-')), 'stamps6.onnx');
      fs.writeFileSync(file, onnxBytes);
      const checked = spawnSync(python, ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(onnx.__version__)', file], { encoding: 'utf8' });
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      expect(checked.stderr).toBe('');
      expect(checked.status).toBe(0);
    });
  });
});

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
