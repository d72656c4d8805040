// The fine-tuning step benchmarks, shared by the Node bench and the browser bench worker: ms per
// step at a freeze depth, with or without the feature cache, on synthetic images.

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_TRAINING_CONFIG } from '../src/core/training-config';
import type { SegmentedResNet50 } from '../src/ml/segments';
import { DEFAULT_PREPROCESS_SPEC } from '../src/core/preprocess-spec';
import { RunModel } from '../src/ml/run-model';
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

/** The side-by-side comparison with PyTorch (`npm run bench -- peer`): the scenarios of issue #10. */
export const PEER_SCENARIOS: Scenario[] = [
  { label: 'k=0 uncached 224²', freezeDepth: 0, sizePx: 224, batchSize: 4, cached: false },
  { label: 'k=3 cached 224²', freezeDepth: 3, sizePx: 224, batchSize: 4, cached: true },
  { label: 'k=3 cached 224²', freezeDepth: 3, sizePx: 224, batchSize: 8, cached: true },
  { label: 'k=16 112²', freezeDepth: 16, sizePx: 112, batchSize: 8, cached: true },
  { label: 'k=16 224²', freezeDepth: 16, sizePx: 224, batchSize: 4, cached: true },
];

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
 * without its first step. The run trains copies of the segments: `net` stays as it was.
 */
export async function runScenario(net: SegmentedResNet50, scenario: Scenario, stepsPerEpoch = 3, onTimedStepsStart?: () => void): Promise<ScenarioResult> {
  const stepMs: number[] = [];
  let peakTensorBytes = 0;
  const model = new RunModel({ base: net, classNames: ['a', 'b', 'c', 'd'], spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: scenario.sizePx } });
  const engine = new TrainingEngine({
    model,
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
        // The second epoch's first step is not timed (see below): the timed ones start after it.
        if (report.epoch === 1 && stepMs.length === 1) onTimedStepsStart?.();
        peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
      },
      onYield: () => Promise.resolve(),
    },
  });
  const summary = await engine.run(randomImages(stepsPerEpoch * scenario.batchSize, scenario.sizePx), null);
  engine.dispose();
  model.dispose();
  if (summary.status !== 'completed') throw new Error(`${scenario.label}: ${summary.error?.message ?? summary.status}`);
  const timed = stepMs.length > 1 ? stepMs.slice(1) : stepMs;
  return { ...scenario, msPerStep: median(timed), steps: timed.length, peakTensorBytes };
}

export interface KernelShare {
  kernel: string;
  /** ms per step, averaged over the steps runScenario times (not the first epoch, which fills the cache). */
  msPerStep: number;
  share: number;
}

/**
 * Where a scenario's time goes: every registered kernel's time over the steps runScenario times
 * (tf.profile), per step, largest first, and the median of those steps. Ops that only wrap kernels
 * (custom gradients, op scopes) are left out.
 */
export async function kernelShares(net: SegmentedResNet50, scenario: Scenario, stepsPerEpoch = 3): Promise<{ kernels: KernelShare[]; msPerStep: number }> {
  const backend = tf.getBackend();
  const byKernel = new Map<string, number>();
  // The profile's kernels so far, when the timed steps start: read from the engine's running
  // profile, which tf.profile fills as kernels run.
  let firstTimed = 0;
  let msPerStep = 0;
  const info = await tf.profile(async () => {
    msPerStep = (await runScenario(net, scenario, stepsPerEpoch, () => (firstTimed = tf.engine().state.activeProfile.kernels.length))).msPerStep;
    return [];
  });
  for (const kernel of info.kernels.slice(firstTimed)) {
    if (!tf.getKernel(kernel.name, backend)) continue;
    byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + (kernel.kernelTimeMs as number));
  }
  const steps = stepsPerEpoch - 1;
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const kernels = [...byKernel.entries()]
    .map(([kernel, ms]) => ({ kernel, msPerStep: ms / steps, share: ms / total }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  return { kernels, msPerStep };
}
