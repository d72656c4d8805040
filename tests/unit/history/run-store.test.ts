// The run history's IndexedDB store against fake-indexeddb: round trips, renames, deletes, a full
// quota, records of another version, and two tabs writing at once. Each test has its own database.

import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunLog } from '../../../src/core/run-report';
import type { TrainingState } from '../../../src/core/run-records';
import { settings, trainedRun as fixtureRun } from './run-log-fixtures';
import {
  MAX_RUN_NAME_CHARS,
  openRunStore,
  RUN_RECORD_VERSION,
  RunStoreError,
  summarizeRun,
  type RunStore,
  type RunStoreOptions,
} from '../../../src/history/run-store';

/** The shared fixture's run, as these tests use it: its length and its folder's name. */
function trainedRun(epochs: 0 | 1 | 2 = 2, rootName: string | null = 'cats'): RunLog {
  return fixtureRun({ epochs, rootName });
}

/** A clock that moves one minute each time it is read. */
function steppingClock(start = '2025-03-14T09:00:00.000Z'): () => Date {
  let t = Date.parse(start);
  return () => {
    const now = new Date(t);
    t += 60_000;
    return now;
  };
}

const opened: RunStore[] = [];

async function open(name: string, options: Omit<RunStoreOptions, 'name'> = {}): Promise<RunStore> {
  const store = await openRunStore({ name, now: steppingClock(), ...options });
  opened.push(store);
  return store;
}

const freshName = () => `finetune-lab-test-${crypto.randomUUID()}`;

/** The RunStoreError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<RunStoreError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RunStoreError);
  return error as RunStoreError;
}

function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).byteLength;
}

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('summarizeRun', () => {
  it('takes the best validation accuracy and macro-F1 over the epochs, each from its own epoch', () => {
    const summary = summarizeRun(trainedRun(2));
    expect(summary.bestValidationAccuracy).toBeCloseTo(5 / 6, 12); // epoch 0, by hand above
    expect(summary.bestValidationMacroF1).toBeCloseTo(2 / 3, 12); // epoch 1, by hand above
    expect(summarizeRun(trainedRun(1)).bestValidationMacroF1).toBeCloseTo((8 / 9 + 1 + 0) / 3, 12);
  });

  it('counts the images, epochs and steps, and names the dataset and the backend', () => {
    expect(summarizeRun(trainedRun(2))).toMatchObject({
      datasetName: 'cats',
      classNames: ['cat', 'dog', 'fox'],
      imageCounts: { train: 12, validation: 6, test: 3 },
      epochsDone: 2,
      stepsDone: 6,
      status: 'completed',
      backend: 'wasm',
    });
  });

  it("reports the last segment's status and settings", () => {
    const log = trainedRun(2);
    expect(summarizeRun(log).settings).toEqual({
      sizePx: 224,
      freezeDepth: 0,
      learningRate: 1e-3,
      epochs: 2,
      batchSize: 4,
      classWeighting: 'balanced',
      normalization: 'caffe',
      optimizer: 'adam',
    });
    log.runs.push({
      settings: { ...settings({ freezeDepth: 3, learningRate: 1e-4, epochs: 3, optimizer: 'sgd', classWeighting: 'off' }), sizePx: 160, normalization: 'torch' },
      firstStep: 6,
      firstEpoch: 2,
      startedAt: '2025-03-14T09:05:00.000Z',
      ended: null,
    });
    const summary = summarizeRun(log);
    expect(summary.status).toBe('running');
    expect(summary.settings).toEqual({ sizePx: 160, freezeDepth: 3, learningRate: 1e-4, epochs: 3, batchSize: 4, classWeighting: 'off', normalization: 'torch', optimizer: 'sgd' });
    log.runs.at(-1)!.ended = { at: '2025-03-14T09:06:00.000Z', status: 'stopped' };
    expect(summarizeRun(log).status).toBe('stopped');
  });

  it('has no best figures without validation, and no status or settings before the first segment', () => {
    const log = trainedRun(2);
    for (const epoch of log.epochs) epoch.validation = null;
    expect(summarizeRun(log)).toMatchObject({ bestValidationAccuracy: null, bestValidationMacroF1: null });
    const empty = { ...trainedRun(0), runs: [], backend: null };
    expect(summarizeRun(empty)).toMatchObject({ status: null, settings: null, backend: null, epochsDone: 0, stepsDone: 0, bestValidationAccuracy: null });
  });
});

describe('run store', () => {
  it('gives back what it stored: the listing and the whole log', async () => {
    const store = await open(freshName());
    const log = trainedRun(2);
    const created = await store.createRun(log, '  Cats, head only  ');
    expect(created).toEqual({
      kind: 'run',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      version: RUN_RECORD_VERSION,
      name: 'Cats, head only',
      createdAt: '2025-03-14T09:00:00.000Z',
      updatedAt: '2025-03-14T09:00:00.000Z',
      summary: summarizeRun(log),
    });
    expect(await store.listRuns()).toEqual([created]);
    const stored = await store.getRun(created.id);
    expect(stored?.log).toEqual(log);
    expect(stored).toEqual({ ...created, kind: undefined, log });
    expect(await store.getRun('no-such-run')).toBeNull();
  });

  it('names a run after its dataset and the date and time by default', async () => {
    const store = await open(freshName());
    expect((await store.createRun(trainedRun(1, 'birds'))).name).toMatch(/^birds · \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect((await store.createRun(trainedRun(1, null))).name).toMatch(/^Run · \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    const long = (await store.createRun(trainedRun(1, 'x'.repeat(300)))).name;
    expect([...long].length).toBeLessThanOrEqual(MAX_RUN_NAME_CHARS);
  });

  it('saveRun replaces the log and summary, keeps name and createdAt, and moves the run to the top', async () => {
    const store = await open(freshName());
    const first = await store.createRun(trainedRun(1), 'first'); // 09:00
    const second = await store.createRun(trainedRun(1), 'second'); // 09:01
    expect((await store.listRuns()).map((r) => r.name)).toEqual(['second', 'first']);

    const finished = trainedRun(2);
    await store.saveRun(first.id, finished); // 09:02
    const listing = await store.listRuns();
    expect(listing.map((r) => r.name)).toEqual(['first', 'second']);
    expect(listing[0]).toEqual({ ...first, updatedAt: '2025-03-14T09:02:00.000Z', summary: summarizeRun(finished) });
    expect(listing[0]).toMatchObject({ summary: { status: 'completed', epochsDone: 2 } });
    expect((await store.getRun(first.id))?.log).toEqual(finished);
    expect(await store.getRun(second.id)).toMatchObject({ log: trainedRun(1) });
  });

  it('renames to a trimmed name of at most 120 characters, and refuses an empty or longer one', async () => {
    const store = await open(freshName());
    const run = await store.createRun(trainedRun(1), 'cats');
    await store.renameRun(run.id, '  cats, head only ');
    expect(await store.getRun(run.id)).toMatchObject({ name: 'cats, head only', updatedAt: run.updatedAt });
    await store.renameRun(run.id, 'é'.repeat(MAX_RUN_NAME_CHARS));

    const empty = await failure(store.renameRun(run.id, '   '));
    expect(empty.code).toBe('invalid-name');
    expect(empty.message).toBe("The run was not renamed: a run's name cannot be empty.");
    const tooLong = await failure(store.renameRun(run.id, 'a'.repeat(MAX_RUN_NAME_CHARS + 1)));
    expect(tooLong.code).toBe('invalid-name');
    expect(tooLong.message).toBe("The run was not renamed: a run's name can have at most 120 characters, and this one has 121.");
    expect((await failure(store.createRun(trainedRun(1), ''))).code).toBe('invalid-name');
    expect((await store.getRun(run.id))?.name).toBe('é'.repeat(MAX_RUN_NAME_CHARS));
    expect((await failure(store.renameRun('no-such-run', 'x'))).code).toBe('not-found');
  });

  it('deletes a run; saving it afterwards fails with not-found and does not bring it back', async () => {
    const name = freshName();
    const tab = await open(name);
    const otherTab = await open(name);
    const kept = await tab.createRun(trainedRun(1), 'kept');
    const doomed = await tab.createRun(trainedRun(1), 'doomed');

    await otherTab.deleteRun(doomed.id);
    expect((await tab.listRuns()).map((r) => r.id)).toEqual([kept.id]);
    expect(await tab.getRun(doomed.id)).toBeNull();

    const error = await failure(tab.saveRun(doomed.id, trainedRun(2)));
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/^The run was not saved: it is no longer in the run history/);
    expect(await tab.getRun(doomed.id)).toBeNull();
    await tab.deleteRun(doomed.id); // already gone: nothing to do
    expect((await tab.listRuns()).map((r) => r.id)).toEqual([kept.id]);
  });

  it('fails a write past the quota as a full browser storage would, and keeps the earlier record intact', async () => {
    const name = freshName();
    const sizing = await open(name);
    const first = await sizing.createRun(trainedRun(2), 'first');
    const firstBytes = jsonBytes(await sizing.getRun(first.id));
    const store = await open(name, { quotaBytes: Math.round(firstBytes * 1.5) });

    const created = await failure(store.createRun(trainedRun(2), 'second'));
    expect(created.code).toBe('quota');
    expect(created.message).toBe(
      "The run “second” was not saved: the browser's storage for this page is full (less than 0.1 MB used). Delete old runs to make room; the run goes on.",
    );

    // Four times the steps and epochs no longer fit in place of the first run's.
    const longer = trainedRun(2);
    longer.steps = [1, 2, 3, 4].flatMap(() => longer.steps);
    longer.epochs = [1, 2, 3, 4].flatMap(() => longer.epochs);
    const saved = await failure(store.saveRun(first.id, longer));
    expect(saved.code).toBe('quota');
    expect(saved.message).toMatch(/^The run “first” was not saved: the browser's storage for this page is full/);

    expect((await store.listRuns()).map((r) => r.name)).toEqual(['first']);
    expect((await store.getRun(first.id))?.log).toEqual(trainedRun(2));
    expect(await store.estimate()).toEqual({ usedBytes: firstBytes, availableBytes: Math.round(firstBytes * 1.5) - firstBytes });
  });

  it("maps the browser's own QuotaExceededError to the same error", async () => {
    const store = await open(freshName());
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const error = await failure(store.createRun(trainedRun(1), 'cats'));
    expect(put).toHaveBeenCalled();
    expect(error.code).toBe('quota');
    // Node has no navigator.storage, so the amount used is not known.
    expect(error.message).toBe("The run “cats” was not saved: the browser's storage for this page is full. Delete old runs to make room; the run goes on.");
    put.mockRestore();
    expect(await store.listRuns()).toEqual([]);
  });

  it('lists a record of another version as unreadable, and getRun refuses it', async () => {
    const name = freshName();
    const store = await open(name);
    const readable = await store.createRun(trainedRun(1), 'readable');
    const raw = await openDB(name);
    await raw.put('runs', { id: 'from-v2', version: 2, name: 'From the future', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', blob: [1, 2, 3] });
    await raw.put('runs', { id: 'no-log', version: 1, name: 'Half written', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' });
    await raw.put('runs', { id: 'bare' });
    raw.close();

    const listing = await store.listRuns();
    // Readable runs first, then the others in key order.
    expect(listing).toEqual([
      readable,
      { kind: 'unreadable', id: 'bare', unreadable: 'This run was saved by another version of the lab (record version unknown) and cannot be opened.' },
      { kind: 'unreadable', id: 'from-v2', name: 'From the future', unreadable: 'This run was saved by another version of the lab (record version 2) and cannot be opened.' },
      { kind: 'unreadable', id: 'no-log', name: 'Half written', unreadable: 'This run was saved by another version of the lab (record version 1) and cannot be opened.' },
    ]);

    const error = await failure(store.getRun('from-v2'));
    expect(error.code).toBe('unreadable');
    expect(error.message).toBe('This run was saved by another version of the lab (record version 2) and cannot be opened.');
    expect((await failure(store.saveRun('from-v2', trainedRun(1)))).code).toBe('unreadable');
    await store.deleteRun('from-v2');
    expect((await store.listRuns()).map((r) => r.id)).toEqual([readable.id, 'bare', 'no-log']);
  });

  it('two tabs writing different runs at once both keep their runs', async () => {
    const name = freshName();
    const tabA = await open(name);
    const tabB = await open(name);
    const [a, b] = await Promise.all([tabA.createRun(trainedRun(0, 'cats'), 'A'), tabB.createRun(trainedRun(0, 'birds'), 'B')]);
    const train = async (tab: RunStore, id: string, rootName: string) => {
      for (const epochs of [1, 2] as const) await tab.saveRun(id, trainedRun(epochs, rootName));
    };
    await Promise.all([train(tabA, a.id, 'cats'), train(tabB, b.id, 'birds')]);

    const reader = await open(name);
    const listing = await reader.listRuns();
    expect(listing.map((r) => r.name).sort()).toEqual(['A', 'B']);
    expect(listing.map((r) => r.kind === 'run' && r.summary.epochsDone)).toEqual([2, 2]);
    expect((await reader.getRun(a.id))?.log).toEqual(trainedRun(2, 'cats'));
    expect((await reader.getRun(b.id))?.log).toEqual(trainedRun(2, 'birds'));
  });

  it('reports no estimate where the browser gives none, and one against the test quota', async () => {
    const name = freshName();
    expect(await (await open(name)).estimate()).toEqual({ usedBytes: null, availableBytes: null });
    const store = await open(name, { quotaBytes: 1_000_000 });
    expect(await store.estimate()).toEqual({ usedBytes: 0, availableBytes: 1_000_000 });
    const run = await store.createRun(trainedRun(1));
    const bytes = jsonBytes(await store.getRun(run.id));
    expect(await store.estimate()).toEqual({ usedBytes: bytes, availableBytes: 1_000_000 - bytes });
  });

  it('is unavailable without IndexedDB, after close, and once a newer lab in another tab needs the database', async () => {
    vi.stubGlobal('indexedDB', undefined);
    expect((await failure(openRunStore({ name: freshName() }))).code).toBe('unavailable');
    vi.unstubAllGlobals();

    const closed = await open(freshName());
    closed.close();
    const afterClose = await failure(closed.listRuns());
    expect(afterClose.code).toBe('unavailable');
    expect(afterClose.message).toBe('The run history could not be read: the run history is closed.');

    const name = freshName();
    const store = await open(name);
    const run = await store.createRun(trainedRun(1), 'cats');
    const newer = await openDB(name, 4); // opens only once the store lets go of version 3
    const error = await failure(store.saveRun(run.id, trainedRun(2)));
    expect(error.code).toBe('unavailable');
    expect(error.message).toBe('The run was not saved: the lab was updated in another tab. Reload this page to keep saving runs.');
    expect(await newer.get('runs', run.id)).toMatchObject({ name: 'cats' });
    newer.close();
  });

  it('keeps a model with its run, lists its size without reading it, replaces it, and deletes it with the run', async () => {
    const store = await open(freshName());
    const run = await store.createRun(trainedRun(2), 'cats');
    expect(await store.getModel(run.id)).toBeNull();
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
    const kept = await store.saveModel(run.id, 'cats-tfjs-model.zip', bytes);
    expect(kept).toMatchObject({ fileName: 'cats-tfjs-model.zip', sizeBytes: 4096 });
    const [listed] = await store.listRuns();
    expect(listed).toMatchObject({ kind: 'run', model: { fileName: 'cats-tfjs-model.zip', sizeBytes: 4096 } });
    expect(listed).not.toHaveProperty('log');
    expect(await store.getModel(run.id)).toEqual({ fileName: 'cats-tfjs-model.zip', bytes });
    // A later save of the run keeps the model.
    await store.saveRun(run.id, trainedRun(2));
    expect((await store.getRun(run.id))?.model?.sizeBytes).toBe(4096);
    await store.saveModel(run.id, 'cats-2.zip', bytes.subarray(0, 100));
    expect((await store.getModel(run.id))?.bytes.byteLength).toBe(100);
    await store.deleteRun(run.id);
    expect(await store.getModel(run.id)).toBeNull();
    expect((await failure(store.saveModel(run.id, 'x.zip', bytes))).code).toBe('not-found');
  });

  it('refuses a model past the quota, counting the models kept, and the run stays as it was', async () => {
    const store = await open(freshName(), { quotaBytes: 20_000 });
    const first = await store.createRun(trainedRun(1), 'one');
    const second = await store.createRun(trainedRun(1), 'two');
    await store.saveModel(first.id, 'one.zip', new Uint8Array(9_000));
    const error = await failure(store.saveModel(second.id, 'two.zip', new Uint8Array(9_000)));
    expect(error.code).toBe('quota');
    expect(error.message).toMatch(/^The model of “two” was not kept: the browser's storage for this page is full \(.* used\)\. Delete old runs or their models to make room\.$/);
    expect((await store.getRun(second.id))?.model).toBeUndefined();
    expect(await store.getModel(second.id)).toBeNull();
    // Deleting the first run (and its model) makes room.
    await store.deleteRun(first.id);
    await store.saveModel(second.id, 'two.zip', new Uint8Array(9_000));
  });

  it('keeps the training state of a run in progress to resume from, and drops it once the run ends', async () => {
    const store = await open(freshName());
    const log = trainedRun(2);
    log.runs.at(-1)!.ended = null;
    const run = await store.createRun(log, 'cats');
    // A state ahead of the stored log (epoch 3 of a log of 2) is not kept: it would resume past epochs the log lacks.
    await store.saveState(run.id, trainingState(3));
    expect(await store.getState(run.id)).toBeNull();
    const state = trainingState(2);
    await store.saveState(run.id, state);
    expect((await store.listRuns())[0]).toMatchObject({ resumable: { epoch: 2, step: 6, sizeBytes: 4 * (2048 * 3 + 3 + 2 * 3) } });
    expect(await store.getState(run.id)).toEqual(state);
    // A later save of the same run in progress keeps it; the run's end drops it.
    await store.saveRun(run.id, log);
    expect(await store.getState(run.id)).not.toBeNull();
    const ended = trainedRun(2);
    expect(ended.runs.at(-1)!.ended).not.toBeNull();
    await store.saveRun(run.id, ended);
    expect(await store.getState(run.id)).toBeNull();
    expect((await store.listRuns())[0]).not.toHaveProperty('resumable');
    // A state that arrives after the end is not kept.
    await store.saveState(run.id, trainingState(2));
    expect(await store.getState(run.id)).toBeNull();
    expect((await store.listRuns())[0]).not.toHaveProperty('resumable');
  });
});

/** A head-only training state after `epochs` epochs of 3 steps (3 classes; Adam moments of the bias only). */
function trainingState(epochs: number): TrainingState {
  return {
    format: 'finetune-lab/training-state',
    version: 1,
    step: epochs * 3,
    epoch: epochs,
    config: settings().config,
    runStart: { step: 0, epoch: 0 },
    head: { kernel: new Float32Array(2048 * 3).fill(0.5), bias: Float32Array.from([1, 2, 3]) },
    segments: [],
    optimizer: { kind: 'adam', slots: [{ key: 'head/bias', m: Float32Array.from([0.1, 0.2, 0.3]), v: Float32Array.from([1, 1, 1]), steps: epochs * 3 }] },
  };
}
