// The fine-tuning engine on the real pretrained ResNet50 (wasm backend, small inputs): what
// trains at each freeze depth (in the run's own copies: the pretrained network stays
// bit-identical), live changes, train more, cached vs uncached, failures, and tensor leaks.

import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classWeights } from '../../src/core/class-weights';
import { DEFAULT_TRAINING_CONFIG, type TrainingConfig } from '../../src/core/training-config';
import { DEFAULT_PREPROCESS_SPEC } from '../../src/core/preprocess-spec';
import type { ChangeRecord, StepRecord } from '../../src/core/run-records';
import { RunModel } from '../../src/ml/run-model';
import { segmentResNet50, type Segment, type SegmentedResNet50 } from '../../src/ml/segments';
import { TrainingEngine, type StepFailure, type TrainingHooks } from '../../src/ml/training-engine';
import type { TrainingState } from '../../src/core/run-records';
import { changedWeights, restoreWeights, snapshotWeights, syntheticImages } from '../helpers/engine-fixtures';
import { loadRealModel } from '../helpers/node-model';

const SIZE_PX = 32; // res5 is 1×1 at 32 px: the smallest input that runs every layer
const noYield = () => Promise.resolve();

let model: tf.LayersModel;
let net: SegmentedResNet50;
let pristine: Map<string, Float32Array>;

beforeAll(async () => {
  model = (await loadRealModel()).model;
  net = segmentResNet50(model);
  pristine = snapshotWeights(model);
});

// Nothing should write the pretrained network; if a test does, the next ones still start clean.
afterEach(() => {
  const changed = changedWeights(model, pristine);
  restoreWeights(model, pristine);
  expect(changed).toEqual([]);
});

const made: { engine: TrainingEngine; model: RunModel }[] = [];
afterEach(() => {
  for (const { engine: e, model: m } of made.splice(0)) {
    e.dispose();
    m.dispose();
  }
});

/** An engine on a new RunModel over the pretrained network; both are freed after the test. */
function engine(config: Partial<TrainingConfig>, hooks: TrainingHooks = {}, numClasses = 3) {
  const runModel = new RunModel({ base: net, classNames: Array.from({ length: numClasses }, (_, c) => `class${c}`), spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX } });
  const e = new TrainingEngine({
    model: runModel,
    config: { ...DEFAULT_TRAINING_CONFIG, batchSize: 4, epochs: 1, warmupSteps: 0, schedule: 'constant', dropout: 0, ...config },
    hooks: { onYield: noYield, ...hooks },
  });
  made.push({ engine: e, model: runModel });
  return e;
}

/** Weight names (Keras') whose values in the run's segments differ from the pretrained ones in any bit. */
function trainedWeights(runModel: RunModel): string[] {
  return runModel.allSegments().flatMap((segment: Segment) =>
    segment.layers.flatMap(({ layer }) =>
      layer.weights.filter((w) => !Buffer.from((w.read().dataSync() as Float32Array).buffer).equals(Buffer.from(pristine.get(w.originalName)!.buffer))).map((w) => w.originalName),
    ),
  );
}

/** Keras names of one block's weights, e.g. res5c → res5c_branch2a/kernel, bn5c_branch2a/moving_mean. */
function blockWeightNames(block: string): string[] {
  const segment = net.blocks.find((b) => b.name === block)!;
  return segment.layers.flatMap(({ layer }) => layer.weights.map((w) => w.originalName));
}

describe('freeze depth', () => {
  it('k = 0: only the head trains; the model has no segment of its own', async () => {
    const e = engine({ freezeDepth: 0 });
    const headBefore = e.model.head.kernel.dataSync().slice();
    const summary = await e.run(syntheticImages([4, 4, 4], SIZE_PX), null);
    expect(summary).toMatchObject({ status: 'completed', steps: 3 });
    expect(e.model.trainedSegments()).toEqual([]);
    expect(trainedWeights(e.model)).toEqual([]);
    expect(e.model.head.kernel.dataSync()).not.toEqual(headBefore);
  });

  it('k = 2: exactly blocks 15–16 (res5b, res5c) and the head train, in copies; BatchNorm statistics stay put', async () => {
    const e = engine({ freezeDepth: 2 });
    await e.run(syntheticImages([4, 4, 4], SIZE_PX), null);
    expect(e.model.trainedSegments()).toEqual(['res5b', 'res5c']);
    const trainable = [...blockWeightNames('res5b'), ...blockWeightNames('res5c')].filter((n) => !/moving_(mean|variance)/.test(n)).sort();
    expect(trainedWeights(e.model).sort()).toEqual(trainable);
    // The copies are what the model runs; the pretrained blocks are other objects.
    expect(e.model.blocks[15]).not.toBe(net.blocks[15]);
    expect(e.model.blocks[13]).toBe(net.blocks[13]);
  });

  it('k = 2 with BatchNorm policy "train": the unfrozen blocks’ statistics move, the frozen ones’ do not', async () => {
    const e = engine({ freezeDepth: 2, batchNormPolicy: 'train' });
    await e.run(syntheticImages([4, 4, 4], SIZE_PX), null);
    const changed = new Set(trainedWeights(e.model));
    const unfrozen = [...blockWeightNames('res5b'), ...blockWeightNames('res5c')];
    expect(unfrozen.filter((n) => n.includes('moving_mean')).every((n) => changed.has(n))).toBe(true);
    expect([...changed].every((n) => unfrozen.includes(n))).toBe(true);
  });

  it('reports BatchNorm drift: none in frozen segments, some in unfrozen ones trained with batch statistics', async () => {
    const e = engine({ freezeDepth: 1, batchNormPolicy: 'train' });
    await e.run(syntheticImages([4, 4, 4], SIZE_PX), null);
    const drift = await e.batchNormDrift();
    expect(drift.map((d) => d.name)).toEqual(['stem', ...net.blocks.map((b) => b.name)]);
    for (const d of drift.filter((d) => d.frozen)) expect([d.meanRelativeChange, d.varianceRelativeChange]).toEqual([0, 0]);
    const res5c = drift.find((d) => d.name === 'res5c')!;
    expect(res5c.frozen).toBe(false);
    expect(res5c.meanRelativeChange).toBeGreaterThan(0);
    e.dispose();
  });

  it('counts trainable parameters by hand', () => {
    const e = engine({}, {}, 6);
    const head = 2048 * 6 + 6;
    // res5c: 1×1 2048→512, 3×3 512→512, 1×1 512→2048, each conv with bias and a BN (γ, β).
    const res5c = 2048 * 512 + 512 + 2 * 512 + 9 * 512 * 512 + 512 + 2 * 512 + 512 * 2048 + 2048 + 2 * 2048;
    expect(e.trainableParamCount(0)).toBe(head);
    expect(e.trainableParamCount(1)).toBe(head + res5c);
    // All blocks and the stem: every parameter of ResNet50 except fc1000 and the BN moving statistics.
    const movingStats = model.weights.filter((w) => /moving_(mean|variance)/.test(w.originalName)).reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
    expect(e.trainableParamCount(17)).toBe(25_636_712 - (2048 * 1000 + 1000) - movingStats + head);
    e.dispose();
  });
});

describe('live changes', () => {
  it('freeze depth and class weighting change at the next step, with events carrying the step', async () => {
    const steps: StepRecord[] = [];
    const changes: ChangeRecord[] = [];
    const res5cValues: Float32Array[] = [];
    const e = engine(
      { freezeDepth: 0, classWeighting: 'balanced' },
      {
        onStep: (report) => {
          steps.push(report);
          res5cValues.push(e.model.blocks[15]!.layers[0]!.layer.weights[0]!.read().dataSync() as Float32Array);
          if (report.step === 1) {
            e.change({ kind: 'freezeDepth', value: 1 });
            e.change({ kind: 'classWeighting', value: 'off' });
            e.change({ kind: 'learningRate', value: 5e-4 });
            e.change({ kind: 'batchNormPolicy', value: 'train' });
          }
        },
        onChange: (report) => changes.push(report),
      },
    );
    const data = syntheticImages([6, 3, 3], SIZE_PX);
    await e.run(data, null);
    expect(changes.map((c) => [c.step, c.change.kind])).toEqual([
      [2, 'freezeDepth'],
      [2, 'classWeighting'],
      [2, 'learningRate'],
      [2, 'batchNormPolicy'],
    ]);
    expect(steps.map((s) => s.learningRate)).toEqual([1e-3, 1e-3, 5e-4]);
    expect(steps.map((s) => s.freezeDepth)).toEqual([0, 0, 1]);
    expect(steps[2]!.trainableParams).toBe(e.trainableParamCount(1));
    expect(steps[0]!.classWeights).toEqual(classWeights([6, 3, 3], 'balanced'));
    expect(steps[2]!.classWeights).toEqual([1, 1, 1]);
    // res5c's weights did not move in steps 0–1 and moved in step 2.
    expect(res5cValues[1]).toEqual(res5cValues[0]);
    expect(res5cValues[2]).not.toEqual(res5cValues[1]);
    e.dispose();
  });
});

describe('feature cache', () => {
  async function losses(freezeDepth: number, cacheLimitBytes: number) {
    const out: number[] = [];
    let cacheFullReports = 0;
    const e = engine(
      { freezeDepth, epochs: 2, featureCacheLimitBytes: cacheLimitBytes },
      { onStep: (r) => out.push(r.loss), onCacheFull: () => (cacheFullReports += 1) },
    );
    await e.run(syntheticImages([4, 4], SIZE_PX, 3), null);
    const cacheEntries = e.cacheStats().entries;
    return { losses: out, cacheEntries, cacheFullReports };
  }

  it.each([0, 1])('k = %i: cached and uncached paths give the same losses', async (k) => {
    const cached = await losses(k, 64 * 1024 * 1024);
    const uncached = await losses(k, 1); // nothing fits: every batch goes through the frozen prefix
    expect(cached.cacheEntries).toBe(8);
    expect(uncached.cacheEntries).toBe(0);
    expect(uncached.cacheFullReports).toBe(1);
    expect(cached.losses).toHaveLength(4);
    cached.losses.forEach((loss, i) => expect(Math.abs(loss - uncached.losses[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss))));
  });

  it('never serves features of a segment that trained since: k = 16 → 17 (the stem trains) → 16 gives the uncached losses', async () => {
    const run = async (cacheLimitBytes: number) => {
      const out: number[] = [];
      const e = engine({ freezeDepth: 16, epochs: 3, featureCacheLimitBytes: cacheLimitBytes, learningRate: 1e-4 }, {
        onStep: (r) => {
          out.push(r.loss);
          if (r.step === 1) e.change({ kind: 'freezeDepth', value: 17 });
          if (r.step === 3) e.change({ kind: 'freezeDepth', value: 16 });
        },
      });
      // A non-finite loss would pause the run for good here: it must complete.
      expect((await e.run(syntheticImages([4, 4], SIZE_PX, 11), null)).status).toBe('completed');
      return out;
    };
    const cached = await run(64 * 1024 * 1024);
    const uncached = await run(1);
    expect(cached).toHaveLength(6);
    cached.forEach((loss, i) => expect(Math.abs(loss - uncached[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss))));
  });

  it('keeps training and validation entries apart: a validation spec of its own does not empty the training cache', async () => {
    const e = engine({ freezeDepth: 0, epochs: 3 });
    const train = syntheticImages([4, 4], SIZE_PX, 12);
    // Validation preprocessed another way on purpose (the lab lets a user reproduce that bug).
    const validation = { ...syntheticImages([2, 2], SIZE_PX, 13), specHash: 'another-spec' };
    await e.run(train, validation);
    // Each image went through the frozen network once, over three epochs and three evaluations.
    expect(e.cacheStats()).toMatchObject({ entries: 12, misses: 12, invalidations: 0 });
  });

  it('is reused across epochs and emptied when the boundary moves into it', async () => {
    const e = engine({ freezeDepth: 0, epochs: 2 });
    const data = syntheticImages([4, 4], SIZE_PX, 4);
    await e.run(data, null);
    expect(e.cacheStats()).toMatchObject({ entries: 8, misses: 8, hits: 8, invalidations: 0 });
    e.change({ kind: 'freezeDepth', value: 1 });
    await e.run(data, null);
    expect(e.cacheStats()).toMatchObject({ entries: 8, invalidations: 1 });
    e.dispose();
  });
});

describe('micro-batches', () => {
  it('sum to the same steps as the whole batch (k = 1, batch 4 as 2 × 2, two steps)', async () => {
    const data = syntheticImages([2, 2], SIZE_PX, 9);
    const oneStep = async (microBatchSize: number) => {
      let loss = NaN;
      // Plain SGD: the update is lr · gradient, so equal updates mean equal gradients (Adam's first step is lr · sign).
      // Two steps: the new head starts at zero, so the backbone's first gradient is zero.
      const e = engine({ freezeDepth: 1, batchSize: 4, epochs: 2, microBatchSize, optimizer: 'sgd', momentum: 0, learningRate: 0.5 }, { onStep: (r) => (loss = r.loss) }, 2);
      await e.run(data, null);
      const kernel = e.model.blocks[15]!.layers[0]!.layer.weights[0]!.read().dataSync().slice() as Float32Array;
      const head = e.model.head.kernel.dataSync().slice() as Float32Array;
      return { loss, kernel, head };
    };
    const whole = await oneStep(4);
    const parts = await oneStep(2);
    expect(Math.abs(parts.loss - whole.loss)).toBeLessThan(1e-5);
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    const moved = (a: Float32Array) => maxDiff(a, net.blocks[15]!.layers[0]!.layer.weights[0]!.read().dataSync() as Float32Array);
    expect(moved(whole.kernel)).toBeGreaterThan(1e-4); // the step did move res5c
    expect(maxDiff(parts.kernel, whole.kernel)).toBeLessThan(1e-3 * moved(whole.kernel));
    expect(maxDiff(parts.head, whole.head)).toBeLessThan(1e-5);
  });
});

describe('pause, resume, stop', () => {
  it('pauses between steps and carries on where it stopped', async () => {
    const steps: number[] = [];
    const e = engine({ epochs: 1 }, { onStep: (r) => {
      steps.push(r.step);
      if (r.step === 0) e.pause();
    } });
    const run = e.run(syntheticImages([4, 4, 4], SIZE_PX), null);
    await waitFor(() => steps.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(steps).toEqual([0]); // nothing ran while paused
    e.resume();
    expect(await run).toMatchObject({ status: 'completed', steps: 3 });
    expect(steps).toEqual([0, 1, 2]);
    e.dispose();
  });
});

describe('failures and leaks', () => {
  it('a non-finite loss rolls back to the last good weights, pauses, and recovers with a lower learning rate', async () => {
    const failures: StepFailure[] = [];
    const losses: number[] = [];
    // A learning rate this absurd overflows the head after one update: the next loss is NaN.
    const e = engine({ optimizer: 'sgd', momentum: 0, learningRate: 1e38, epochs: 2 }, { onStepFailed: (f) => failures.push(f), onStep: (r) => losses.push(r.loss) });
    const headAtStart = e.model.head.kernel.dataSync().slice();
    const run = e.run(syntheticImages([8, 8, 8], SIZE_PX), null);
    await waitFor(() => failures.length > 0);
    expect(e.isPaused).toBe(true);
    expect(failures[0]).toMatchObject({ kind: 'non-finite-loss' });
    expect(failures[0]!.step).toBeGreaterThan(0);
    expect(failures[0]!.error.message).toContain('went back to where they were at step 0');
    // The checkpoint is the run's start: the zero head.
    expect(e.model.head.kernel.dataSync()).toEqual(headAtStart);
    e.change({ kind: 'learningRate', value: 1e-3 });
    e.resume();
    expect((await run).status).toBe('completed');
    expect(losses.slice(failures[0]!.step).every(Number.isFinite)).toBe(true);
    e.dispose();
  });

  it('a rollback forgets the copies made after the checkpoint: those blocks run the pretrained weights again', async () => {
    const failures: StepFailure[] = [];
    const e = engine({ optimizer: 'sgd', momentum: 0, learningRate: 1e38, freezeDepth: 0, epochs: 1 }, {
      onStep: (r) => {
        if (r.step === 0) e.change({ kind: 'freezeDepth', value: 1 });
      },
      onStepFailed: (f) => failures.push(f),
    });
    const run = e.run(syntheticImages([8, 8, 8], SIZE_PX), null);
    await waitFor(() => failures.length > 0);
    expect(e.model.trainedSegments()).toEqual([]);
    expect(e.model.blocks[15]).toBe(net.blocks[15]);
    e.stop();
    await run;
  });

  it('goes back to the epoch of lowest validation loss (early stopping), forgetting blocks first trained after it', async () => {
    const validationLosses: number[] = [];
    // Epoch 0 head only, then res5c too at a learning rate that makes validation worse.
    const e = engine({ freezeDepth: 0, epochs: 3, learningRate: 1e-3 }, { onEpochEnd: (r) => validationLosses.push(r.validation!.loss) });
    const train = syntheticImages([8, 8, 8], SIZE_PX);
    const validation = syntheticImages([4, 4, 4], SIZE_PX, 7);
    await e.run(train, validation);
    const best = validationLosses.indexOf(Math.min(...validationLosses));
    expect(e.bestEpoch).toEqual({ epoch: best, loss: validationLosses[best] });
    e.configure({ ...e.settings, freezeDepth: 1, learningRate: 0.5, epochs: 1 });
    await e.run(train, validation);
    const tensors = tf.memory().numTensors;
    const restored = e.restoreBestEpoch()!;
    expect(restored.epoch).toBe(validationLosses.indexOf(Math.min(...validationLosses)));
    expect((await e.evaluate(validation)).loss).toBeCloseTo(restored.loss, 5);
    expect(restored.epoch).toBeLessThan(3);
    expect(e.model.trainedSegments()).toEqual([]);
    // Its copies are freed, not leaked; the counts go on.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(tensors);
    expect(e.stepsDone).toBe(24);
  });

  it('leaks no tensors across steps, epochs, k changes, stop/restart and a failed step', async () => {
    const data = syntheticImages([4, 4, 4], SIZE_PX, 5);
    const e = engine({ freezeDepth: 1, epochs: 2 });
    await e.run(data, data); // warm-up: optimizer state, kernels
    const baseline = tf.memory().numTensors;

    await e.run(data, data);
    expect(tf.memory().numTensors).toBe(baseline);

    // Stop mid-run, change k back and forth, restart.
    const stopping = e.run(data, data);
    e.stop();
    await stopping;
    e.change({ kind: 'freezeDepth', value: 0 });
    e.change({ kind: 'freezeDepth', value: 1 });
    await e.run(data, null);
    expect(tf.memory().numTensors).toBe(baseline);

    // A batch whose pixels have the wrong size throws before the gradient tape...
    const broken = { ...data, ids: data.ids.map((id) => `broken/${id}`), load: async (indices: readonly number[]) => new Float32Array(indices.length * 7) };
    expect((await e.run(broken, null)).status).toBe('failed');
    expect(tf.memory().numTensors).toBe(baseline);

    // ...and a layer that throws halfway through the trainable blocks fails inside it (the residual
    // Add: each convolution, its BatchNorm and ReLU run as one op, without their layers' apply).
    const layer = e.model.blocks[15]!.layers.find(({ layer }) => layer.getClassName() === 'Add')!.layer;
    const apply = layer.apply.bind(layer);
    layer.apply = () => {
      throw new Error('simulated failure inside the gradient tape');
    };
    try {
      const summary = await e.run(data, null);
      expect(summary).toMatchObject({ status: 'failed', error: { message: 'simulated failure inside the gradient tape' } });
    } finally {
      layer.apply = apply;
    }
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('frees every tensor it made: engine and model disposed, numTensors is back where it was', async () => {
    const before = tf.memory().numTensors;
    const runModel = new RunModel({ base: net, classNames: ['a', 'b', 'c'], spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX } });
    const e = new TrainingEngine({ model: runModel, config: { ...DEFAULT_TRAINING_CONFIG, batchSize: 4, epochs: 1, freezeDepth: 2 }, hooks: { onYield: noYield } });
    await e.run(syntheticImages([4, 4, 4], SIZE_PX, 6), null);
    e.dispose();
    runModel.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('repeatability', () => {
  it('the same data, settings and seed give the same losses and metrics, dropout included; another seed other ones', async () => {
    const run = async (seed: number) => {
      const losses: number[] = [];
      const accuracies: number[] = [];
      const e = engine({ freezeDepth: 0, epochs: 2, dropout: 0.2, seed }, { onStep: (r) => losses.push(r.loss), onEpochEnd: (r) => accuracies.push(r.validation!.metrics.macroF1) });
      const data = syntheticImages([6, 6], SIZE_PX, 14);
      await e.run(data, syntheticImages([3, 3], SIZE_PX, 15));
      return { losses, accuracies };
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect((await run(8)).losses).not.toEqual(first.losses);
  });
});

describe('resume', () => {
  // A run cut off after its second epoch (a reload, a crash) goes on from the state saved then:
  // a new engine on a new model, as a new worker would make, gives the same losses step for step.
  it.each([
    ['head only', 0],
    ['k = 1', 1],
  ])('%s: a state saved at an epoch end, through structured clone, resumes to the same losses and weights', async (_name, freezeDepth) => {
    const config: Partial<TrainingConfig> = { freezeDepth, epochs: 3, dropout: 0.2, seed: 5, schedule: 'warmup-cosine', warmupSteps: 2 };
    const data = syntheticImages([4, 4, 4], SIZE_PX, 21);
    const validation = syntheticImages([2, 2, 2], SIZE_PX, 22);
    const losses: number[] = [];
    let saved: Promise<TrainingState> | null = null;
    const whole: TrainingEngine = engine(config, {
      onStep: (r) => losses.push(r.loss),
      onEpochEnd: (r) => {
        if (r.epoch === 1) saved = whole.snapshotState().read();
        // A live change before the cut: the state carries it.
        if (r.epoch === 0) whole.change({ kind: 'learningRate', value: 5e-4 });
      },
    });
    expect(await whole.run(data, validation)).toMatchObject({ status: 'completed', steps: 9 });
    const state = structuredClone(await saved!);
    expect(state).toMatchObject({ step: 6, epoch: 2, runStart: { step: 0, epoch: 0 }, config: { learningRate: 5e-4 } });
    expect(state.segments.map((s) => s.index)).toEqual(freezeDepth === 1 ? [16] : []);

    const before = tf.memory().numTensors;
    const resumedLosses: number[] = [];
    const resumed = engine(state.config, { onStep: (r) => resumedLosses.push(r.loss) });
    resumed.restoreState(state);
    expect(await resumed.run(data, validation, { resume: true })).toMatchObject({ status: 'completed', steps: 9, epochs: 3 });
    expect(resumedLosses).toEqual(losses.slice(6));
    expect(resumed.model.head.kernel.dataSync()).toEqual(whole.model.head.kernel.dataSync());
    expect(resumed.model.trainedSegments()).toEqual(whole.model.trainedSegments());
    resumed.dispose();
    resumed.model.dispose();
    made.pop();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a state of another optimizer or class count', () => {
    const e = engine({ optimizer: 'adam' });
    const state = {
      format: 'finetune-lab/training-state',
      version: 1,
      step: 3,
      epoch: 1,
      config: { ...e.settings, optimizer: 'sgd' },
      runStart: { step: 0, epoch: 0 },
      head: { kernel: new Float32Array(2048 * 2), bias: new Float32Array(2) },
      segments: [],
      optimizer: { kind: 'sgd', slots: [] },
    } as const satisfies TrainingState;
    expect(() => e.restoreState(state)).toThrow('The saved run used sgd');
    expect(() => e.restoreState({ ...state, config: e.settings, optimizer: { kind: 'adam', slots: [] } })).toThrow('The saved head has 2 classes; the model has 3.');
  });
});

describe('train more', () => {
  it('continues the step, epoch and optimizer state with new settings, and leaves the model when disposed', async () => {
    const steps: StepRecord[] = [];
    const e = engine({ freezeDepth: 1, epochs: 1 }, { onStep: (r) => steps.push(r) });
    const data = syntheticImages([4, 4, 4], SIZE_PX, 7);
    await e.run(data, null);
    const headAfterFirst = e.model.head.kernel.dataSync().slice();
    e.configure({ ...e.settings, epochs: 2, freezeDepth: 2, learningRate: 5e-4 });
    const summary = await e.run(data, null);
    expect(summary).toMatchObject({ status: 'completed', steps: 9, epochs: 3 });
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(steps.map((s) => s.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(steps.slice(3).every((s) => s.freezeDepth === 2 && s.learningRate === 5e-4)).toBe(true);
    // res5c kept its copy from the first run; res5b got one in the second.
    expect(e.model.trainedSegments()).toEqual(['res5b', 'res5c']);
    expect(e.model.head.kernel.dataSync()).not.toEqual(headAfterFirst);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
