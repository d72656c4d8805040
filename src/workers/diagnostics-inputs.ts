// The statistics the diagnostic rules read, gathered in the training worker: channel statistics
// of preprocessed samples, the pretrained ImageNet head's answers on a few images, image
// profiles and fingerprints from the scan, and the run's history.

import type { ChannelOrder, DiagnosticsInput, ImageNetProbe, InputStatistics, StepPoint } from '../core/diagnostics';
import type { EpochRecord } from '../core/run-records';
import { channelMoments, mergeChannelMoments, toChannelStatistics } from '../core/diagnostics';
import { stratifiedSample } from '../core/prng';
import type { NormalizationMode } from '../core/preprocess-spec';
import type { PooledImages } from '../data/pool-images';
import { probeImageNet } from '../ml/classify';
import type { SegmentedResNet50 } from '../ml/segments';
import type { OpenDataset } from './dataset-session';

/**
 * Images whose channel statistics describe a split's input (all of a smaller split). Preprocessing
 * alone, no network: ~5 ms an image at 224 px. With 16, a validation split brightened by 60 levels
 * on a varied set (image means spread by ~60) stayed within 4 standard errors.
 */
export const STATISTICS_SAMPLE = 48;
/** Images the pretrained ImageNet head looks at. */
export const PROBE_SAMPLE = 8;

export function channelOrderOf(normalization: NormalizationMode): ChannelOrder {
  return normalization === 'caffe' || normalization === 'div255-then-caffe' ? 'bgr' : 'rgb';
}

/**
 * `count` images of a split, preprocessed as the run feeds them (unaugmented), stratified by
 * class and drawn with the run's seed: the same seed gives the same sample.
 */
export async function sampleOf(images: PooledImages, count: number, seed: number): Promise<{ pixels: Float32Array; ids: string[] }> {
  const indices = stratifiedSample(images.labels, count, seed);
  return { pixels: await images.load(indices), ids: indices.map((i) => images.ids[i]!) };
}

/** Channel statistics of `imageCount` images' pixels, over all of them and per image. */
export function inputStatistics(pixels: Float32Array, normalization: NormalizationMode, imageCount: number): InputStatistics {
  const perImageLength = imageCount > 0 ? pixels.length / imageCount : 0;
  const perImage = Array.from({ length: imageCount }, (_, i) => channelMoments(pixels.subarray(i * perImageLength, (i + 1) * perImageLength)));
  const all = perImage.reduce((merged, moments) => mergeChannelMoments(merged, moments), channelMoments(new Float32Array(0)));
  return { channels: toChannelStatistics(all), channelOrder: channelOrderOf(normalization), imageCount, perImage };
}

export async function imagenetProbe(net: SegmentedResNet50, labels: readonly string[] | null, pixels: Float32Array, ids: string[], sizePx: number): Promise<ImageNetProbe> {
  const perImage = sizePx * sizePx * 3;
  const count = Math.min(ids.length, PROBE_SAMPLE);
  const answers = await probeImageNet(net, pixels.subarray(0, count * perImage), sizePx);
  return {
    predictions: answers.map((a, i) => ({ imageId: ids[i]!, classIndex: a.classIndex, probability: a.probability, normalizedEntropy: a.normalizedEntropy, ...(labels ? { label: labels[a.classIndex]! } : {}) })),
    meanNormalizedEntropy: answers.reduce((sum, a) => sum + a.normalizedEntropy, 0) / Math.max(1, answers.length),
  };
}

/** Image profiles (size, colour) and fingerprints of the open dataset, from its scan. */
export function datasetInputs(dataset: OpenDataset): Pick<DiagnosticsInput, 'splitLeakage'> & { profiles: NonNullable<DiagnosticsInput['domainGap']>['images'] } {
  const entries = [...dataset.usable.train, ...dataset.usable.validation, ...dataset.usable.test];
  const withProfile = entries.flatMap((entry) => {
    const profile = dataset.profiles.get(entry.path);
    return profile ? [{ entry, profile }] : [];
  });
  return {
    profiles: withProfile.map(({ entry, profile }) => ({ id: entry.path, width: profile.width, height: profile.height, grayscale: profile.isGray })),
    splitLeakage: {
      images: withProfile.map(({ entry, profile }) => ({
        id: entry.path,
        split: entry.split,
        differenceHash: profile.differenceHash,
        contentHash: profile.contentHash,
        classIndex: entry.classIndex,
        ...(profile.meanColor ? { meanColor: profile.meanColor } : {}),
        ...(profile.signature ? { signature: profile.signature } : {}),
        aspectRatio: profile.width / profile.height,
      })),
    },
  };
}

/** The run's history in the shape the training-dynamics rules read. */
export interface HistoryRecorder {
  steps: StepPoint[];
  epochs: EpochRecord[];
  /** The epoch whose weights the model went back to (early stopping), while it has them. */
  keptEpoch?: number;
}
