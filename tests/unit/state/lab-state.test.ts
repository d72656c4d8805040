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
