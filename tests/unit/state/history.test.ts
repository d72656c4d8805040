// The page's run history against fake-indexeddb: each worker log saved as one stored run, the
// newest log winning while a save is under way; a full quota, a deleted run and a missing
// IndexedDB each told to the user while the run goes on; open, rename, export and compare.

import 'fake-indexeddb/auto';
import { unzipSync, strFromU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { openRunStore, type RunStoreOptions } from '../../../src/history/run-store';
import { fakeLabStore } from './fake-store';
import type { TrainingState } from '../../../src/core/run-records';
import type { WorkerCommand, WorkerEvent } from '../../../src/workers/protocol';
import { runInfo, runLog } from './fixtures';

/** A head-only state after `epochs` epochs of 2 steps (the fixtures' run: classes a and b). */
function trainingState(epochs: number): TrainingState {
  return {
    format: 'finetune-lab/training-state',
    version: 1,
    step: epochs * 2,
    epoch: epochs,
    config: runInfo().settings.config,
    runStart: { step: 0, epoch: 0 },
    head: { kernel: new Float32Array(2048 * 2), bias: new Float32Array(2) },
    segments: [],
    optimizer: { kind: 'adam', slots: [] },
  };
}

let databases = 0;
function historyStore(options: RunStoreOptions = {}) {
  const name = `history-test-${++databases}`;
  const opened = openRunStore({ name, ...options });
  return { name, open: () => opened };
}

/** Until the store's history has taken in everything sent so far (saves, then the list read again). */
async function settled(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

describe('createLabStore: the run history', () => {
  it('saves each worker log as one stored run, replaced as the run goes on, and lists it newest first', async () => {
    const { open } = historyStore();
    const { store, worker } = fakeLabStore({ history: open });
    await settled(() => store.getState().history.status === 'ready');
    expect(store.getState().history.runs).toEqual([]);
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(0) });
    // Three logs while the first save is under way: only the newest of them is written after it.
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(1) });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(2) });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(3, 'completed') });
    await settled(() => {
      const first = store.getState().history.runs[0];
      return first?.kind === 'run' && first.summary.status === 'completed';
    });
    const { runs, currentId, storage, message } = store.getState().history;
    expect(runs).toHaveLength(1);
    expect(runs[0]!.kind === 'run' && runs[0]!.summary.epochsDone).toBe(3);
    expect(currentId).toBe(runs[0]!.id);
    expect(message).toBeNull();
    expect(storage).not.toBeNull();
    // A second model (another log) is a second run, listed first.
    worker.emit({ type: 'history/log', logId: 'log-2', log: runLog(1, null, 'other') });
    await settled(() => store.getState().history.runs.length === 2);
    expect(store.getState().history.runs.map((r) => r.kind === 'run' && r.summary.datasetName)).toEqual(['other', 'd']);
  });

  it('says what was not saved when the quota is full, and the run goes on', async () => {
    const { open } = historyStore({ quotaBytes: 2_000 });
    const { store, worker } = fakeLabStore({ history: open });
    worker.emit({ type: 'train/started', run: runInfo() });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(4) });
    await settled(() => store.getState().history.message !== null);
    expect(store.getState().history.message).toMatch(/^The run “d · .*” was not saved: the browser's storage for this page is full .*the run goes on\.$/);
    expect(store.getState().history.runs).toEqual([]);
    expect(store.getState().training.status).toBe('running');
  });

  it('stops saving a run deleted while it trains, here or in another tab, without bringing it back', async () => {
    const { name, open } = historyStore();
    const { store, worker, actions } = fakeLabStore({ history: open });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(1) });
    await settled(() => store.getState().history.runs.length === 1);
    // Here: its saves stop, with nothing to say.
    await actions().deleteStoredRun(store.getState().history.runs[0]!.id);
    expect(store.getState().history.runs).toEqual([]);
    expect(store.getState().history.currentId).toBeNull();
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(2) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.getState().history.message).toBeNull();
    expect((await (await open()).listRuns()).length).toBe(0);
    // In another tab: the next save finds it gone and says so.
    worker.emit({ type: 'history/log', logId: 'log-2', log: runLog(1) });
    await settled(() => store.getState().history.runs.length === 1);
    const other = await openRunStore({ name });
    await other.deleteRun(store.getState().history.runs[0]!.id);
    worker.emit({ type: 'history/log', logId: 'log-2', log: runLog(2) });
    await settled(() => store.getState().history.message !== null);
    expect(store.getState().history.message).toContain('deleted from the history, so it is no longer saved');
    worker.emit({ type: 'history/log', logId: 'log-2', log: runLog(3) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await other.listRuns()).length).toBe(0);
  });

  it('opens, renames and exports a stored run, and compares at most five', async () => {
    const { open } = historyStore();
    const { store, worker, actions, saved } = fakeLabStore({ history: open });
    for (let i = 1; i <= 6; i++) worker.emit({ type: 'history/log', logId: `log-${i}`, log: runLog(i, 'completed', `set${i}`) });
    await settled(() => store.getState().history.runs.length === 6);
    // Runs saved within one millisecond list in any order: the newest, with six epochs, is set6's.
    const listed = store.getState().history.runs;
    const newest = listed.find((r) => r.kind === 'run' && r.summary.datasetName === 'set6')!.id;
    const ids = [newest, ...listed.map((r) => r.id).filter((id) => id !== newest)];

    await actions().openStoredRun(ids[0]!);
    expect(store.getState().history.opened?.log.epochs).toHaveLength(6);
    await actions().renameStoredRun(ids[0]!, '  best so far ');
    expect(store.getState().history.opened?.name).toBe('best so far');
    expect(store.getState().history.runs.find((r) => r.id === ids[0])?.name).toBe('best so far');
    await actions().renameStoredRun(ids[0]!, '   ');
    expect(store.getState().history.message).toContain("a run's name cannot be empty");

    await actions().exportStoredRun(ids[0]!);
    expect(saved.at(-1)!.fileName).toBe('best-so-far-run.zip');
    const runJson = JSON.parse(strFromU8(unzipSync(saved.at(-1)!.bytes)['run.json']!));
    expect(runJson).toMatchObject({ format: 'finetune-lab/run', exportedAt: '2026-12-02T12:00:00.000Z' });
    expect(runJson.epochs).toHaveLength(6);

    for (const id of ids.slice(0, 5)) await actions().toggleCompared(id);
    expect(store.getState().history.compared.map((r) => r.id)).toEqual(ids.slice(0, 5));
    await actions().toggleCompared(ids[5]!);
    expect(store.getState().history.compared).toHaveLength(5);
    expect(store.getState().history.message).toContain('At most 5 runs');
    await actions().toggleCompared(ids[1]!);
    expect(store.getState().history.compared.map((r) => r.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    // A deleted run leaves the comparison and the view.
    await actions().deleteStoredRun(ids[0]!);
    expect(store.getState().history.opened).toBeNull();
    expect(store.getState().history.compared.map((r) => r.id)).toEqual([ids[2], ids[3], ids[4]]);
  });

  it('keeps the kept model with its run, asks for persistent storage, and loads it back as an import', async () => {
    const { open } = historyStore();
    let asked = 0;
    const { store, worker, actions, keepModel, saved } = fakeLabStore({ history: open, persistStorage: () => Promise.resolve(++asked > 0) });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(2, 'completed') });
    keepModel();
    await settled(() => store.getState().history.currentId !== null);
    actions().keepModelInHistory();
    expect(worker.last()).toEqual({ type: 'trained/export', format: 'tfjs', to: 'history' });
    expect(store.getState().history.keepingModel).toBe(true);
    const bytes = new Uint8Array([80, 75, 3, 4, 1, 2, 3]);
    worker.emit({ type: 'trained/exported', file: { format: 'tfjs', fileName: 'd-tfjs-model.zip', bytes, ms: 5, to: 'history', logId: 'log-1' } });
    await settled(() => !store.getState().history.keepingModel);
    expect(saved).toEqual([]); // not a download
    expect(store.getState().trained.exports.tfjs).toEqual({ status: 'idle' });
    expect(store.getState().history.runs[0]).toMatchObject({ model: { fileName: 'd-tfjs-model.zip', sizeBytes: 7 } });
    expect(store.getState().history.persisted).toBe(true);
    expect(asked).toBe(1);

    await actions().loadStoredModel(store.getState().history.runs[0]!.id);
    const command = worker.last();
    expect(command?.type).toBe('trained/import');
    const file = (command as { file: File }).file;
    expect(file.name).toBe('d-tfjs-model.zip');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
  });

  it('says the model was not kept when the worker could not write it', async () => {
    const { open } = historyStore();
    const { store, worker, actions, keepModel } = fakeLabStore({ history: open });
    keepModel();
    actions().keepModelInHistory();
    worker.emit({ type: 'trained/exportFailed', format: 'tfjs', to: 'history', error: { code: 'internal', message: 'out of memory' } });
    expect(store.getState().history).toMatchObject({ keepingModel: false, message: 'The model was not kept: out of memory' });
  });

  it('saves the training state of each epoch, and resumes a cut-off run from it with the records up to that epoch', async () => {
    const { open } = historyStore();
    const first = fakeLabStore({ history: open });
    first.worker.emit({ type: 'history/state', logId: 'log-1', state: trainingState(2), log: runLog(3) });
    await settled(() => {
      const run = first.store.getState().history.runs[0];
      return run?.kind === 'run' && run.resumable?.epoch === 2;
    });
    // Another page (after a reload) resumes it: the charts get the records before epoch 2, the worker the state.
    const { store, worker, actions } = fakeLabStore({ history: open });
    await settled(() => store.getState().history.runs.length === 1);
    const id = store.getState().history.runs[0]!.id;
    await actions().resumeStoredRun(id);
    const command = worker.last() as Extract<WorkerCommand, { type: 'train/resumeSaved' }>;
    expect(command.type).toBe('train/resumeSaved');
    expect(command.state.epoch).toBe(2);
    expect(command.log.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(command.log.steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(store.getState().training).toMatchObject({ status: 'starting', runStart: { steps: 4, epochs: 2 } });
    // This tab's run once the worker's first save of it went through, into the same stored run.
    expect(store.getState().history.currentId).toBeNull();
    worker.emit({ type: 'history/log', logId: command.logId, log: runLog(4, 'completed') });
    await settled(() => store.getState().history.currentId === id);
    await settled(() => {
      const run = store.getState().history.runs[0];
      return run?.kind === 'run' && run.summary.status === 'completed';
    });
    expect(store.getState().history.runs).toHaveLength(1);
    expect(store.getState().history.runs[0]).not.toHaveProperty('resumable');
  });

  it('splits the open folder as the run did (its own seed) before resuming', async () => {
    const { open } = historyStore();
    const first = fakeLabStore({ history: open });
    const log = runLog(3);
    log.dataset.splitOptions = { validationFraction: 0.3, seed: 9 };
    first.worker.emit({ type: 'history/state', logId: 'log-1', state: trainingState(2), log });
    await settled(() => first.store.getState().history.runs[0]?.kind === 'run' && 'resumable' in first.store.getState().history.runs[0]!);
    const { store, worker, actions } = fakeLabStore({ history: open, dropped: [{ path: 'd/a/1.png', file: new File(['x'], '1.png') }] });
    actions().openDrop({ files: [] } as unknown as DataTransfer);
    await settled(() => worker.sent.some((c) => c.type === 'dataset/open'));
    const summary = { rootName: 'd', classNames: ['a', 'b'], splitSource: 'stratified' as const, splitOptions: { validationFraction: 0.2, seed: 42 }, counts: { train: [4, 4], validation: [1, 1], test: [0, 0] }, issues: [], trainable: true, imageCount: 10 };
    const scan = { decoded: 10, widths: { min: 1, median: 1, max: 1 }, heights: { min: 1, median: 1, max: 1 }, grayCount: 0, alphaCount: 0, downscaledCount: 0, formats: {}, samples: [], failures: [] } as unknown as Extract<WorkerEvent, { type: 'dataset/scanned' }>['scan'];
    worker.emit({ type: 'dataset/indexed', dataset: summary });
    worker.emit({ type: 'dataset/scanned', scan });
    await settled(() => store.getState().history.runs.length === 1);
    const opens = () => worker.sent.filter((c) => c.type === 'dataset/open').length;
    expect(opens()).toBe(1);
    const resuming = actions().resumeStoredRun(store.getState().history.runs[0]!.id);
    await settled(() => opens() === 2);
    expect(worker.last()).toMatchObject({ type: 'dataset/open', split: { validationFraction: 0.3, seed: 9 } });
    worker.emit({ type: 'dataset/indexed', dataset: { ...summary, splitOptions: { validationFraction: 0.3, seed: 9 } } });
    worker.emit({ type: 'dataset/scanned', scan });
    await resuming;
    expect(worker.last()?.type).toBe('train/resumeSaved');
  });

  it('reads a picked folder again from its kept handle to resume, and says so when the browser does not allow it', async () => {
    const { open } = historyStore();
    const handle = { kind: 'directory', name: 'd' };
    const store0 = await open();
    const created = await store0.createRun(runLog(3));
    await store0.saveFolder(created.id, handle);
    await store0.saveState(created.id, trainingState(2));
    const asked: unknown[] = [];
    let allow = false;
    const { store, worker, actions } = fakeLabStore({
      history: open,
      reopenDirectory: (h) => (asked.push(h), Promise.resolve(allow ? [{ path: 'd/a/1.png', file: new File(['x'], '1.png') }] : null)),
    });
    await settled(() => store.getState().history.runs.length === 1);
    await actions().resumeStoredRun(created.id);
    expect(asked).toEqual([handle]);
    expect(store.getState().history.message).toBe('The browser did not let the page read d again: open it yourself, then resume.');
    expect(worker.sent.some((c) => c.type === 'train/resumeSaved')).toBe(false);
    allow = true;
    const resuming = actions().resumeStoredRun(created.id);
    await settled(() => worker.sent.some((c) => c.type === 'dataset/open'));
    expect(worker.last()).toMatchObject({ type: 'dataset/open', files: [{ path: 'd/a/1.png' }], split: { validationFraction: 0.2, seed: 42 } });
    const summary = { rootName: 'd', classNames: ['a', 'b'], splitSource: 'stratified' as const, splitOptions: { validationFraction: 0.2, seed: 42 }, counts: { train: [4, 4], validation: [1, 1], test: [0, 0] }, issues: [], trainable: true, imageCount: 10 };
    worker.emit({ type: 'dataset/indexed', dataset: summary });
    worker.emit({ type: 'dataset/scanned', scan: { decoded: 10 } as unknown as Extract<WorkerEvent, { type: 'dataset/scanned' }>['scan'] });
    await resuming;
    expect(worker.last()?.type).toBe('train/resumeSaved');
  });

  it('says runs are not kept when the history cannot open, and training is untouched', async () => {
    const { store, worker } = fakeLabStore({ history: () => Promise.reject(new Error('IndexedDB is off')) });
    worker.emit({ type: 'train/started', run: runInfo() });
    worker.emit({ type: 'history/log', logId: 'log-1', log: runLog(1) });
    await settled(() => store.getState().history.status === 'unavailable');
    expect(store.getState().history.message).toBe('The run history failed: IndexedDB is off');
    expect(store.getState().training.status).toBe('running');
    expect(fakeLabStore().store.getState().history.status).toBe('unavailable');
  });
});
