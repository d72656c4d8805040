// Inputs the diagnostics tests share: synthetic "photos" preprocessed by the formulas that
// NormalizationMode documents, and a healthy run that no rule should complain about.

import { CAFFE_MEAN_BGR, TORCH_MEAN_RGB, TORCH_STD_RGB } from '../../../../src/core/preprocess-spec';
import { createPrng } from '../../../../src/core/prng';
import type { DiagnosticsInput } from '../../../../src/core/diagnostics';
import type { InputScaling, InputStatistics } from '../../../../src/core/diagnostics/input-normalization';
import { channelMoments, toChannelStatistics } from '../../../../src/core/diagnostics/statistics';
import type { StepPoint, TrainingHistory } from '../../../../src/core/diagnostics/training-history';
import { metricsFromConfusion, type ClassificationMetrics } from '../../../../src/core/metrics';
import type { EpochRecord } from '../../../../src/core/run-records';

/**
 * RGB pixels 0..255, [n, side, side, 3], photo-like: mean ~120 and std ~55 per channel (ImageNet's
 * are 104–124 and 57–58), clipped so that 0 and 255 both occur, as in real photos.
 */
export function syntheticPhotos(n: number, side = 16, seed = 7): Float32Array {
  const random = createPrng(seed);
  const pixels = new Float32Array(n * side * side * 3);
  for (let i = 0; i < pixels.length; i++) {
    // Sum of three uniforms, centred and scaled to std 1: a cheap bell curve.
    const z = (random() + random() + random() - 1.5) * 2;
    pixels[i] = Math.min(255, Math.max(0, 120 + 55 * z));
  }
  return pixels;
}

/** The formulas of NormalizationMode's documentation (preprocess-spec.ts), plus raw 0..255 RGB. */
export function normalize(rgb: Float32Array, scaling: InputScaling): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let p = 0; p < rgb.length; p += 3) {
    const [r, g, b] = [rgb[p]!, rgb[p + 1]!, rgb[p + 2]!];
    const fed: [number, number, number] = {
      caffe: [b - CAFFE_MEAN_BGR[0], g - CAFFE_MEAN_BGR[1], r - CAFFE_MEAN_BGR[2]],
      'div255-then-caffe': [b / 255 - CAFFE_MEAN_BGR[0], g / 255 - CAFFE_MEAN_BGR[1], r / 255 - CAFFE_MEAN_BGR[2]],
      unit: [r / 255, g / 255, b / 255],
      symmetric: [r / 127.5 - 1, g / 127.5 - 1, b / 127.5 - 1],
      torch: [(r / 255 - TORCH_MEAN_RGB[0]) / TORCH_STD_RGB[0], (g / 255 - TORCH_MEAN_RGB[1]) / TORCH_STD_RGB[1], (b / 255 - TORCH_MEAN_RGB[2]) / TORCH_STD_RGB[2]],
      'raw-0-255': [r, g, b],
    }[scaling] as [number, number, number];
    out.set(fed, p);
  }
  return out;
}

const BGR_SCALINGS: readonly InputScaling[] = ['caffe', 'div255-then-caffe'];

/** Channel statistics of 16 synthetic photos under a scaling, as the data path would report them. */
export function statisticsFor(scaling: InputScaling, imageCount = 16, seed = 7): InputStatistics {
  return {
    channels: toChannelStatistics(channelMoments(normalize(syntheticPhotos(imageCount, 16, seed), scaling))),
    channelOrder: BGR_SCALINGS.includes(scaling) ? 'bgr' : 'rgb',
    imageCount,
  };
}

/** 5 classes, so a fresh head starts near ln 5 = 1.609. */
export const HEALTHY_CLASSES = 5;

/**
 * 200 steps of a healthy head-only run: the loss falls from ln 5 towards 0.2 along an
 * exponential with ±5% deterministic batch noise; 10 warm-up steps to 1e-3, then cosine decay.
 */
export function healthySteps(count = 200): StepPoint[] {
  const peak = 1e-3;
  return Array.from({ length: count }, (_, step) => {
    const noise = 1 + 0.05 * Math.sin(step * 1.7);
    const loss = (0.2 + (Math.log(HEALTHY_CLASSES) - 0.2) * Math.exp(-step / 40)) * noise;
    const learningRate = step < 10 ? (peak * (step + 1)) / 10 : 0.5 * peak * (1 + Math.cos((Math.PI * (step - 10)) / (count - 10)));
    return { step, loss, learningRate, freezeDepth: 0 };
  });
}

/** Images per split behind the fixture's metrics: 100, so every accuracy of two decimals is exact. */
const SPLIT_IMAGES = 100;

/**
 * Metrics of a 2-class split of 100 images (50 each) that scores `accuracy`, and the predicted
 * class of each image in split order. The rules read only the accuracy; the rest is consistent
 * with it so the record is a real one.
 */
function splitAt(accuracy: number): { metrics: ClassificationMetrics; predictions: number[] } {
  const perClass = SPLIT_IMAGES / 2;
  const correct = Math.round(accuracy * SPLIT_IMAGES);
  const right = [Math.ceil(correct / 2), Math.floor(correct / 2)];
  const confusion = right.map((r, actual) => (actual === 0 ? [r, perClass - r] : [perClass - r, r]));
  const predictions = confusion.flatMap((row) => row.flatMap((count, predicted) => new Array<number>(count).fill(predicted)));
  return { metrics: metricsFromConfusion(confusion), predictions };
}

/** An epoch's record from its losses and accuracies; `validation` null for a run without one. */
export function epochRecord(epoch: number, train: { loss: number; accuracy: number }, validation: { loss: number; accuracy: number } | null): EpochRecord {
  return {
    epoch,
    train: { loss: train.loss, metrics: splitAt(train.accuracy).metrics },
    validation: validation && (() => {
      const split = splitAt(validation.accuracy);
      return { loss: validation.loss, ...split, losses: split.predictions.map(() => validation.loss), confidences: split.predictions.map(() => validation.accuracy) };
    })(),
    cache: { entries: 0, bytes: 0, full: false },
    ms: 1000,
  };
}

/** Five epochs in which training and validation loss both fall, validation a little above. */
export const HEALTHY_EPOCHS: EpochRecord[] = [
  epochRecord(1, { loss: 1.1, accuracy: 0.62 }, { loss: 0.9, accuracy: 0.7 }),
  epochRecord(2, { loss: 0.6, accuracy: 0.8 }, { loss: 0.62, accuracy: 0.79 }),
  epochRecord(3, { loss: 0.42, accuracy: 0.87 }, { loss: 0.5, accuracy: 0.84 }),
  epochRecord(4, { loss: 0.33, accuracy: 0.9 }, { loss: 0.46, accuracy: 0.85 }),
  epochRecord(5, { loss: 0.29, accuracy: 0.91 }, { loss: 0.45, accuracy: 0.86 }),
];

export function healthyHistory(): TrainingHistory {
  return { numClasses: HEALTHY_CLASSES, steps: healthySteps(), epochs: HEALTHY_EPOCHS, backboneLrMultiplier: 0.1 };
}

/**
 * Measured here on real photos under caffe: correct ImageNet classes at 87–99% (DESIGN.md, the
 * brief). These ten values span that range.
 */
export const CAFFE_TOP1_MEASURED = [0.87, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.91, 0.94];

/** Every part of DiagnosticsInput, all healthy: caffe input, equal specs, mild imbalance, no copies, a falling loss. */
export function healthyInput(): DiagnosticsInput {
  const statistics = statisticsFor('caffe');
  const classNames = ['ant', 'bee', 'cat', 'dog', 'eel'];
  return {
    inputNormalization: {
      statistics,
      currentProbe: {
        predictions: CAFFE_TOP1_MEASURED.map((probability, i) => ({ imageId: `train/ant/${i}.jpg`, classIndex: 300 + i, probability })),
        meanNormalizedEntropy: 0.12,
      },
    },
    splitConsistency: {
      train: { specHash: '37fd83f22aa88818', statistics },
      validation: { specHash: '37fd83f22aa88818', statistics: statisticsFor('caffe', 16, 8) },
    },
    classBalance: {
      classNames,
      trainCounts: [40, 35, 50, 30, 45],
      classWeighting: 'balanced',
      validationConfusion: [
        [9, 1, 0, 0, 0],
        [1, 8, 0, 0, 0],
        [0, 0, 12, 1, 0],
        [0, 0, 1, 7, 0],
        [0, 0, 0, 0, 11],
      ],
    },
    domainGap: {
      images: Array.from({ length: 20 }, (_, i) => ({ id: `train/ant/${i}.jpg`, width: 640, height: 480, grayscale: i === 0 })),
      caffeProbe: {
        predictions: CAFFE_TOP1_MEASURED.map((probability, i) => ({ imageId: `train/ant/${i}.jpg`, classIndex: 300 + i, probability })),
        meanNormalizedEntropy: 0.12,
      },
      currentFreezeDepth: 0,
      currentLearningRate: 1e-3,
    },
    splitLeakage: {
      images: [
        { id: 'train/ant/1.jpg', split: 'train', differenceHash: '0f0f0f0f0f0f0f0f', contentHash: 'a1' },
        { id: 'train/bee/1.jpg', split: 'train', differenceHash: 'f0f0f0f0f0f0f0f0', contentHash: 'b1' },
        { id: 'val/ant/2.jpg', split: 'validation', differenceHash: '3c3c3c3c3c3c3c3c', contentHash: 'c1' },
      ],
    },
    training: healthyHistory(),
    batchNormDrift: {
      blocks: ['stem', 'res2a', 'res5c'].map((name) => ({ name, frozen: true, meanRelativeChange: 0, varianceRelativeChange: 0 })),
      batchNormPolicy: 'frozen',
    },
    labelQuality: {
      classNames,
      predictions: classNames.flatMap((_, label) =>
        [0.9, 0.8, 0.85].map((self, k) => ({ id: `val/${classNames[label]}/${k}.jpg`, label, probabilities: classNames.map((__, c) => (c === label ? self : (1 - self) / 4)) })),
      ),
    },
  };
}
