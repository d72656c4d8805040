// The run as a PyTorch project, for when the data outgrows a browser tab: the classifier's files as
// the TF.js zip holds them (model.json and its shards, labels.json, preprocessing.json, run.json),
// the browser model's probabilities on a few of the run's images with those images' prepared
// inputs (parity.json, parity-inputs.bin: train.py checks that it reproduces them before it
// trains), and model.py, train.py and README.md (src/export/pytorch/), which continue the run with
// DistributedDataParallel and export back to the lab.

import { zipSync } from 'fflate';
import modelPy from '../export/pytorch/model.py?raw';
import readme from '../export/pytorch/README.md?raw';
import trainPy from '../export/pytorch/train.py?raw';
import { classifierFiles, type ExportedClassifier } from './classifier-zip';

export const PYTORCH_PROJECT_FORMAT = 'finetune-lab/pytorch-project';
export const PYTORCH_PROJECT_VERSION = 1;
/** Images whose outputs train.py must reproduce. */
export const PARITY_IMAGES = 8;

export interface ParityImages {
  /** Dataset paths, as run.json lists them. */
  paths: string[];
  labels: number[];
  /** The prepared inputs, [n, size, size, 3] as the model takes them. */
  inputs: Float32Array;
}

/** The project zip: everything train.py reads, flat. */
export async function exportPytorchProject(classifier: ExportedClassifier, parity: ParityImages): Promise<Uint8Array> {
  const { model } = classifier;
  const probabilities = await model.predict(parity.inputs, model.spec.sizePx);
  const classes = model.numClasses;
  const parityJson = {
    format: PYTORCH_PROJECT_FORMAT,
    version: PYTORCH_PROJECT_VERSION,
    sizePx: model.spec.sizePx,
    inputs: 'parity-inputs.bin',
    images: parity.paths.map((path, i) => ({ path, label: parity.labels[i], probabilities: Array.from(probabilities.subarray(i * classes, (i + 1) * classes)) })),
  };
  const text = (value: string) => new TextEncoder().encode(value);
  const files = await classifierFiles(classifier);
  files['parity.json'] = text(JSON.stringify(parityJson, null, 1));
  files['parity-inputs.bin'] = [new Uint8Array(parity.inputs.buffer, parity.inputs.byteOffset, parity.inputs.byteLength), { level: 0 }];
  files['model.py'] = text(modelPy);
  files['train.py'] = text(trainPy);
  files['README.md'] = text(readme);
  return zipSync(files, { level: 6 });
}
