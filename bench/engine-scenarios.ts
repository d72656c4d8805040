// The fine-tuning step benchmarks, shared by the Node bench and the browser bench worker: ms per
// step at a freeze depth, with or without the feature cache, on synthetic images.

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_TRAINING_CONFIG } from '../src/core/training-config';
import type { SegmentedResNet50 } from '../src/ml/segments';
import { TrainingEngine, type LabeledImages } from '../src/ml/training-engine';
import { median } from './shared';

export interface Scenario {
  label: string;
  freezeDepth: number;
  sizePx: number;
  batchSize: number;
  cached: boolean;
}

export interface ScenarioResult extends Scenario {
  /** Median ms per step, first step of the timed epoch excluded. */
  msPerStep: number;
  steps: number;
  /** Largest tf.memory().numBytes seen between steps (weights, optimizer state, inputs in flight). */
  peakTensorBytes: number;
}

export function scenarios(sizes: { small: number; large: number }): Scenario[] {
  const out: Scenario[] = [];
  for (const [sizePx, batchSize] of [
    [sizes.small, 8],
    [sizes.large, 4],
  ] as const) {
    out.push(
      { label: `k=0 cached ${sizePx}²`, freezeDepth: 0, sizePx, batchSize, cached: true },
      { label: `k=0 uncached ${sizePx}²`, freezeDepth: 0, sizePx, batchSize, cached: false },
      { label: `k=3 cached ${sizePx}²`, freezeDepth: 3, sizePx, batchSize, cached: true },
      { label: `k=16 ${sizePx}²`, freezeDepth: 16, sizePx, batchSize, cached: true },
    );
  }
  return out;
}

function randomImages(count: number, sizePx: number): LabeledImages {
  const perImage = sizePx * sizePx * 3;
  const pixels = Float32Array.from({ length: perImage * count }, (_, i) => ((i * 2654435761) % 255) - 120);
  return {
    size: count,
    labels: Int32Array.from({ length: count }, (_, i) => i % 4),
    ids: Array.from({ length: count }, (_, i) => `bench/${sizePx}/${i}`),
    specHash: `bench-${sizePx}`,
    sizePx,
    augmented: false,
    async load(indices) {
      const out = new Float32Array(indices.length * perImage);
      indices.forEach((index, j) => out.set(pixels.subarray(index * perImage, (index + 1) * perImage), j * perImage));
      return out;
    },
  };
}


/**
 * Two epochs of `stepsPerEpoch` steps; the second epoch is timed (the cache is warm by then),
 * without its first step. Restores nothing: run it on a model you do not need afterwards.
 */
export async function runScenario(net: SegmentedResNet50, scenario: Scenario, stepsPerEpoch = 3): Promise<ScenarioResult> {
  const stepMs: number[] = [];
  let peakTensorBytes = 0;
  const engine = new TrainingEngine({
    pretrained: net,
    numClasses: 4,
    config: {
      ...DEFAULT_TRAINING_CONFIG,
      freezeDepth: scenario.freezeDepth,
      batchSize: scenario.batchSize,
      epochs: 2,
      learningRate: 1e-4,
      featureCacheLimitBytes: scenario.cached ? 2 * 1024 ** 3 : 1,
    },
    hooks: {
      onStep: (report) => {
        if (report.epoch === 1) stepMs.push(report.ms);
        peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
      },
      onYield: () => Promise.resolve(),
    },
  });
  const summary = await engine.run(randomImages(stepsPerEpoch * scenario.batchSize, scenario.sizePx), null);
  engine.dispose();
  if (summary.status !== 'completed') throw new Error(`${scenario.label}: ${summary.error?.message ?? summary.status}`);
  const timed = stepMs.length > 1 ? stepMs.slice(1) : stepMs;
  return { ...scenario, msPerStep: median(timed), steps: timed.length, peakTensorBytes };
}
