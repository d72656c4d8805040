// The training worker's model session, run in Node with the same code the worker runs: it reports
// the backend, loads and warms up, classifies a real photo, and names a file it cannot read.

import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../../src/core/errors';
import { DEFAULT_PREPROCESS_SPEC } from '../../src/core/preprocess-spec';
import { createModelSession, type ModelSession } from '../../src/workers/model-session';
import type { WorkerEvent } from '../../src/workers/protocol';
import { fsModelSource } from '../helpers/node-model';
import { hasShared, PHOTOS_DIR, requireModel } from '../helpers/paths';

/** Node stand-in for the browser decoder: PNG via pngjs, with the browser's error for anything else. */
async function decodePngBlob(blob: Blob, fileName: string) {
  const bytes = Buffer.from(await blob.arrayBuffer());
  try {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
  } catch (error) {
    throw new LabError('image/decode-failed', `${fileName} could not be decoded as an image.`, fileName, { cause: error });
  }
}

describe('model session (the training worker’s logic, in Node)', () => {
  const events: WorkerEvent[] = [];
  let session: ModelSession;

  beforeAll(async () => {
    session = createModelSession({
      emit: (event) => events.push(event),
      openSource: () => fsModelSource(requireModel()),
      decode: decodePngBlob,
    });
    await session.handle({ type: 'model/load', source: { kind: 'url', url: 'unused' }, backend: 'wasm' });
  });

  it('reports the backend it got, progress, then the loaded model', () => {
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('backend/ready');
    expect(types.at(-1)).toBe('model/loaded');
    expect(types.filter((t) => t === 'model/loading').length).toBeGreaterThan(1);
    const ready = events[0] as Extract<WorkerEvent, { type: 'backend/ready' }>;
    expect(ready.backend.name).toBe('wasm');
    const loaded = events.at(-1) as Extract<WorkerEvent, { type: 'model/loaded' }>;
    expect(loaded.model).toMatchObject({ layers: 177, parameters: 25_636_712, hasLabels: true });
  });

  it.skipIf(!hasShared())('classifies a real photo (needs ../shared)', async () => {
    const file = path.join(PHOTOS_DIR, 'chelsea.png');
    await session.handle({ type: 'photo/classify', requestId: 7, fileName: 'chelsea.png', image: new Blob([fs.readFileSync(file)]), spec: DEFAULT_PREPROCESS_SPEC });
    const event = events.at(-1)!;
    expect(event.type).toBe('photo/classified');
    const { result } = event as Extract<WorkerEvent, { type: 'photo/classified' }>;
    expect(result.requestId).toBe(7);
    expect(result.top[0]).toMatchObject({ index: 285, label: 'Egyptian cat' });
    expect(result.top).toHaveLength(5);
    expect({ width: result.width, height: result.height }).toEqual({ width: 451, height: 300 });
  });

  it('names the file it cannot decode and keeps working', async () => {
    await session.handle({ type: 'photo/classify', requestId: 8, fileName: 'broken.png', image: new Blob(['not a png']), spec: DEFAULT_PREPROCESS_SPEC });
    expect(events.at(-1)).toMatchObject({ type: 'photo/failed', requestId: 8, fileName: 'broken.png', error: { code: 'image/decode-failed', file: 'broken.png' } });
  });
});

describe('model session: a backend that did not start', () => {
  it('is tried again on the next load, not remembered as failed', async () => {
    const events: WorkerEvent[] = [];
    const session = createModelSession({ emit: (event) => events.push(event), openSource: () => fsModelSource(requireModel()), decode: decodePngBlob });
    // Node has no WebGPU: forcing it fails.
    await session.handle({ type: 'model/load', source: { kind: 'url', url: 'unused' }, backend: 'webgpu' });
    expect(events.map((e) => e.type)).toEqual(['backend/failed']);
    await session.handle({ type: 'model/load', source: { kind: 'url', url: 'unused' }, backend: 'wasm' });
    expect(events[1]).toMatchObject({ type: 'backend/ready', backend: { name: 'wasm' } });
    expect(events.at(-1)?.type).toBe('model/loaded');
    expect(session.deviceLost()).toBeNull();
  });
});
