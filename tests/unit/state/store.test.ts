// The store's actions against a fake worker channel: the commands each one sends, and how the
// events that answer them are folded in (through the real applyEvent).

import { describe, expect, it } from 'vitest';
import type { WorkerCommand } from '../../../src/workers/protocol';
import { fakeLabStore as setup } from './fake-store';
import { imagePrediction, runInfo, stepRecord, trainedModel } from './fixtures';

const file = (name: string, type = '') => new File([name], name, { type });
/** What a drop hands the page; only the parts the store reads. */
const dataTransfer = (files: File[], directory = false) => ({ files, items: files.map(() => ({ webkitGetAsEntry: () => ({ isDirectory: directory }) })) }) as unknown as DataTransfer;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createLabStore: settings and fixes', () => {
  it('the stretched-images fix pads the next run’s images, and the next run sends it', () => {
    const { worker, store, actions } = setup();
    expect(store.getState().training.settings.resize).toBe('stretch');
    actions().applyFix({ kind: 'setResize', value: 'pad', label: 'Pad images to a square' });
    expect(store.getState().training.settings.resize).toBe('pad');
    actions().startTraining();
    expect(worker.last()).toMatchObject({ type: 'train/start', settings: { resize: 'pad' } });
  });
});

describe('createLabStore: leaving images out and relabelling them', () => {
  it('drops images from the files the worker gets, one click at a time, and undoes the last click; a new folder starts afresh', async () => {
    const { worker, store, actions } = setup();
    actions().openInput([file('a.png'), file('b.png'), file('c.png')]);
    await settle();
    const paths = () => (worker.last() as Extract<WorkerCommand, { type: 'dataset/open' }>).files.map((f) => f.path);
    actions().dropImages(['a.png']);
    actions().dropImages(['c.png']);
    expect(paths()).toEqual(['b.png']);
    expect(store.getState().datasetEdits).toEqual([
      { kind: 'leave-out', paths: ['a.png'] },
      { kind: 'leave-out', paths: ['c.png'] },
    ]);
    actions().undoDatasetEdit();
    expect(paths()).toEqual(['b.png', 'c.png']);
    expect(store.getState().datasetEdits).toEqual([{ kind: 'leave-out', paths: ['a.png'] }]);
    actions().openInput([file('d.png')]);
    await settle();
    expect(store.getState().datasetEdits).toEqual([]);
    const sent = worker.sent.length;
    actions().undoDatasetEdit();
    expect(worker.sent.length).toBe(sent);
  });

  it('sends relabels with the files, keeps them over a re-split and a restarted worker, and undoes them newest first', async () => {
    const { worker, actions } = setup();
    actions().openInput([file('cats/a.png'), file('dogs/b.png'), file('dogs/c.png')]);
    await settle();
    const sentOpen = () => worker.last() as Extract<WorkerCommand, { type: 'dataset/open' }>;
    actions().relabelImages(['dogs/b.png'], 'cats');
    expect(sentOpen().relabel).toEqual({ 'dogs/b.png': 'cats' });
    actions().dropImages(['dogs/c.png']);
    expect(sentOpen()).toMatchObject({ relabel: { 'dogs/b.png': 'cats' } });
    expect(sentOpen().files.map((f) => f.path)).toEqual(['cats/a.png', 'dogs/b.png']);
    actions().resplit({ validationFraction: 0.3, seed: 7 });
    expect(sentOpen()).toMatchObject({ relabel: { 'dogs/b.png': 'cats' }, split: { seed: 7 } });
    actions().restartWorker();
    expect(sentOpen()).toMatchObject({ relabel: { 'dogs/b.png': 'cats' } });
    actions().undoDatasetEdit();
    actions().undoDatasetEdit();
    expect(sentOpen().relabel).toBeUndefined();
    expect(sentOpen().files).toHaveLength(3);
  });
});

describe('createLabStore: training', () => {
  it('starts a new model with continue: false and clears the charts', () => {
    const { worker, store, actions } = setup();
    worker.emit({ type: 'train/started', run: runInfo() });
    worker.emit({ type: 'train/stepEnded', step: stepRecord(0) });
    worker.emit({ type: 'train/finished', status: 'completed', steps: 1 });
    actions().startTraining();
    expect(worker.last()).toEqual({ type: 'train/start', settings: store.getState().training.settings, continue: false });
    expect(store.getState().training).toMatchObject({ status: 'starting', steps: [], run: null });
  });

  it('trains more with continue: true and keeps the charts through the continued run', () => {
    const { worker, store, actions, keepModel } = setup();
    worker.emit({ type: 'train/started', run: runInfo() });
    worker.emit({ type: 'train/stepEnded', step: stepRecord(0) });
    worker.emit({ type: 'train/stepEnded', step: stepRecord(1) });
    worker.emit({ type: 'train/finished', status: 'completed', steps: 2 });
    keepModel({ steps: 2, epochs: 1 });

    actions().trainMore();
    expect(worker.last()).toEqual({ type: 'train/start', settings: store.getState().training.settings, continue: true });
    expect(store.getState().training).toMatchObject({ status: 'starting', runStart: { steps: 2, epochs: 0 } });
    expect(store.getState().training.steps).toHaveLength(2);

    worker.emit({ type: 'train/started', run: runInfo(true) });
    worker.emit({ type: 'train/stepEnded', step: stepRecord(2) });
    expect(store.getState().training.steps.map((s) => s.step)).toEqual([0, 1, 2]);
    expect(store.getState().training.runStart).toEqual({ steps: 2, epochs: 0 });
  });
});

describe('createLabStore: the kept model', () => {
  it('asks the worker to discard it, and forgets it when the worker says so', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    actions().discardModel();
    expect(worker.last()).toEqual({ type: 'trained/discard' });
    worker.emit({ type: 'trained/discarded' });
    expect(store.getState().trained.model).toEqual({ status: 'none' });
  });

  it('imports a zip, and a failed import keeps the model that was there', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel({ steps: 7 });
    const zip = file('other.zip', 'application/zip');
    actions().importModel(zip);
    expect(worker.last()).toEqual({ type: 'trained/import', file: zip });
    expect(store.getState().trained.model).toMatchObject({ status: 'importing', fileName: 'other.zip', previous: { steps: 7 } });

    const error = { code: 'model/invalid' as const, message: 'other.zip holds no model.json' };
    worker.emit({ type: 'trained/importFailed', fileName: 'other.zip', error });
    expect(store.getState().trained.model).toEqual({ status: 'ready', info: trainedModel({ steps: 7 }), importFailure: { fileName: 'other.zip', error } });
  });

  it('imports a single .zip dropped on the dataset instead of opening it as a dataset', async () => {
    const { worker, store, actions } = setup({ dropped: [{ path: 'm.zip', file: file('m.zip') }] });
    const zip = file('m.zip');
    actions().openDrop(dataTransfer([zip]));
    await settle();
    expect(worker.sent).toEqual([{ type: 'trained/import', file: zip }]);
    expect(store.getState().dataset.status).toBe('empty');
  });

  it('opens a folder named like a zip, or a zip among other files, as a dataset', async () => {
    const folder = file('shapes.zip');
    const { worker, actions } = setup({ dropped: [{ path: 'shapes.zip/a/1.png', file: file('1.png') }] });
    actions().openDrop(dataTransfer([folder], true));
    await settle();
    expect(worker.sent.map((c) => c.type)).toEqual(['dataset/open']);
    actions().openDrop(dataTransfer([file('m.zip'), file('1.png')]));
    await settle();
    expect(worker.sent.map((c) => c.type)).toEqual(['dataset/open', 'dataset/open']);
  });

  it('exports: the bytes go to the DownloadPort, the state keeps name, size and time', () => {
    const { worker, store, actions, saved, keepModel } = setup();
    keepModel();
    actions().exportModel('tfjs');
    expect(worker.last()).toEqual({ type: 'trained/export', format: 'tfjs' });
    expect(store.getState().trained.exports.tfjs).toEqual({ status: 'running' });

    const bytes = new Uint8Array([80, 75, 3, 4, 0, 0]);
    worker.emit({ type: 'trained/exported', file: { format: 'tfjs', fileName: 'finetuned-tfjs.zip', bytes, ms: 420 } });
    expect(saved).toEqual([{ fileName: 'finetuned-tfjs.zip', bytes }]);
    expect(saved[0]!.bytes).toBe(bytes);
    expect(store.getState().trained.exports).toEqual({ tfjs: { status: 'done', fileName: 'finetuned-tfjs.zip', sizeBytes: 6, ms: 420 }, onnx: { status: 'idle' }, pytorch: { status: 'idle' }, run: { status: 'idle' } });
  });

  it('shows a failed export of the run as the worker words it', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel({ origin: 'imported', fileName: 'm.zip' });
    actions().exportModel('run');
    worker.emit({ type: 'trained/exportFailed', format: 'run', error: { code: 'input/invalid', message: 'An imported model has no run to export.' } });
    expect(store.getState().trained.exports.run).toEqual({ status: 'failed', error: { code: 'input/invalid', message: 'An imported model has no run to export.' } });
  });

  it('forgets the kept model when the worker is restarted after a crash', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    worker.emit({ type: 'worker/died', error: { code: 'worker/died', message: 'crashed' } });
    actions().restartWorker();
    expect(worker.restarts()).toBe(1);
    expect(store.getState().trained).toEqual({ model: { status: 'none' }, exports: { tfjs: { status: 'idle' }, onnx: { status: 'idle' }, pytorch: { status: 'idle' }, run: { status: 'idle' } } });
    expect(store.getState().workerError).toBeNull();
  });

  it('forgets it on any restart, even with no crash reported first: the new worker has no model', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    actions().restartWorker('wasm');
    expect(worker.restarts()).toBe(1);
    expect(store.getState().trained.model).toEqual({ status: 'none' });
  });
});

describe('createLabStore: predictions', () => {
  it('sends the images of a pick with a new request id, in order, leaving out what is not an image', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    const cat = file('cat.jpg', 'image/jpeg');
    const dog = file('dog.PNG');
    const picks = [
      { path: 'pets/cat.jpg', file: cat },
      { path: 'pets/notes.txt', file: file('notes.txt', 'text/plain') },
      { path: 'pets/._cat.jpg', file: file('._cat.jpg') },
      { path: 'pets/dog.PNG', file: dog },
      { path: 'pets/cat.jpg', file: cat },
    ];
    actions().predict(picks, true);
    const command = worker.last();
    expect(command).toEqual({
      type: 'trained/predict',
      requestId: expect.any(Number),
      images: [
        { path: 'pets/cat.jpg', image: cat },
        { path: 'pets/dog.PNG', image: dog },
      ],
      heatMaps: true,
    });
    const requestId = (command as Extract<WorkerCommand, { type: 'trained/predict' }>).requestId;
    const [batch] = store.getState().predictions.batches;
    expect(batch).toMatchObject({ requestId, heatMaps: true, model: { steps: 4 } });
    expect(batch!.items.map((i) => [i.path, i.status])).toEqual([
      ['pets/cat.jpg', 'running'],
      ['pets/dog.PNG', 'running'],
    ]);

    actions().predict([{ path: 'x.webp', file: file('x.webp') }], false);
    const second = worker.last() as Extract<WorkerCommand, { type: 'trained/predict' }>;
    expect(second.requestId).not.toBe(requestId);
    expect(second.heatMaps).toBe(false);
    expect(store.getState().predictions.batches.map((b) => b.requestId)).toEqual([second.requestId, requestId]);
  });

  it('folds the answers into the batch by request id and path', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    actions().predict([{ path: 'a.png', file: file('a.png') }, { path: 'b.png', file: file('b.png') }], true);
    const { requestId } = worker.last() as Extract<WorkerCommand, { type: 'trained/predict' }>;
    worker.emit({ type: 'trained/predicted', prediction: imagePrediction(requestId, 'b.png', 'b') });
    worker.emit({ type: 'trained/predictFailed', requestId, path: 'a.png', error: { code: 'image/decode-failed', message: 'a.png is corrupt' } });
    const items = store.getState().predictions.batches[0]!.items;
    expect(items.map((i) => i.status)).toEqual(['failed', 'done']);
    expect(items[1]!.status === 'done' && items[1]!.prediction.top[0]!.label).toBe('b');
  });

  it('keeps the newest five batches', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    for (let i = 0; i < 7; i++) actions().predict([{ path: `${i}.png`, file: file(`${i}.png`) }], false);
    expect(worker.sent).toHaveLength(7);
    expect(store.getState().predictions.batches.map((b) => b.items[0]!.path)).toEqual(['6.png', '5.png', '4.png', '3.png', '2.png']);
  });

  it('sends nothing without a kept model, or when nothing picked is an image', () => {
    const { worker, store, actions, keepModel } = setup();
    actions().predict([{ path: 'a.png', file: file('a.png') }], true);
    expect(worker.sent).toEqual([]);
    expect(store.getState().predictions).toEqual({ batches: [], message: 'There is no model to try yet: fine-tune one, or import one.' });
    keepModel();
    actions().predict([{ path: 'a.txt', file: file('a.txt') }, { path: 'b.svg', file: file('b.svg', 'image/svg+xml') }], true);
    expect(worker.sent).toEqual([]);
    expect(store.getState().predictions.message).toBe('None of the 2 files picked is an image this page reads (jpg, jpeg, png, webp, gif, bmp).');
    actions().predict([{ path: 'a.png', file: file('a.png') }], true);
    expect(store.getState().predictions.message).toBeNull();
  });

  it('predicts the images of a dropped folder, skipping its folder entries', async () => {
    const one = file('1.jpg');
    const { worker, actions, keepModel } = setup({ dropped: [{ path: 'new/', file: null }, { path: 'new/1.jpg', file: one }, { path: 'new/.DS_Store', file: file('.DS_Store') }] });
    keepModel();
    actions().predictDrop(dataTransfer([file('new')], true), false);
    await settle();
    expect(worker.last()).toEqual({ type: 'trained/predict', requestId: expect.any(Number), images: [{ path: 'new/1.jpg', image: one }], heatMaps: false });
  });

  it('saves a batch as CSV through the DownloadPort', async () => {
    const { worker, actions, saved, keepModel } = setup();
    keepModel();
    actions().predict([{ path: 'a,1.png', file: file('a,1.png') }, { path: 'b.png', file: file('b.png') }], true);
    const { requestId } = worker.last() as Extract<WorkerCommand, { type: 'trained/predict' }>;
    worker.emit({ type: 'trained/predicted', prediction: imagePrediction(requestId, 'a,1.png', 'a') });
    worker.emit({ type: 'trained/predicted', prediction: imagePrediction(requestId, 'b.png', 'b') });
    actions().downloadPredictions(requestId);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.fileName).toBe(`predictions-${requestId}.csv`);
    expect(new TextDecoder().decode(saved[0]!.bytes)).toBe(
      'path,top1,probability,top3\r\n"a,1.png",a,0.8750,a:0.8750;b:0.1250\r\nb.png,b,0.8750,b:0.8750;a:0.1250\r\n',
    );
  });

  it('fails the images still waiting when the worker is restarted', () => {
    const { worker, store, actions, keepModel } = setup();
    keepModel();
    actions().predict([{ path: 'a.png', file: file('a.png') }], true);
    actions().restartWorker();
    expect(worker.restarts()).toBe(1);
    expect(store.getState().predictions.batches[0]!.items[0]).toMatchObject({ status: 'failed', error: { code: 'worker/died' } });
  });
});
