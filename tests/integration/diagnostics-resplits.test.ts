// The data rules on the real stamps6 folder, as the training worker feeds them (its own
// preprocessing, stratified seeded samples, the real network's ImageNet probe, fingerprints of
// every image, and the label check on a cross-validated linear probe's calibrated out-of-fold
// probabilities, as after a head-only run): 20 random re-splits of the same folder, where nothing
// is wrong, raise nothing above info; each planted fault puts its own finding first.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts, classWeights } from '../../src/core/class-weights';
import type { SplitName } from '../../src/core/dataset';
import { calibratedOutOfFold, colorSignature, differenceHash, rgbaToGray, runDiagnostics, type DiagnosticsInput, type Finding } from '../../src/core/diagnostics';
import { fnv1a64Bytes } from '../../src/core/hash';
import type { RgbaImage } from '../../src/core/image';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, type NormalizationMode, type PreprocessSpec } from '../../src/core/preprocess-spec';
import { createPrng, stratifiedSample } from '../../src/core/prng';
import { stratifiedSplit } from '../../src/core/splits';
import { preprocessImage } from '../../src/data/preprocess';
import { crossValidateProbe } from '../../src/core/linear-probe';
import { runSegments, segmentResNet50, type SegmentedResNet50 } from '../../src/ml/segments';
import { imagenetProbe, inputStatistics, PROBE_SAMPLE, STATISTICS_SAMPLE } from '../../src/workers/diagnostics-inputs';
import { decodeImageFile } from '../helpers/node-images';
import { loadRealModel } from '../helpers/node-model';
import { hasShared } from '../helpers/paths';
import { readStamps, type NodeDataset } from '../helpers/stamps';

const SIZE_PX = 64;
const RESPLITS = 20;

interface Image {
  path: string;
  label: number;
  rgba: RgbaImage;
}

/** What the worker gives the rules for one split of `images` (see training-session's beforeTraining). */
async function diagnosticsInput(net: SegmentedResNet50, labels: string[] | null, classNames: string[], images: Image[], split: { train: number[]; validation: number[] }, options: { seed: number; normalization?: NormalizationMode; validation?: (rgba: RgbaImage) => RgbaImage; classWeighting?: 'balanced' | 'off'; features?: Float32Array }): Promise<DiagnosticsInput> {
  const spec: PreprocessSpec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX, normalization: options.normalization ?? 'caffe' };
  const caffe: PreprocessSpec = { ...spec, normalization: 'caffe' };
  const changeValidation = options.validation ?? ((rgba: RgbaImage) => rgba);
  const pixelsOf = (indices: number[], s: PreprocessSpec, change: (rgba: RgbaImage) => RgbaImage = (r) => r) => {
    const out = new Float32Array(indices.length * SIZE_PX * SIZE_PX * 3);
    indices.forEach((index, j) => out.set(preprocessImage(change(images[index]!.rgba), s), j * SIZE_PX * SIZE_PX * 3));
    return out;
  };
  const trainLabels = split.train.map((i) => images[i]!.label);
  const trainSample = stratifiedSample(trainLabels, STATISTICS_SAMPLE, options.seed).map((j) => split.train[j]!);
  const validationSample = stratifiedSample(split.validation.map((i) => images[i]!.label), STATISTICS_SAMPLE, options.seed + 1).map((j) => split.validation[j]!);
  const trainPixels = pixelsOf(trainSample, spec);
  const statistics = inputStatistics(trainPixels, spec.normalization, trainSample.length);
  const ids = trainSample.map((i) => images[i]!.path);
  const currentProbe = await imagenetProbe(net, labels, trainPixels, ids, SIZE_PX);
  const caffeProbe = spec.normalization === 'caffe' ? currentProbe : await imagenetProbe(net, labels, pixelsOf(trainSample.slice(0, PROBE_SAMPLE), caffe), ids, SIZE_PX);
  const validationPixels = pixelsOf(validationSample, spec, changeValidation);
  const inSplit = new Map<number, SplitName>([...split.train.map((i) => [i, 'train'] as const), ...split.validation.map((i) => [i, 'validation'] as const)]);
  const shown = (index: number) => (inSplit.get(index) === 'validation' ? changeValidation(images[index]!.rgba) : images[index]!.rgba);
  const profiles = [...inSplit.keys()].map((i) => ({ id: images[i]!.path, width: shown(i).width, height: shown(i).height, grayscale: isGray(shown(i)) }));
  return {
    ...(options.features ? { labelQuality: outOfFoldLabels(options.features, images, classNames, trainLabels, options.seed) } : {}),
    inputNormalization: { statistics, currentProbe, caffeProbe },
    aspectRatio: { images: profiles, resize: spec.resize },
    splitConsistency: {
      train: { specHash: preprocessSpecHash(spec), statistics },
      validation: { specHash: preprocessSpecHash(spec), statistics: inputStatistics(validationPixels, spec.normalization, validationSample.length) },
    },
    classBalance: { classNames, trainCounts: classCounts(trainLabels, classNames.length), classWeighting: options.classWeighting ?? 'balanced' },
    domainGap: {
      images: profiles,
      caffeProbe,
      currentFreezeDepth: 0,
      currentLearningRate: 1e-3,
    },
    splitLeakage: {
      images: [...inSplit.entries()].map(([i, s]) => {
        const rgba = shown(i);
        return {
          id: images[i]!.path,
          split: s,
          classIndex: images[i]!.label,
          differenceHash: differenceHash(rgbaToGray(rgba), rgba.width, rgba.height),
          contentHash: fnv1a64Bytes(new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength)),
          signature: colorSignature(rgba),
          aspectRatio: rgba.width / rgba.height,
        };
      }),
    },
  };
}

/** The worker's label check after a head-only run: the probe's calibrated out-of-fold probabilities for every image. */
function outOfFoldLabels(features: Float32Array, images: Image[], classNames: string[], trainLabels: number[], seed: number): NonNullable<DiagnosticsInput['labelQuality']> {
  const labels = Int32Array.from(images, (im) => im.label);
  const { probabilities } = crossValidateProbe(features, labels, classNames.length, { seed, classWeights: classWeights(classCounts(trainLabels, classNames.length), 'balanced') });
  return calibratedOutOfFold(images.map((im) => im.path), labels, probabilities, classNames);
}

/** Pooled features [n, 2048] of every image at SIZE_PX: what a head-only run caches. */
async function pooledFeatures(net: SegmentedResNet50, images: Image[]): Promise<Float32Array> {
  const spec: PreprocessSpec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX };
  const out = new Float32Array(images.length * 2048);
  for (let start = 0; start < images.length; start += 8) {
    const part = images.slice(start, start + 8);
    const pixels = new Float32Array(part.length * SIZE_PX * SIZE_PX * 3);
    part.forEach((im, j) => pixels.set(preprocessImage(im.rgba, spec), j * SIZE_PX * SIZE_PX * 3));
    const pooled = tf.tidy(() => tf.mean(runSegments([net.stem, ...net.blocks], tf.tensor4d(pixels, [part.length, SIZE_PX, SIZE_PX, 3])), [1, 2])); // [n, 2048]
    out.set((await pooled.data()) as Float32Array, start * 2048);
    pooled.dispose();
  }
  return out;
}

function isGray({ data }: RgbaImage): boolean {
  for (let p = 0; p < data.length; p += 4) if (data[p] !== data[p + 1] || data[p] !== data[p + 2]) return false;
  return true;
}

const summary = (findings: Finding[]) => findings.map((f) => `${f.id}:${f.severity}`);

describe.skipIf(!hasShared())('the data rules on stamps6, re-split and with planted faults (needs ../shared)', () => {
  let net: SegmentedResNet50;
  let labels: string[] | null;
  let dataset: NodeDataset;
  let images: Image[];
  let features: Float32Array;

  beforeAll(async () => {
    const loaded = await loadRealModel();
    net = segmentResNet50(loaded.model);
    labels = loaded.labels;
    dataset = readStamps();
    images = dataset.files.map((path, i) => ({ path, label: dataset.labels[i]!, rgba: decodeImageFile(path) }));
    features = await pooledFeatures(net, images);
  }, 120_000);

  it(`raises nothing above info over ${RESPLITS} seeded random re-splits`, async () => {
    const raised: string[][] = [];
    for (let seed = 1; seed <= RESPLITS; seed++) {
      const split = stratifiedSplit(dataset.labels, { validationFraction: 0.2, seed });
      const findings = runDiagnostics(await diagnosticsInput(net, labels, dataset.classNames, images, split, { seed, features }));
      raised.push(summary(findings));
    }
    console.info(`stamps6, ${RESPLITS} re-splits: ${raised.map((r, i) => `seed ${i + 1}: ${r.join(', ') || 'none'}`).join('; ')}`);
    expect(raised.flat().filter((f) => !f.endsWith(':info'))).toEqual([]);
  }, 300_000);

  describe('each planted fault comes first', () => {
    const split = () => stratifiedSplit(dataset.labels, { validationFraction: 0.2, seed: 42 });
    const first = async (options: Parameters<typeof diagnosticsInput>[5], which = split(), imageSet = images) => {
      const findings = runDiagnostics(await diagnosticsInput(net, labels, dataset.classNames, imageSet, which, options));
      console.info(`planted fault: ${summary(findings).join(', ')}`);
      return findings[0];
    };

    it('x/255 then caffe: wrong normalization, critical', async () => {
      expect(await first({ seed: 42, normalization: 'div255-then-caffe' })).toMatchObject({ id: 'input/wrong-normalization', severity: 'critical' });
    });

    it('validation images washed out on disk (× 0.6 + 90): the splits look different', async () => {
      const washedOut = (rgba: RgbaImage): RgbaImage => ({ ...rgba, data: Uint8Array.from(rgba.data, (v, i) => (i % 4 === 3 ? v : Math.round(v * 0.6 + 90))) });
      const finding = await first({ seed: 42, validation: washedOut });
      expect(finding?.id).toBe('split/statistics-mismatch');
      expect(['warning', 'critical']).toContain(finding?.severity);
    });

    it('30% of validation replaced by copies of training images: leakage, a warning', async () => {
      const { train, validation } = split();
      const copies = Math.round(validation.length * 0.3);
      // The copies take the validation images' places, with their training originals' pixels and labels.
      const leaked = images.map((image, i) => {
        const at = validation.indexOf(i);
        return at >= 0 && at < copies ? { ...images[train[at]!]!, path: `${image.path}-copy` } : image;
      });
      expect(await first({ seed: 42 }, { train, validation }, leaked)).toMatchObject({ id: 'data/split-leakage', severity: 'warning' });
    });

    it('20% of the images filed under another class: likely mislabelled, a warning', async () => {
      const random = createPrng(5);
      const noisy = images.map((image) => (random() < 0.2 ? { ...image, label: (image.label + 1 + Math.floor(random() * 5)) % 6 } : image));
      const changed = noisy.filter((image, i) => image.label !== images[i]!.label).length;
      expect(changed).toBe(23);
      expect(await first({ seed: 42, features }, split(), noisy)).toMatchObject({ id: 'labels/likely-mislabeled', severity: 'warning' });
    });

    it('grayscale images at 32 px: very unlike ImageNet, a warning', async () => {
      const grayTiny = images.map((image) => ({ ...image, rgba: grayscaleThumbnail(image.rgba, 32) }));
      expect(await first({ seed: 42 }, split(), grayTiny)).toMatchObject({ id: 'data/unlike-imagenet', severity: 'warning' });
    });
  });
});

/** The image at `side` px (nearest neighbour), in gray: what a folder of small scanned icons looks like. */
function grayscaleThumbnail(rgba: RgbaImage, side: number): RgbaImage {
  const data = new Uint8Array(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = (Math.floor((y * rgba.height) / side) * rgba.width + Math.floor((x * rgba.width) / side)) * 4;
      const alpha = rgba.data[p + 3]! / 255;
      const gray = Math.round((0.299 * rgba.data[p]! + 0.587 * rgba.data[p + 1]! + 0.114 * rgba.data[p + 2]!) * alpha + 255 * (1 - alpha));
      data.set([gray, gray, gray, 255], (y * side + x) * 4);
    }
  }
  return { width: side, height: side, data };
}
