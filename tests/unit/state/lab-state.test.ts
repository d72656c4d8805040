import { describe, expect, it } from 'vitest';
import { applyEvent, initialLabState, type LabState, type PredictionBatch } from '../../../src/state/lab-state';
import type { PhotoClassification, TrainedModelInfo } from '../../../src/workers/protocol';
import { epochRecord, imagePrediction, runInfo, stepRecord, trainedModel } from './fixtures';

const result: PhotoClassification = {
  requestId: 1,
  fileName: 'cat.png',
  width: 10,
  height: 10,
  normalization: 'caffe',
  specHash: 'h',
  top: [{ index: 285, label: 'Egyptian cat', probability: 0.96 }],
  preprocessMs: 3,
  forwardMs: 300,
};

describe('applyEvent', () => {
  it('follows the model from loading to ready, keeping where it came from', () => {
    let state = initialLabState('wasm');
    state = { ...state, model: { status: 'loading', fraction: 0, from: 'files' } };
    state = applyEvent(state, { type: 'model/loading', fraction: 0.5 });
    expect(state.model).toEqual({ status: 'loading', fraction: 0.5, from: 'files' });
    const info = { layers: 177, parameters: 25_636_712, weightBytes: 1, hasLabels: true, loadMs: 1, warmupMs: 1, segmentParams: { stem: 9_536, blocks: [] } };
    state = applyEvent(state, { type: 'model/loaded', model: info });
    expect(state.model).toEqual({ status: 'ready', info, from: 'files' });
  });

  it('records the backend actually used and fails the model when no backend starts', () => {
    const ready = applyEvent(initialLabState(null), {
      type: 'backend/ready',
      backend: { name: 'wasm', skipped: [{ name: 'webgpu', reason: 'no adapter' }], wasmThreads: 1, crossOriginIsolated: true },
    });
    expect(ready.backend).toMatchObject({ status: 'ready', info: { name: 'wasm' } });
    const failed = applyEvent(initialLabState(null), { type: 'backend/failed', error: { code: 'backend/unavailable', message: 'none' } });
    expect(failed.backend.status).toBe('failed');
    expect(failed.model).toMatchObject({ status: 'failed', error: { code: 'backend/unavailable' } });
  });

  it('completes or fails the matching photo check only', () => {
    const start = { ...initialLabState(null), photoChecks: [{ status: 'running' as const, requestId: 2, fileName: 'b.png' }, { status: 'running' as const, requestId: 1, fileName: 'cat.png' }] };
    const done = applyEvent(start, { type: 'photo/classified', result });
    expect(done.photoChecks.map((c) => c.status)).toEqual(['running', 'done']);
    const failed = applyEvent(done, { type: 'photo/failed', requestId: 2, fileName: 'b.png', error: { code: 'image/decode-failed', message: 'b.png is corrupt', file: 'b.png' } });
    expect(failed.photoChecks.map((c) => c.status)).toEqual(['failed', 'done']);
    expect(start.photoChecks[0]!.status).toBe('running'); // not mutated
  });

  it('fails running checks when the worker dies, and keeps finished ones', () => {
    const start = { ...initialLabState(null), photoChecks: [{ status: 'running' as const, requestId: 2, fileName: 'b.png' }, { status: 'done' as const, requestId: 1, fileName: 'cat.png', result }] };
    const state = applyEvent(start, { type: 'worker/died', error: { code: 'worker/died', message: 'crashed' } });
    expect(state.workerError?.code).toBe('worker/died');
    expect(state.photoChecks.map((c) => c.status)).toEqual(['failed', 'done']);
  });
});

describe('applyEvent: training', () => {
  const run = runInfo();
  const step = (n: number) => ({ step: n, epoch: 0, loss: 0.7, learningRate: 1e-3, freezeDepth: 0, trainableParams: 4098, classWeights: [1, 1], batchSize: 4, ms: 10 });

  it('starts a run afresh, appends steps, epochs and changes, and follows pause, resume and the end', () => {
    let state = initialLabState();
    state = { ...state, training: { ...state.training, steps: [step(99)] } };
    state = applyEvent(state, { type: 'train/started', run });
    expect(state.training).toMatchObject({ status: 'running', steps: [], epochs: [], changes: [] });
    state = applyEvent(state, { type: 'train/stepEnded', step: step(0) });
    state = applyEvent(state, { type: 'train/changeApplied', change: { step: 1, change: { kind: 'freezeDepth', value: 1 }, trainableParams: 5000 } });
    state = applyEvent(state, { type: 'train/stepEnded', step: step(1) });
    expect(state.training.steps.map((s) => s.step)).toEqual([0, 1]);
    expect(state.training.changes).toHaveLength(1);
    state = applyEvent(state, { type: 'train/paused', reason: 'non-finite-loss', message: 'The loss became NaN' });
    expect(state.training).toMatchObject({ status: 'paused', message: { kind: 'error', text: 'The loss became NaN' } });
    state = applyEvent(state, { type: 'train/resumed' });
    expect(state.training).toMatchObject({ status: 'running', message: null });
    state = applyEvent(state, { type: 'train/finished', status: 'stopped', steps: 2 });
    expect(state.training.status).toBe('stopped');
  });

  it('on a lost GPU device: the backend is lost, the model failed, the run failed with its steps kept', () => {
    let state = applyEvent(initialLabState('webgpu'), { type: 'train/started', run });
    state = applyEvent(state, { type: 'train/stepEnded', step: step(0) });
    state = { ...state, photoChecks: [{ status: 'running', requestId: 3, fileName: 'c.png' }] };
    const error = { code: 'backend/device-lost' as const, message: 'The GPU device was lost (Device was destroyed.)' };
    const lost = applyEvent(state, { type: 'backend/lost', error });
    expect(lost.backend).toEqual({ status: 'lost', requested: 'webgpu', error });
    expect(lost.model).toMatchObject({ status: 'failed', error });
    expect(lost.training).toMatchObject({ status: 'failed', message: { kind: 'error', text: error.message } });
    expect(lost.training.steps).toHaveLength(1);
    expect(lost.photoChecks[0]!.status).toBe('failed');
    // A finished run is left as it ended.
    const finished = applyEvent(state, { type: 'train/finished', status: 'completed', steps: 1 });
    expect(applyEvent(finished, { type: 'backend/lost', error }).training.status).toBe('completed');
  });

  it('after a lost device: a late model event or a stop in flight changes nothing, and warnings never hide the error', () => {
    const error = { code: 'backend/device-lost' as const, message: 'The GPU device was lost' };
    let state = applyEvent(initialLabState('webgpu'), { type: 'train/started', run });
    state = applyEvent(state, { type: 'backend/lost', error });
    const info = { layers: 177, parameters: 1, weightBytes: 1, hasLabels: true, loadMs: 1, warmupMs: 1, segmentParams: { stem: 1, blocks: [] } };
    expect(applyEvent(state, { type: 'model/loaded', model: info }).model).toMatchObject({ status: 'failed', error });
    expect(applyEvent(state, { type: 'model/failed', error: { code: 'internal', message: 'mapAsync' } }).model).toMatchObject({ error });
    expect(applyEvent(state, { type: 'train/finished', status: 'stopped', steps: 3 }).training.status).toBe('failed');
    expect(applyEvent(state, { type: 'train/warning', message: 'The diagnostics could not run' }).training.message).toEqual({ kind: 'error', text: error.message });
    // A run that was only asked for ends failed too.
    const starting = { ...initialLabState('webgpu'), training: { ...initialLabState().training, status: 'starting' as const } };
    expect(applyEvent(starting, { type: 'backend/lost', error }).training).toMatchObject({ status: 'failed', message: { text: error.message } });
  });

  it('marks a running run failed when the worker dies', () => {
    const running = applyEvent(initialLabState(), { type: 'train/started', run });
    const dead = applyEvent(running, { type: 'worker/died', error: { code: 'worker/died', message: 'crashed' } });
    expect(dead.training).toMatchObject({ status: 'failed', message: { text: 'crashed' } });
  });
});

describe('applyEvent: train more', () => {
  it('keeps the earlier records of a continued run on the charts and marks where the run began', () => {
    let state = applyEvent(initialLabState(), { type: 'train/started', run: runInfo() });
    for (const n of [0, 1, 2, 3]) state = applyEvent(state, { type: 'train/stepEnded', step: stepRecord(n) });
    state = applyEvent(state, { type: 'train/epochEnded', epoch: epochRecord(0) });
    state = applyEvent(state, { type: 'train/epochEnded', epoch: epochRecord(1) });
    state = applyEvent(state, { type: 'train/changeApplied', change: { step: 2, change: { kind: 'learningRate', value: 3e-4 }, trainableParams: 4098 } });
    state = applyEvent(state, { type: 'train/finished', status: 'completed', steps: 4 });

    const continued = applyEvent(state, { type: 'train/started', run: runInfo(true) });
    expect(continued.training.status).toBe('running');
    expect(continued.training.steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(continued.training.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(continued.training.changes).toHaveLength(1);
    expect(continued.training.runStart).toEqual({ steps: 4, epochs: 2 });
    const next = applyEvent(continued, { type: 'train/stepEnded', step: stepRecord(4) });
    expect(next.training.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4]);

    // A new model starts the charts over.
    const fresh = applyEvent(next, { type: 'train/started', run: runInfo(false) });
    expect(fresh.training).toMatchObject({ steps: [], epochs: [], changes: [], runStart: { steps: 0, epochs: 0 } });
  });
});

describe('applyEvent: the kept model', () => {
  const importing = (previous: TrainedModelInfo | null = trainedModel()): LabState => ({
    ...initialLabState(),
    trained: { ...initialLabState().trained, model: { status: 'importing', fileName: 'm.zip', previous } },
  });
  const error = { code: 'model/invalid' as const, message: 'not a model zip' };

  it('keeps the model a run leaves, replaces it with the next one and drops it when discarded', () => {
    const first = trainedModel();
    let state = applyEvent(initialLabState(), { type: 'trained/ready', model: first });
    expect(state.trained.model).toEqual({ status: 'ready', info: first, importFailure: null });
    const more = trainedModel({ steps: 8, epochs: 4 });
    state = applyEvent(state, { type: 'trained/ready', model: more });
    expect(state.trained.model).toMatchObject({ status: 'ready', info: { steps: 8, epochs: 4 } });
    state = applyEvent(state, { type: 'trained/discarded' });
    expect(state.trained.model).toEqual({ status: 'none' });
  });

  it('keeps the previous model when an import fails, with the failure beside it', () => {
    const previous = trainedModel({ steps: 6 });
    const state = applyEvent(importing(previous), { type: 'trained/importFailed', fileName: 'm.zip', error });
    expect(state.trained.model).toEqual({ status: 'ready', info: previous, importFailure: { fileName: 'm.zip', error } });
  });

  it('fails an import that had no model before it, and a later success clears the failure', () => {
    const failed = applyEvent(importing(null), { type: 'trained/importFailed', fileName: 'm.zip', error });
    expect(failed.trained.model).toEqual({ status: 'failed', importFailure: { fileName: 'm.zip', error } });
    const imported = trainedModel({ origin: 'imported', fileName: 'good.zip' });
    expect(applyEvent(failed, { type: 'trained/ready', model: imported }).trained.model).toEqual({ status: 'ready', info: imported, importFailure: null });
  });

  it('keeps only the name, size and time of an export, never its bytes, and starts exports over for a new model', () => {
    let state = applyEvent(initialLabState(), { type: 'trained/ready', model: trainedModel() });
    state = { ...state, trained: { ...state.trained, exports: { tfjs: { status: 'running' }, onnx: { status: 'running' }, pytorch: { status: 'running' }, run: { status: 'running' } } } };
    state = applyEvent(state, { type: 'trained/exported', file: { format: 'tfjs', fileName: 'model.zip', bytes: new Uint8Array(1234), ms: 56 } });
    // toEqual fails on any property more: the bytes are not kept.
    expect(state.trained.exports.tfjs).toEqual({ status: 'done', fileName: 'model.zip', sizeBytes: 1234, ms: 56 });
    state = applyEvent(state, { type: 'trained/exportFailed', format: 'run', error: { code: 'input/invalid', message: 'an imported model has no run' } });
    expect(state.trained.exports.run).toEqual({ status: 'failed', error: { code: 'input/invalid', message: 'an imported model has no run' } });
    state = applyEvent(state, { type: 'trained/ready', model: trainedModel({ steps: 10 }) });
    expect(state.trained.exports).toEqual({ tfjs: { status: 'idle' }, onnx: { status: 'idle' }, pytorch: { status: 'idle' }, run: { status: 'idle' } });
  });

  it('loses the kept model with the worker or its device, failing an import under way', () => {
    const ready = applyEvent(initialLabState(), { type: 'trained/ready', model: trainedModel() });
    const died = { code: 'worker/died' as const, message: 'crashed' };
    expect(applyEvent(ready, { type: 'worker/died', error: died }).trained.model).toEqual({ status: 'none' });
    expect(applyEvent(ready, { type: 'backend/lost', error: { code: 'backend/device-lost', message: 'lost' } }).trained.model).toEqual({ status: 'none' });
    expect(applyEvent(importing(), { type: 'worker/died', error: died }).trained.model).toEqual({ status: 'failed', importFailure: { fileName: 'm.zip', error: died } });
  });
});

describe('applyEvent: predictions', () => {
  const image = (path: string) => new Blob([path]);
  const batch = (requestId: number, paths: string[]): PredictionBatch => ({
    requestId,
    heatMaps: true,
    model: trainedModel(),
    items: paths.map((path) => ({ status: 'running', path, image: image(path) })),
  });
  const withBatches = (...batches: PredictionBatch[]): LabState => ({ ...initialLabState(), predictions: { batches, message: null } });

  it('answers the item of its batch and path, and leaves the others running', () => {
    let state = withBatches(batch(2, ['x/1.png', 'x/2.png']), batch(1, ['x/1.png']));
    state = applyEvent(state, { type: 'trained/predicted', prediction: imagePrediction(2, 'x/2.png', 'b') });
    expect(state.predictions.batches[0]!.items.map((i) => i.status)).toEqual(['running', 'done']);
    expect(state.predictions.batches[1]!.items[0]!.status).toBe('running');
    const done = state.predictions.batches[0]!.items[1]!;
    expect(done.status === 'done' && done.prediction.top[0]).toEqual({ index: 0, label: 'b', probability: 0.875 });
    state = applyEvent(state, { type: 'trained/predictFailed', requestId: 2, path: 'x/1.png', error: { code: 'image/decode-failed', message: 'x/1.png is corrupt' } });
    expect(state.predictions.batches[0]!.items.map((i) => i.status)).toEqual(['failed', 'done']);
  });

  it('ignores answers to a batch it let go', () => {
    const state = withBatches(batch(5, ['a.png']));
    expect(applyEvent(state, { type: 'trained/predicted', prediction: imagePrediction(4, 'a.png') })).toEqual(state);
  });

  it('fails the images still waiting when the worker dies, keeping the answered ones', () => {
    let state = withBatches(batch(1, ['a.png', 'b.png']));
    state = applyEvent(state, { type: 'trained/predicted', prediction: imagePrediction(1, 'a.png') });
    state = applyEvent(state, { type: 'worker/died', error: { code: 'worker/died', message: 'crashed' } });
    expect(state.predictions.batches[0]!.items.map((i) => i.status)).toEqual(['done', 'failed']);
  });
});

describe('applyEvent: answers to requests', () => {
  const sample = (requestId: number) => ({ requestId, split: 'train' as const, count: 2, specHash: `h${requestId}`, normalization: 'caffe' as const, checksum: 'c', channelMeans: [0, 0, 0] as [number, number, number], channelStds: [1, 1, 1] as [number, number, number] });
  const error = { code: 'input/invalid' as const, message: 'No dataset is open yet.' };

  it('keeps the newest answer per split: a late sample or failure never replaces a newer one, and neither fails the dataset', () => {
    let state = applyEvent(initialLabState(), { type: 'dataset/sampled', sample: sample(2) });
    state = applyEvent(state, { type: 'dataset/sampleFailed', requestId: 1, split: 'train', error });
    expect(state.samples.train?.requestId).toBe(2);
    expect(state.sampleFailures.train).toBeUndefined();
    state = applyEvent(state, { type: 'dataset/sampleFailed', requestId: 3, split: 'train', error });
    expect(state.sampleFailures.train?.requestId).toBe(3);
    expect(state.dataset.status).toBe('empty');
    state = applyEvent(state, { type: 'dataset/sampled', sample: sample(4) });
    expect(state.sampleFailures.train).toBeUndefined();
    expect(applyEvent(state, { type: 'dataset/sampled', sample: sample(1) }).samples.train?.requestId).toBe(4);
  });

  it('a failed preview request is kept beside the previews until a newer request answers', () => {
    let state = applyEvent(initialLabState(), { type: 'dataset/thumbnailsFailed', requestId: 5, error });
    expect(state.thumbnailFailure?.requestId).toBe(5);
    state = applyEvent(state, { type: 'dataset/thumbnails', requestId: 4, thumbnails: [] });
    expect(state.thumbnailFailure?.requestId).toBe(5);
    state = applyEvent(state, { type: 'dataset/thumbnails', requestId: 6, thumbnails: [] });
    expect(state.thumbnailFailure).toBeNull();
  });

  it('an older diagnostics update never replaces a newer one (an epoch’s findings arriving after the final ones)', () => {
    const finding = (id: string) => ({ id, severity: 'info' as const, title: id, explanation: '', evidence: [], fix: null });
    let state = applyEvent(initialLabState(), { type: 'diagnostics/updated', stage: 'after-training', sequence: 9, findings: [finding('final')] });
    state = applyEvent(state, { type: 'diagnostics/updated', stage: 'during-training', sequence: 8, findings: [finding('epoch')] });
    expect(state.diagnostics).toMatchObject({ stage: 'after-training', sequence: 9 });
    expect(state.diagnostics!.findings.map((f) => f.id)).toEqual(['final']);
  });
});
