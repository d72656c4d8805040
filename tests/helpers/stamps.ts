// ../shared/datasets/stamps6 read in Node: class folders → labels, PNGs decoded and preprocessed by
// the lab's own preprocessing, split by the lab's stratified split, served as LabeledImages.

import fs from 'node:fs';
import path from 'node:path';
import type { RgbaImage } from '../../src/core/image';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, type PreprocessSpec } from '../../src/core/preprocess-spec';
import { stratifiedSplit } from '../../src/core/splits';
import { preprocessImage } from '../../src/data/preprocess';
import type { LabeledImages } from '../../src/ml/training-engine';
import { decodeImageFile } from './node-images';
import { STAMPS_DIR } from './paths';

export interface NodeDataset {
  classNames: string[];
  files: string[];
  labels: Int32Array;
}

export function readStamps(): NodeDataset {
  const classNames = fs
    .readdirSync(STAMPS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, label) => {
    for (const file of fs.readdirSync(path.join(STAMPS_DIR, name)).sort()) {
      if (!file.endsWith('.png')) continue;
      files.push(path.join(STAMPS_DIR, name, file));
      labels.push(label);
    }
  });
  return { classNames, files, labels: Int32Array.from(labels) };
}

/** Images preprocessed on first use and kept (tests use few, small images). */
export function labeledImages(files: readonly string[], labels: ArrayLike<number>, spec: PreprocessSpec, decode: (file: string) => RgbaImage = decodeImageFile): LabeledImages {
  const pixels = new Map<number, Float32Array>();
  const perImage = spec.sizePx * spec.sizePx * 3;
  return {
    size: files.length,
    labels: Int32Array.from(labels),
    ids: files.map((file) => path.relative(STAMPS_DIR, file)),
    specHash: preprocessSpecHash(spec),
    sizePx: spec.sizePx,
    augmented: false,
    async load(indices) {
      const out = new Float32Array(indices.length * perImage);
      indices.forEach((index, j) => {
        let values = pixels.get(index);
        if (!values) {
          values = preprocessImage(decode(files[index]!), spec);
          pixels.set(index, values);
        }
        out.set(values, j * perImage);
      });
      return out;
    },
  };
}

export function stampsSplits(sizePx: number, seed = 42): { train: LabeledImages; validation: LabeledImages; dataset: NodeDataset } {
  const dataset = readStamps();
  const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx };
  const { train, validation } = stratifiedSplit(dataset.labels, { validationFraction: 0.2, seed });
  const pick = (indices: number[]) => labeledImages(indices.map((i) => dataset.files[i]!), indices.map((i) => dataset.labels[i]!), spec);
  return { train: pick(train), validation: pick(validation), dataset };
}
