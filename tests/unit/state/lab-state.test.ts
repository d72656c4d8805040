import { describe, expect, it } from 'vitest';
import { applyEvent, initialLabState } from '../../../src/state/lab-state';
import type { PhotoClassification } from '../../../src/workers/protocol';

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
  const run = {
    classNames: ['a', 'b'],
    trainCount: 8,
    validationCount: 2,
    stepsPerEpoch: 2,
    settings: initialLabState().training.settings,
    validationPaths: ['d/a/1.png', 'd/b/1.png'],
    validationLabels: [0, 1],
  };
  const step = (n: number) => ({ step: n, epoch: 0, loss: 0.7, learningRate: 1e-3, freezeDepth: 0, trainableParams: 4098, classWeights: [1, 1], batchSize: 4, ms: 10 });

  it('starts a run afresh, appends steps, epochs and changes, and follows pause, resume and the end', () => {
    let state = initialLabState();
    state = { ...state, training: { ...state.training, steps: [step(99)] } };
    state = applyEvent(state, { type: 'train/started', run });
    expect(state.training).toMatchObject({ status: 'running', steps: [], epochs: [], changes: [] });
    state = applyEvent(state, { type: 'train/stepEnded', step: step(0) });
    state = applyEvent(state, { type: 'train/changeApplied', change: { step: 1, kind: 'freezeDepth', value: 1, trainableParams: 5000 } });
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
