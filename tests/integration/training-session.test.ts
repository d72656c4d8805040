// The training worker's training session in Node, with the real pretrained weights and a dropped
// folder of tiny generated images (scanned by the real dataset session through a stand-in decode
// pool): a run leaves a model that predicts with a heat map, exports both zips, trains more with
// the charts' step count going on, is discarded, and comes back from its own zip.

import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRAINING_CONFIG } from '../../src/core/training-config';
import type { RunJson } from '../../src/core/run-report';
import { initBackend } from '../../src/ml/backend';
import { loadPretrainedNetwork, type PretrainedNetwork } from '../../src/ml/pretrained-network';
import { createDatasetSession, type DatasetCommand } from '../../src/workers/dataset-session';
import type { RunSettings, WorkerEvent } from '../../src/workers/protocol';
import { createTrainingSession, type TrainingSession } from '../../src/workers/training-session';
import { changedWeights, snapshotWeights } from '../helpers/engine-fixtures';
import { createStandInPool, decodeInNode, pngBytes, type Paint } from '../helpers/node-decode-pool';
import { fsModelSource } from '../helpers/node-model';
import { requireModel } from '../helpers/paths';

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;
type DroppedFiles = Extract<DatasetCommand, { type: 'dataset/open' }>['files'];

// 64 px: res5 is 2 × 2, so a heat map has four cells.
const SIZE_PX = 64;
const RED: Paint = (x, y) => [200 + ((x * 7) % 50), (y * 5) % 60, 30, 255];
const BLUE: Paint = (x, y) => [30, (x * 5) % 60, 200 + ((y * 7) % 50), 255];

function drop(): DroppedFiles {
  const image = (cls: string, i: number, paint: Paint) => ({ path: `shapes/${cls}/${cls}-${i}.png`, file: new File([pngBytes(40 + i, 40, paint)], `${cls}-${i}.png`, { type: 'image/png' }) });
  return [
    { path: 'shapes', file: null },
    { path: 'shapes/red', file: null },
    ...Array.from({ length: 6 }, (_, i) => image('red', i, RED)),
    { path: 'shapes/blue', file: null },
    ...Array.from({ length: 6 }, (_, i) => image('blue', i, BLUE)),
  ];
}

const settings = (overrides: Partial<RunSettings['config']> = {}): RunSettings => ({
  config: { ...DEFAULT_TRAINING_CONFIG, epochs: 1, batchSize: 4, freezeDepth: 1, warmupSteps: 0, learningRate: 1e-3, ...overrides },
  sizePx: SIZE_PX,
  resize: 'stretch',
  augment: false,
  normalization: 'caffe',
  validationNormalization: null,
});

describe('training session (the training worker’s logic, in Node)', () => {
  const events: WorkerEvent[] = [];
  let pretrained: PretrainedNetwork;
  let session: TrainingSession;
  let datasets: ReturnType<typeof createDatasetSession>;
  let pristine: Map<string, Float32Array>;
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is EventOf<T> => e.type === type);
  const image = (i: number) => new File([pngBytes(44, 40, i % 2 ? BLUE : RED)], `new-${i}.png`, { type: 'image/png' });

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    pretrained = await loadPretrainedNetwork(fsModelSource(requireModel()));
    pristine = snapshotWeights(pretrained.model);
    const pool = createStandInPool();
    datasets = createDatasetSession({ emit: (e) => events.push(e), pool: () => pool });
    await datasets.handle({ type: 'dataset/open', files: drop(), split: { validationFraction: 0.34, seed: 1 } });
    session = createTrainingSession({
      emit: (e) => events.push(e),
      pretrained: () => pretrained,
      dataset: () => datasets.current(),
      pool: () => pool,
      decode: decodeInNode,
      backend: () => ({ name: 'wasm', skipped: [], wasmThreads: 1, crossOriginIsolated: false }),
      date: () => new Date('2026-12-02T10:00:00Z'),
    });
  }, 120_000);

  it('runs, then keeps the model: trained/ready after train/finished, the pretrained network untouched', async () => {
    await session.handle({ type: 'train/start', settings: settings(), continue: false });
    const types = events.map((e) => e.type).filter((t) => t.startsWith('train/') || t.startsWith('trained/'));
    expect(types[0]).toBe('train/started');
    expect(types.slice(-2)).toEqual(['train/finished', 'trained/ready']);
    const [ready] = of('trained/ready');
    // 8 training images (6 + 6 less a third for validation), batch 4: 2 steps.
    expect(ready!.model).toMatchObject({ origin: 'run', classNames: ['blue', 'red'], steps: 2, epochs: 1, trainedSegments: ['res5c'] });
    expect(ready!.model.spec.sizePx).toBe(SIZE_PX);
    expect(changedWeights(pretrained.model, pristine)).toEqual([]);
  }, 300_000);

  it('predicts new images with their top classes and a Grad-CAM map, and leaks nothing doing it', async () => {
    const ask = () => session.handle({ type: 'trained/predict', requestId: 7, images: [0, 1].map((i) => ({ path: `new/${i}.png`, image: image(i) })), heatMaps: true });
    await ask();
    const tensors = tf.memory().numTensors;
    await ask();
    expect(tf.memory().numTensors).toBe(tensors);
    const predictions = of('trained/predicted').map((e) => e.prediction);
    expect(predictions.map((p) => p.path)).toEqual(['new/0.png', 'new/1.png', 'new/0.png', 'new/1.png']);
    const first = predictions[0]!;
    expect(first).toMatchObject({ requestId: 7, width: 44, height: 40 });
    expect(first.top.map((t) => t.label).sort()).toEqual(['blue', 'red']);
    expect(first.top[0]!.probability + first.top[1]!.probability).toBeCloseTo(1, 5);
    expect(first.heatMap).toMatchObject({ width: 2, height: 2, classIndex: first.top[0]!.index });
    const values = Array.from(first.heatMap!.values);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(values.every((v) => v >= 0)).toBe(true);
    // The same image, the same answer.
    expect(predictions[2]!.top).toEqual(first.top);
  }, 120_000);

  it('names an image it cannot read, and goes on with the next', async () => {
    await session.handle({ type: 'trained/predict', requestId: 8, images: [{ path: 'notes.png', image: new File(['not an image'], 'notes.png') }, { path: 'ok.png', image: image(0) }], heatMaps: false });
    expect(of('trained/predictFailed').at(-1)).toMatchObject({ requestId: 8, path: 'notes.png', error: { code: 'image/decode-failed' } });
    expect(of('trained/predicted').at(-1)!.prediction).toMatchObject({ requestId: 8, path: 'ok.png', heatMap: null, heatMapMs: null });
  }, 60_000);

  it('exports run.json with settings, steps, epochs, findings, backend and each split’s files, and metrics.csv', async () => {
    await session.handle({ type: 'trained/export', format: 'run' });
    const file = of('trained/exported').at(-1)!.file;
    expect(file).toMatchObject({ format: 'run', fileName: 'shapes-run.zip' });
    const files = unzipSync(file.bytes);
    const run = JSON.parse(new TextDecoder().decode(files['run.json'])) as RunJson;
    expect(run).toMatchObject({ format: 'finetune-lab/run', version: 1, exportedAt: '2026-12-02T10:00:00.000Z', classNames: ['blue', 'red'], backend: { name: 'wasm' } });
    expect(run.runs).toHaveLength(1);
    expect(run.runs[0]).toMatchObject({ firstStep: 0, ended: { status: 'completed' }, settings: { sizePx: SIZE_PX } });
    expect(run.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(run.epochs).toHaveLength(1);
    expect(run.dataset.files.train).toHaveLength(8);
    expect(run.dataset.files.validation.map((f) => f.className).sort()).toEqual(['blue', 'blue', 'red', 'red']);
    expect(run.dataset.files.train[0]!.path).toMatch(/^shapes\/(red|blue)\/\w+-\d\.png$/);
    expect(Array.isArray(run.findings)).toBe(true);
    const csv = new TextDecoder().decode(files['metrics.csv']).trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,validation_macro_f1,epoch_ms,f1_blue,f1_red');
    expect(csv).toHaveLength(2);
  });

  it('trains more: steps and epochs go on from where they stopped, with the new settings', async () => {
    const before = of('train/stepEnded').length;
    await session.handle({ type: 'train/start', settings: settings({ freezeDepth: 2, learningRate: 5e-4 }), continue: true });
    expect(of('train/started').at(-1)!.run.continued).toBe(true);
    const steps = of('train/stepEnded').slice(before).map((e) => e.step);
    expect(steps.map((s) => [s.step, s.epoch, s.freezeDepth])).toEqual([
      [2, 1, 2],
      [3, 1, 2],
    ]);
    expect(of('trained/ready').at(-1)!.model).toMatchObject({ steps: 4, epochs: 2, trainedSegments: ['res5b', 'res5c'] });
    expect(changedWeights(pretrained.model, pristine)).toEqual([]);
  }, 300_000);

  it('exports the TF.js zip, imports it back as the kept model, and predicts the same', async () => {
    await session.handle({ type: 'trained/predict', requestId: 9, images: [{ path: 'a.png', image: image(0) }], heatMaps: false });
    const before = of('trained/predicted').at(-1)!.prediction;
    await session.handle({ type: 'trained/export', format: 'tfjs' });
    const file = of('trained/exported').at(-1)!.file;
    expect(file).toMatchObject({ format: 'tfjs', fileName: 'shapes-tfjs-model.zip' });
    const run = JSON.parse(new TextDecoder().decode(unzipSync(file.bytes)['run.json'])) as RunJson;
    expect(run.runs).toHaveLength(2);

    await session.handle({ type: 'trained/discard' });
    expect(events.at(-1)).toEqual({ type: 'trained/discarded' });
    await session.handle({ type: 'trained/predict', requestId: 10, images: [{ path: 'a.png', image: image(0) }], heatMaps: false });
    expect(of('trained/predictFailed').at(-1)).toMatchObject({ requestId: 10, error: { code: 'model/not-found' } });

    // fflate's zip is a plain ArrayBuffer view; TypeScript 5.9 types it as ArrayBufferLike.
    await session.handle({ type: 'trained/import', file: new File([file.bytes as Uint8Array<ArrayBuffer>], file.fileName) });
    expect(of('trained/ready').at(-1)!.model).toMatchObject({ origin: 'imported', fileName: 'shapes-tfjs-model.zip', classNames: ['blue', 'red'] });
    await session.handle({ type: 'trained/predict', requestId: 11, images: [{ path: 'a.png', image: image(0) }], heatMaps: false });
    const after = of('trained/predicted').at(-1)!.prediction;
    expect(after.top[0]!.index).toBe(before.top[0]!.index);
    expect(Math.abs(after.top[0]!.probability - before.top[0]!.probability)).toBeLessThanOrEqual(1e-4);
    // An imported model has no run here to export.
    await session.handle({ type: 'trained/export', format: 'run' });
    expect(of('trained/exportFailed').at(-1)).toMatchObject({ format: 'run', error: { message: expect.stringContaining('was imported') } });
  }, 300_000);

  it('trains an imported model more; a broken zip or other classes leave the kept model as it was', async () => {
    const failuresBefore = of('train/failed').length;
    await session.handle({ type: 'train/start', settings: settings(), continue: true });
    // The imported model continues with a fresh optimizer, from step 0.
    expect(of('train/failed')).toHaveLength(failuresBefore);
    expect(of('trained/ready').at(-1)!.model).toMatchObject({ origin: 'imported', steps: 2 });
    await session.handle({ type: 'trained/import', file: new File(['PK not really'], 'broken.zip') });
    expect(of('trained/importFailed').at(-1)).toMatchObject({ fileName: 'broken.zip', error: { message: expect.stringContaining('broken.zip') } });
    // The failed import left the kept model alone.
    await session.handle({ type: 'trained/predict', requestId: 12, images: [{ path: 'a.png', image: image(0) }], heatMaps: false });
    expect(of('trained/predicted').at(-1)!.prediction.requestId).toBe(12);

    const others = drop().map((f) => ({ ...f, path: f.path.replace('red', 'circle').replace('blue', 'square') }));
    await datasets.handle({ type: 'dataset/open', files: others, split: { validationFraction: 0.34, seed: 1 } });
    await session.handle({ type: 'train/start', settings: settings(), continue: true });
    expect(of('train/failed').at(-1)!.error.message).toBe('The kept model knows the classes blue, red; this dataset has circle, square. Train more needs the same classes, in the same order.');
    await session.handle({ type: 'trained/predict', requestId: 13, images: [{ path: 'a.png', image: image(0) }], heatMaps: false });
    expect(of('trained/predicted').at(-1)!.prediction.requestId).toBe(13);
  }, 300_000);

  it('after a head-only run, compares the head with a cross-validated linear probe on the cached features', async () => {
    await datasets.handle({ type: 'dataset/open', files: drop(), split: { validationFraction: 0.34, seed: 1 } });
    const before = events.length;
    await session.handle({ type: 'train/start', settings: settings({ freezeDepth: 0, epochs: 2 }), continue: false });
    const updates = events.slice(before).filter((e): e is EventOf<'diagnostics/updated'> => e.type === 'diagnostics/updated');
    const final = updates.at(-1)!;
    expect(final.stage).toBe('after-training');
    // Sequenced in the order sent.
    expect(updates.map((u) => u.sequence)).toEqual([...updates.map((u) => u.sequence)].sort((a, b) => a - b));
    const probe = final.findings.find((f) => ['training/probe-baseline', 'training/head-short-of-probe', 'training/probe-inconclusive', 'data/features-short'].includes(f.id));
    expect(probe, final.findings.map((f) => f.id).join(', ')).toBeDefined();
    const rows = probe!.evidence.flatMap((e) => (e.kind === 'numbers' ? e.rows : []));
    // 12 images, the smallest class 6: five folds.
    expect(rows.find((r) => r.label === 'Linear probe, cross-validated macro-F1')?.value).toMatch(/\(5 folds\)$/);
  }, 300_000);

  it('goes back to the best epoch when asked, says so, and runs the diagnostics again', async () => {
    const ready = of('trained/ready').at(-1)!.model;
    expect(ready.bestEpoch).not.toBeNull();
    expect(ready.restoredEpoch).toBeNull();
    const updates = of('diagnostics/updated').length;
    await session.handle({ type: 'trained/restoreBest' });
    expect(of('trained/ready').at(-1)!.model).toMatchObject({ restoredEpoch: ready.bestEpoch!.epoch, bestEpoch: ready.bestEpoch, steps: ready.steps });
    expect(of('diagnostics/updated').length).toBe(updates + 1);
    // Trained on, the model no longer has the best epoch's weights.
    await session.handle({ type: 'train/start', settings: settings({ freezeDepth: 0, epochs: 1 }), continue: true });
    expect(of('trained/ready').at(-1)!.model.restoredEpoch).toBeNull();
  }, 300_000);

  it('sends the run log and each epoch’s training state for the history, and resumes a cut-off run from it to the same losses', async () => {
    const from = events.length;
    await session.handle({ type: 'train/start', settings: settings({ freezeDepth: 0, epochs: 3 }), continue: false });
    const logs = events.slice(from).filter((e): e is EventOf<'history/log'> => e.type === 'history/log');
    const states = events.slice(from).filter((e): e is EventOf<'history/state'> => e.type === 'history/state');
    expect(new Set(logs.map((l) => l.logId)).size).toBe(1);
    expect(states.map((s) => s.state.epoch)).toEqual([1, 2, 3]);
    const whole = structuredClone(logs.at(-1)!.log);
    expect(whole.runs.at(-1)!.ended?.status).toBe('completed');
    // As the page would resume it after a reload at the end of epoch 1: the log so far, that epoch's state.
    const state = structuredClone(states[0]!.state);
    const cut = structuredClone(whole);
    cut.steps = cut.steps.filter((st) => st.step < state.step);
    cut.epochs = cut.epochs.filter((e) => e.epoch < state.epoch);
    cut.runs.at(-1)!.ended = null;
    const resumedFrom = events.length;
    // Cloned as postMessage would: the session keeps and extends the log it is given.
    await session.handle({ type: 'train/resumeSaved', logId: 'resumed', log: structuredClone(cut), state });
    const resumedSteps = events.slice(resumedFrom).filter((e): e is EventOf<'train/stepEnded'> => e.type === 'train/stepEnded');
    expect(resumedSteps.map((e) => e.step.loss)).toEqual(whole.steps.filter((st) => st.step >= state.step).map((st) => st.loss));
    const resumedLog = events.slice(resumedFrom).filter((e): e is EventOf<'history/log'> => e.type === 'history/log').at(-1)!;
    expect(resumedLog.logId).toBe('resumed');
    expect(resumedLog.log.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(resumedLog.log.runs.at(-1)).toMatchObject({ ended: { status: 'completed' }, resumed: [{ epoch: 1 }] });
    // Another folder is refused, naming the first file that differs.
    const other = structuredClone(cut);
    other.dataset.files.train[0] = { ...other.dataset.files.train[0]!, path: 'shapes/red/moved.png' };
    await session.handle({ type: 'train/resumeSaved', logId: 'other', log: other, state });
    expect(of('train/failed').at(-1)!.error.message).toMatch(/^The open folder is not the one this run trained on \(train split: shapes\/red\/moved\.png \(red\) is now shapes\/.*\)\. Open shapes as it was, with the same split, to resume\.$/);
    // …and so is the same path holding another picture (the scan's hash of its pixels).
    const repainted = structuredClone(cut);
    expect(repainted.dataset.files.validation[0]).toMatchObject({ size: expect.any(Number), contentHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    repainted.dataset.files.validation[0]!.contentHash = '0123456789abcdef';
    await session.handle({ type: 'train/resumeSaved', logId: 'repainted', log: repainted, state });
    expect(of('train/failed').at(-1)!.error.message).toContain(`(validation split: ${repainted.dataset.files.validation[0]!.path} (${repainted.dataset.files.validation[0]!.className}) is another picture now)`);
  }, 300_000);
});
