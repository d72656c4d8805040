// The lab's zustand store: created by a factory around a worker channel, data and actions kept
// apart, every worker event folded in by applyEvent.

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BackendName } from '../core/backends';
import { IMAGE_EXTENSIONS, type SplitName } from '../core/dataset';
import { serializeError } from '../core/errors';
import { DEFAULT_SPLIT_OPTIONS, type SplitOptions } from '../core/splits';
import type { TrainingConfig } from '../core/training-config';
import type { Fix } from '../core/diagnostics';
import { DEFAULT_PREPROCESS_SPEC, type NormalizationMode, type ResizeRule } from '../core/preprocess-spec';
import { predictionsCsv } from '../core/predictions-csv';
import { exportRunZip, type RunLog } from '../core/run-report';
import type { TrainingState } from '../core/run-records';
import { logAtState, resumeMismatch } from './stored-run';
import { MAX_COMPARED_RUNS } from '../history/compare';
import { RunStoreError, type RunStore } from '../history/run-store';
import type { ExportedFile, ExportFormat, ModelSourceRef, WorkerCommand, WorkerEvent } from '../workers/protocol';
import {
  applyEvent,
  failRunningPredictions,
  initialLabState,
  isUnfinished,
  keptModelInfo,
  MAX_PHOTO_CHECKS,
  MAX_PREDICTION_BATCHES,
  INITIAL_HISTORY_STATE,
  type DatasetEdit,
  type HistoryState,
  type LabState,
  type PredictionBatch,
} from './lab-state';

/** What the store needs of the worker: the page's side of the channel. */
export interface WorkerPort {
  send(command: WorkerCommand): void;
  subscribe(listener: (event: WorkerEvent) => void): () => void;
  restart(): void;
}

/** A file of a drop, as the page's ingestion produces it (folders have `file: null`). */
export interface IngestedFile {
  path: string;
  file: File | null;
}

/** What the store needs of the page's ingestion (src/data/ingest.ts, wired in main.tsx). */
export interface IngestPort {
  fromDataTransfer(dataTransfer: DataTransfer): Promise<IngestedFile[]>;
  fromInput(files: FileList | readonly File[]): IngestedFile[];
  /** null where the browser has no showDirectoryPicker; no files when the user cancelled. `handle` reopens the folder later. */
  pickDirectory(): Promise<{ files: IngestedFile[]; handle: unknown } | null>;
  /** The files of a folder picked before, from its handle, once the browser lets the page read it again; null when it does not. */
  reopenDirectory?(handle: unknown): Promise<IngestedFile[] | null>;
  /** The generated demo image set. */
  demo(): Promise<IngestedFile[]>;
}

/** What the store needs to hand a file to the user (a Blob, an object URL and a link in main.tsx). */
export interface DownloadPort {
  save(fileName: string, bytes: Uint8Array): void;
}

/** An image picked or dropped for a prediction, with its path in what was picked. */
export interface PickedImage {
  path: string;
  file: File;
}

export interface LabActions {
  /** A drop on the page: call synchronously from the drop handler. A drop of a single .zip imports it as a model instead. */
  openDrop(dataTransfer: DataTransfer): void;
  /** The files of an <input webkitdirectory>. */
  openInput(files: FileList | readonly File[]): void;
  /** showDirectoryPicker; resolves false where the browser has none. */
  pickFolder(): Promise<boolean>;
  /** Asks for previews of these dataset images. */
  requestThumbnails(paths: string[]): void;
  /** Opens the generated demo set, with settings that train it within seconds. */
  openDemo(): void;
  /** Splits the open dataset again with another seed or validation fraction. */
  resplit(options: SplitOptions): void;
  /** Preprocesses the first `count` images of a split and reports their hash and statistics. */
  sampleSplit(split: SplitName, count: number): void;
  /** Changes run settings; the live ones (freeze depth, class weighting, learning rate, BN policy) also change a running run at its next step. */
  updateTraining(change: { config?: Partial<TrainingConfig>; sizePx?: number; resize?: ResizeRule; augment?: boolean; normalization?: NormalizationMode; validationNormalization?: NormalizationMode | null }): void;
  /** Applies a diagnostic's one-click fix (settings that cannot change mid-run apply to the next run). */
  applyFix(fix: Fix): void;
  /** Applies the fix, then starts a new run with it: at once, or once the run in progress has stopped. */
  fixAndRestart(fix: Fix): void;
  /** Leaves these images out of the dataset (e.g. validation copies of training images). */
  dropImages(paths: string[]): void;
  /** Files these images under another of the dataset's classes (a likely mislabel corrected). */
  relabelImages(paths: string[], className: string): void;
  /** Takes back the last dropImages or relabelImages. */
  undoDatasetEdit(): void;
  /** The kept model back at its best validation epoch's weights (a run in progress stops first). */
  restoreBestEpoch(): void;
  /** A new model from the pretrained weights (the worker discards the kept one); the charts start over. */
  startTraining(): void;
  /** More training of the kept model with the current settings: its steps and epochs stay on the charts and go on. */
  trainMore(): void;
  pauseTraining(): void;
  resumeTraining(): void;
  stopTraining(): void;
  /** Loads the pretrained model from the URL beside the page or from picked files. */
  loadModel(source: ModelSourceRef): void;
  /** Classifies a photo with the pretrained ImageNet head, preprocessed with `normalization`. */
  checkPhoto(file: File, normalization?: NormalizationMode): void;
  /** Frees the kept model. */
  discardModel(): void;
  /** A zip of a model exported as 'tfjs' becomes the kept model (the current one stays if it fails). */
  importModel(file: File): void;
  /** Predicts each image with the kept model; files that are not images are left out. Nothing happens without a kept model. */
  predict(files: readonly PickedImage[], heatMaps: boolean): void;
  /** predict() over a drop of files or folders on the "Try it" panel (a single .zip is imported instead): call synchronously from the drop handler. */
  predictDrop(dataTransfer: DataTransfer, heatMaps: boolean): void;
  /** Saves a batch's predictions as a CSV file (its answered images). */
  downloadPredictions(requestId: number): void;
  /** Writes the kept model (or its run) to a zip, handed to the DownloadPort when it arrives. */
  exportModel(format: ExportFormat): void;
  /**
   * After a crash or a lost GPU: a fresh worker (on `backend` when given), the model loaded again
   * from where it came from, the dataset sent again; the last run's charts stay until the next run.
   */
  restartWorker(backend?: BackendName): void;
  /** Reads the run history's list and the storage used again. */
  refreshHistory(): Promise<void>;
  /** Shows a stored run's charts and findings as they were. */
  openStoredRun(id: string): Promise<void>;
  closeStoredRun(): void;
  renameStoredRun(id: string, name: string): Promise<void>;
  /** Deletes a stored run; the run this tab is training is then no longer saved. */
  deleteStoredRun(id: string): Promise<void>;
  /** Saves a stored run's run.json and metrics.csv as a zip, as "Export run" does for the kept model. */
  exportStoredRun(id: string): Promise<void>;
  /** Adds a stored run to the comparison, or takes it out (at most MAX_COMPARED_RUNS). */
  toggleCompared(id: string): Promise<void>;
  /** Keeps the kept model (a TF.js zip) with its run in the history, and asks the browser to keep the storage. */
  keepModelInHistory(): void;
  /** Makes a stored run's kept model the kept model again (as an import), to predict with or train more. */
  loadStoredModel(id: string): Promise<void>;
  /**
   * Goes on with a stored run that did not end (a reload, a crash), from the training state saved
   * at its last epoch's end, on the open dataset (the worker checks it holds the same files).
   */
  resumeStoredRun(id: string): Promise<void>;
}

export type LabStore = StoreApi<LabState & { actions: LabActions }>;

export interface LabStoreOptions {
  worker: WorkerPort;
  ingest: IngestPort;
  requestedBackend: BackendName | null;
  /** Decoding workers, when the page asks for a number (`?decodeWorkers=`). */
  decodeWorkers?: number;
  /** WASM threads, when the page asks for a number (`?threads=`). Default: every logical core. */
  wasmThreads?: number;
  /** Where exported models and CSV files go. */
  download: DownloadPort;
  /** The run history (IndexedDB). Without it, or when it fails to open, runs are not kept. */
  history?: () => Promise<RunStore>;
  /** navigator.storage.persist(): true when the browser will keep the page's storage until the user clears it. */
  persistStorage?: () => Promise<boolean>;
  /** The clock of exported files' names and run.json. Default: new Date(). */
  date?: () => Date;
  /** Milliseconds, for how long a save takes. Default: performance.now(). */
  now?: () => number;
}

const sameSplit = (a: SplitOptions | null, b: SplitOptions) => a !== null && a.seed === b.seed && a.validationFraction === b.validationFraction;

/** A drop of exactly one .zip file (not a folder named so): a model to import, not a dataset. */
function singleZip(dataTransfer: DataTransfer): File | null {
  const file = dataTransfer.files.length === 1 ? dataTransfer.files[0] : undefined;
  if (!file || !/\.zip$/i.test(file.name)) return null;
  const entry = dataTransfer.items?.[0]?.webkitGetAsEntry?.();
  return entry?.isDirectory ? null : file;
}

const IMAGE_TYPES = new Set(IMAGE_EXTENSIONS.map((extension) => `image/${extension === 'jpg' ? 'jpeg' : extension}`));

/** What the decoder reads: the dataset's image extensions (or, without an extension, their MIME types); hidden and system files left out. */
function isPredictableImage({ path, file }: PickedImage): boolean {
  const segments = path.split('/');
  const name = segments.at(-1) ?? '';
  // macOS' "._x.jpg" resource forks and __MACOSX folders look like images and are not.
  if (name.startsWith('.') || segments.some((s) => s === '__MACOSX')) return false;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return IMAGE_TYPES.has(file.type);
  return (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1).toLowerCase());
}

/** The first of each path: a row per image, and each answer finds its one row. */
function uniqueByPath(images: readonly PickedImage[]): PickedImage[] {
  const byPath = new Map<string, PickedImage>();
  for (const image of images) if (!byPath.has(image.path)) byPath.set(image.path, image);
  return [...byPath.values()];
}

const csvEncoder = new TextEncoder();
const NO_MODEL_MESSAGE = 'There is no model to try yet: fine-tune one, or import one.';

export function createLabStore({ worker, ingest, download, requestedBackend: requestedAtStart, decodeWorkers, wasmThreads, history, persistStorage, date = () => new Date(), now = () => performance.now() }: LabStoreOptions): LabStore {
  let requestedBackend = requestedAtStart;
  let nextRequestId = 1;
  let lastSource: ModelSourceRef | null = null;
  // The last drop's File objects stay here, outside the (serialisable) state, for a re-split and
  // for the user's edits (state.datasetEdits), which the worker gets applied to them.
  let droppedFiles: IngestedFile[] = [];
  let splitOptions: SplitOptions = DEFAULT_SPLIT_OPTIONS;
  // The open folder's handle when it came from the folder picker (kept with its runs, to reopen
  // it for a resume), and the one of a pick still being read.
  let folderHandle: unknown = null;
  let nextHandle: unknown = null;

  const sendDataset = () => {
    const edits = store.getState().datasetEdits;
    const leftOut = new Set(edits.flatMap((edit) => (edit.kind === 'leave-out' ? edit.paths : [])));
    const relabel: Record<string, string> = {};
    for (const edit of edits) if (edit.kind === 'relabel') for (const path of edit.paths) relabel[path] = edit.className;
    const files = droppedFiles.filter((f) => !leftOut.has(f.path));
    worker.send({ type: 'dataset/open', files, split: splitOptions, ...(Object.keys(relabel).length > 0 ? { relabel } : {}), ...(decodeWorkers ? { decodeWorkers } : {}) });
  };
  // The checks before Start: as soon as a dataset and the model are there, and again when a
  // setting they read changes; never during a run (it makes its own).
  const sendCheck = () => {
    const { model, dataset, training, backend } = store.getState();
    // On a GPU backend the checks' forward pass queues behind (and slows) a run's first steps; there
    // the run's own checks before its first step stand alone.
    if (backend.status === 'ready' && backend.info.name !== 'wasm' && backend.info.name !== 'cpu') return;
    if (model.status !== 'ready' || dataset.status !== 'ready' || !dataset.scan || dataset.scan.decoded === 0 || isUnfinished(training.status)) return;
    worker.send({ type: 'train/check', settings: training.settings });
  };
  // fixAndRestart during a run: the new run starts when this one has ended.
  let restartWhenEnded = false;
  const editDataset = (edits: DatasetEdit[]) => {
    if (droppedFiles.length === 0) return;
    store.setState({ datasetEdits: edits });
    sendDataset();
  };
  const readFiles = (reading: Promise<IngestedFile[] | null> | IngestedFile[]) => {
    const previous = store.getState().dataset;
    store.setState({ dataset: { status: 'reading' } });
    return Promise.resolve(reading).then(
      (files) => {
        if (files === null || files.length === 0) {
          // A cancelled picker or an empty drop changes nothing: the open dataset stays.
          store.setState({ dataset: previous });
          return files !== null;
        }
        // A new folder: nothing of the old one's to put back.
        droppedFiles = files;
        // A picked folder's handle goes with the runs trained on it; a drop has none.
        folderHandle = nextHandle;
        nextHandle = null;
        store.setState({ datasetEdits: [] });
        sendDataset();
        return true;
      },
      (error: unknown) => {
        store.setState({ dataset: { status: 'failed', error: serializeError(error) } });
        return true;
      },
    );
  };

  // The run history. Each worker log (history/log) becomes one stored run: created by its first
  // save, replaced by the next ones. Saves go one at a time; while one is under way only the
  // newest log of each run waits, so a slow disk never queues a backlog of epochs.
  const openedHistory = history ? history() : Promise.reject(new RunStoreError('unavailable', 'Runs are not kept on this page.'));
  openedHistory.catch(() => undefined);
  /** logId → stored id; null once the stored run was deleted (it is then no longer saved). */
  const storedIds = new Map<string, string | null>();
  const waitingLogs = new Map<string, RunLog>();
  let saving = Promise.resolve();
  const setHistory = (change: Partial<HistoryState>) => store.setState((state) => ({ history: { ...state.history, ...change } }));
  const historyMessage = (error: unknown) => (error instanceof RunStoreError ? error.message : `The run history failed: ${serializeError(error).message}`);
  const withHistory = async <T>(work: (runs: RunStore) => Promise<T>): Promise<T | undefined> => {
    let runs: RunStore;
    try {
      runs = await openedHistory;
    } catch (error) {
      setHistory({ status: 'unavailable', message: historyMessage(error) });
      return undefined;
    }
    try {
      return await work(runs);
    } catch (error) {
      setHistory({ message: historyMessage(error) });
      return undefined;
    }
  };
  const refreshHistory = () =>
    withHistory(async (runs) => {
      const [listing, storage] = await Promise.all([runs.listRuns(), runs.estimate()]);
      setHistory({ status: 'ready', runs: listing, storage });
    }).then(() => undefined);
  const saveLog = async (logId: string) => {
    const log = waitingLogs.get(logId);
    waitingLogs.delete(logId);
    if (!log || storedIds.get(logId) === null) return;
    await withHistory(async (runs) => {
      const id = storedIds.get(logId);
      const started = now();
      try {
        if (id === undefined) {
          const created = await runs.createRun(log);
          storedIds.set(logId, created.id);
          setHistory({ currentId: created.id });
          // Without it a resume asks the user to open the folder again, as after a drop.
          if (folderHandle) await runs.saveFolder(created.id, folderHandle).catch(() => undefined);
        } else if (id !== null) {
          await runs.saveRun(id, log);
          // A resumed run is this tab's once its first save went through.
          if (store.getState().history.currentId !== id) setHistory({ currentId: id });
        }
      } catch (error) {
        // Deleted (here or in another tab): it stays deleted, and the run goes on unsaved.
        if (error instanceof RunStoreError && error.code === 'not-found') {
          storedIds.set(logId, null);
          setHistory({ currentId: null, message: 'This run was deleted from the history, so it is no longer saved; it goes on training.' });
          return;
        }
        throw error;
      }
      setHistory({ message: null, lastSave: { at: date().toISOString(), ms: now() - started } });
    });
    await refreshHistory();
  };
  const keepLog = (logId: string, log: RunLog) => {
    const queued = waitingLogs.has(logId);
    waitingLogs.set(logId, log);
    if (!queued) saving = saving.then(() => saveLog(logId));
  };
  // A run's training state: only the newest of each run waits (each can be ~100s of MB).
  const waitingStates = new Map<string, TrainingState>();
  const keepState = (logId: string, state: TrainingState, log: RunLog) => {
    // The log as it stood at the state's epoch is saved before the state.
    keepLog(logId, log);
    const queued = waitingStates.has(logId);
    waitingStates.set(logId, state);
    if (queued) return;
    saving = saving.then(async () => {
      const latest = waitingStates.get(logId)!;
      waitingStates.delete(logId);
      const id = storedIds.get(logId);
      if (!id) return;
      await withHistory((runs) => runs.saveState(id, latest));
      await refreshHistory();
    });
  };
  // A model for the history, written after the saves before it: its run's record exists by then.
  const keepModel = (file: ExportedFile) => {
    saving = saving.then(async () => {
      const id = file.logId ? storedIds.get(file.logId) : undefined;
      if (!id) {
        setHistory({ keepingModel: false, message: 'The model was not kept: its run is not in the history (it was not saved, or was deleted).' });
        return;
      }
      await withHistory((runs) => runs.saveModel(id, file.fileName, file.bytes));
      // Done once the list shows it.
      await refreshHistory();
      setHistory({ keepingModel: false });
    });
  };
  /** Resolves true once the dataset sent last is scanned, false if it failed or holds no image. */
  const datasetReady = () =>
    new Promise<boolean>((resolve) => {
      const settle = (state: LabState) => {
        if (state.dataset.status === 'failed') return resolve(false), true;
        if (state.dataset.status === 'ready') return resolve(state.dataset.scan !== null), true;
        return false;
      };
      const unsubscribe = store.subscribe((state) => {
        if (settle(state)) unsubscribe();
      });
    });
  /** resumeStoredRun's work: the run and its state read, its folder reopened or re-split, then the worker told. */
  const resume = async (id: string) => {
    const loaded = await withHistory(async (runs) => {
      const run = await runs.getRun(id);
      const state = await runs.getState(id);
      if (!run || !state) throw new RunStoreError('not-found', 'That run has nothing to resume from any more (it ended, or was deleted in another tab).');
      return { run, state };
    });
    if (!loaded) return;
    const { run, state } = loaded;
    // The folder split as the run split it (a seed or fraction of its own), before the worker compares the files.
    const wanted = run.log.dataset.splitSource === 'stratified' ? run.log.dataset.splitOptions : null;
    const open = store.getState().dataset;
    const openSummary = open.status === 'ready' ? open.summary : null;
    const reopen = resumeMismatch(run.summary, openSummary) !== null && run.folder && ingest.reopenDirectory;
    if (reopen) {
      // The folder it was picked from, read again (the browser may ask the user first).
      const files = await ingest.reopenDirectory!(run.folder).catch(() => null);
      if (!files) {
        setHistory({ message: `The browser did not let the page read ${run.summary.datasetName ?? 'the folder'} again: open it yourself, then resume.` });
        return;
      }
      droppedFiles = files;
      folderHandle = run.folder;
      store.setState({ datasetEdits: [] });
    }
    if (reopen || (wanted && openSummary && !sameSplit(openSummary.splitOptions, wanted) && droppedFiles.length > 0)) {
      if (wanted) splitOptions = wanted;
      // Reading until the new split's scan: what datasetReady waits for.
      store.setState({ dataset: { status: 'reading' } });
      sendDataset();
      if (!(await datasetReady())) return;
    }
    const log = logAtState(run.log, state);
    const segment = log.runs.at(-1)!;
    // A name of its own for this tab's saves, mapped to the stored run they go on.
    const logId = globalThis.crypto.randomUUID();
    storedIds.set(logId, id);
    const { training } = store.getState();
    store.setState({
      training: {
        ...training,
        status: 'starting',
        settings: { ...segment.settings, config: state.config },
        run: null,
        steps: log.steps,
        epochs: log.epochs,
        changes: log.changes,
        runStart: { steps: log.steps.length, epochs: log.epochs.length },
        message: null,
      },
      // Not this tab's run yet: it is once its first save goes through.
    history: { ...store.getState().history, message: null },
    });
    worker.send({ type: 'train/resumeSaved', logId, log, state });
  };
  const storedRun = (id: string) =>
    withHistory(async (runs) => {
      const run = await runs.getRun(id);
      if (!run) throw new RunStoreError('not-found', 'That run is no longer in the history (it may have been deleted in another tab).');
      return { id: run.id, name: run.name, log: run.log };
    });

  const store: LabStore = createStore<LabState & { actions: LabActions }>()((set, get) => ({
    ...initialLabState(requestedBackend),
    actions: {
      openDrop(dataTransfer) {
        const zip = singleZip(dataTransfer);
        if (zip) return get().actions.importModel(zip);
        void readFiles(ingest.fromDataTransfer(dataTransfer));
      },
      openInput(files) {
        void readFiles(ingest.fromInput(files));
      },
      pickFolder() {
        const picking = ingest.pickDirectory();
        return readFiles(
          picking.then((picked) => {
            if (picked && picked.files.length > 0) nextHandle = picked.handle;
            return picked ? picked.files : null;
          }),
        );
      },
      requestThumbnails(paths) {
        const missing = paths.filter((path) => !get().thumbnails[path]);
        if (missing.length > 0) worker.send({ type: 'dataset/thumbnails', requestId: nextRequestId++, paths: missing });
      },
      openDemo() {
        const { training } = get();
        set({ training: { ...training, settings: { ...training.settings, sizePx: 112, config: { ...training.settings.config, epochs: 5, freezeDepth: 0 } } } });
        void readFiles(ingest.demo());
      },
      resplit(options) {
        splitOptions = options;
        if (droppedFiles.length > 0) sendDataset();
      },
      sampleSplit(split, count) {
        // As the next run would feed it: its size, and this split's scaling.
        const { sizePx, normalization, validationNormalization } = get().training.settings;
        const splitNormalization = split === 'train' ? normalization : (validationNormalization ?? normalization);
        worker.send({ type: 'dataset/sample', requestId: nextRequestId++, split, count, sizePx, normalization: splitNormalization });
      },
      updateTraining(change) {
        const { training } = get();
        const config = { ...training.settings.config, ...change.config };
        set({ training: { ...training, settings: { ...training.settings, ...change, config } } });
        if (!isUnfinished(training.status)) {
          const checked = [change.normalization, change.validationNormalization, change.sizePx, change.resize, change.config?.classWeighting, change.config?.seed];
          if (checked.some((value) => value !== undefined)) sendCheck();
          return;
        }
        const live = change.config ?? {};
        if (live.freezeDepth !== undefined) worker.send({ type: 'train/setFreezeDepth', value: live.freezeDepth });
        if (live.classWeighting !== undefined) worker.send({ type: 'train/setClassWeighting', value: live.classWeighting });
        if (live.learningRate !== undefined) worker.send({ type: 'train/setLearningRate', value: live.learningRate });
        if (live.batchNormPolicy !== undefined) worker.send({ type: 'train/setBatchNormPolicy', value: live.batchNormPolicy });
      },
      applyFix(fix) {
        const { updateTraining, dropImages } = get().actions;
        switch (fix.kind) {
          case 'setNormalization':
            return updateTraining({ normalization: fix.value });
          case 'alignValidationSpec':
            return updateTraining({ validationNormalization: null });
          case 'setClassWeighting':
            return updateTraining({ config: { classWeighting: fix.value } });
          case 'setFreezeDepth':
            return updateTraining({ config: { freezeDepth: fix.value, ...(fix.learningRate !== undefined ? { learningRate: fix.learningRate } : {}) } });
          case 'setLearningRate':
            return updateTraining({ config: { learningRate: fix.value } });
          case 'setBatchNormPolicy':
            return updateTraining({ config: { batchNormPolicy: fix.value } });
          case 'setResize':
            return updateTraining({ resize: fix.value });
          case 'dropImages':
            return dropImages(fix.imageIds);
          case 'restoreBestEpoch':
            return get().actions.restoreBestEpoch();
        }
      },
      fixAndRestart(fix) {
        const { applyFix, startTraining, stopTraining } = get().actions;
        applyFix(fix);
        if (isUnfinished(get().training.status)) {
          restartWhenEnded = true;
          stopTraining();
        } else startTraining();
      },
      dropImages(paths) {
        editDataset([...get().datasetEdits, { kind: 'leave-out', paths }]);
      },
      relabelImages(paths, className) {
        editDataset([...get().datasetEdits, { kind: 'relabel', paths, className }]);
      },
      restoreBestEpoch() {
        worker.send({ type: 'trained/restoreBest' });
      },
      undoDatasetEdit() {
        const edits = get().datasetEdits;
        if (edits.length > 0) editDataset(edits.slice(0, -1));
      },
      startTraining() {
        const { training } = get();
        // The previous run's charts go: what shows from now on is this run, or why it did not start.
        set({ training: { ...training, status: 'starting', run: null, steps: [], epochs: [], changes: [], runStart: { steps: 0, epochs: 0 }, message: null } });
        worker.send({ type: 'train/start', settings: training.settings, continue: false });
      },
      trainMore() {
        const { training } = get();
        // The charts stay; the new run's own records begin after them.
        set({ training: { ...training, status: 'starting', runStart: { steps: training.steps.length, epochs: training.epochs.length }, message: null } });
        worker.send({ type: 'train/start', settings: training.settings, continue: true });
      },
      discardModel() {
        worker.send({ type: 'trained/discard' });
      },
      importModel(file) {
        const { trained } = get();
        const previous = trained.model.status === 'importing' ? trained.model.previous : keptModelInfo(trained.model);
        set({ trained: { ...trained, model: { status: 'importing', fileName: file.name, previous } } });
        worker.send({ type: 'trained/import', file });
      },
      predict(files, heatMaps) {
        const model = keptModelInfo(get().trained.model);
        const { predictions } = get();
        if (!model) {
          set({ predictions: { ...predictions, message: NO_MODEL_MESSAGE } });
          return;
        }
        const images = uniqueByPath(files.filter(isPredictableImage));
        if (images.length === 0) {
          const which = files.length === 1 ? 'The file picked is not' : `None of the ${files.length} files picked is`;
          set({ predictions: { ...predictions, message: `${which} an image this page reads (${IMAGE_EXTENSIONS.join(', ')}).` } });
          return;
        }
        const requestId = nextRequestId++;
        const batch: PredictionBatch = { requestId, heatMaps, model, items: images.map(({ path, file }) => ({ status: 'running', path, image: file })) };
        set({ predictions: { batches: [batch, ...predictions.batches].slice(0, MAX_PREDICTION_BATCHES), message: null } });
        worker.send({ type: 'trained/predict', requestId, images: images.map(({ path, file }) => ({ path, image: file })), heatMaps });
      },
      predictDrop(dataTransfer, heatMaps) {
        const zip = singleZip(dataTransfer);
        if (zip) return get().actions.importModel(zip);
        // Without a model there is no point walking the dropped folders.
        if (!keptModelInfo(get().trained.model)) return get().actions.predict([], heatMaps);
        void ingest.fromDataTransfer(dataTransfer).then(
          (files) => get().actions.predict(files.flatMap(({ path, file }) => (file ? [{ path, file }] : [])), heatMaps),
          (error: unknown) => set({ predictions: { ...get().predictions, message: serializeError(error).message } }),
        );
      },
      downloadPredictions(requestId) {
        const batch = get().predictions.batches.find((b) => b.requestId === requestId);
        if (!batch) return;
        const rows = batch.items.flatMap((item) => (item.status === 'done' ? [{ path: item.path, top: item.prediction.top }] : []));
        download.save(`predictions-${requestId}.csv`, csvEncoder.encode(predictionsCsv(rows)));
      },
      exportModel(format) {
        const { trained } = get();
        set({ trained: { ...trained, exports: { ...trained.exports, [format]: { status: 'running' } } } });
        worker.send({ type: 'trained/export', format });
      },
      pauseTraining() {
        worker.send({ type: 'train/pause' });
      },
      resumeTraining() {
        worker.send({ type: 'train/resume' });
      },
      stopTraining() {
        worker.send({ type: 'train/stop' });
      },
      loadModel(source) {
        lastSource = source;
        set({ model: { status: 'loading', fraction: 0, from: source.kind === 'url' ? 'default' : 'files' } });
        worker.send({ type: 'model/load', source, backend: requestedBackend, ...(wasmThreads ? { wasmThreads } : {}) });
      },
      checkPhoto(file, normalization = DEFAULT_PREPROCESS_SPEC.normalization) {
        const requestId = nextRequestId++;
        set({ photoChecks: [{ status: 'running' as const, requestId, fileName: file.name }, ...get().photoChecks].slice(0, MAX_PHOTO_CHECKS) });
        worker.send({ type: 'photo/classify', requestId, fileName: file.name, image: file, spec: { ...DEFAULT_PREPROCESS_SPEC, normalization } });
      },
      restartWorker(backend) {
        if (backend) requestedBackend = backend;
        worker.restart();
        const { training, photoChecks, diagnostics, predictions, datasetEdits, history: runs } = get();
        // initialLabState's `trained` is none: the kept model was the old worker's. The run
        // history is the page's: it stays (a run the crash cut off is offered to resume).
        set({
          ...initialLabState(requestedBackend),
          photoChecks,
          diagnostics,
          datasetEdits,
          history: { ...runs, keepingModel: false },
          predictions: failRunningPredictions(predictions, { code: 'worker/died', message: 'The worker was restarted before it answered.' }),
          training: isUnfinished(training.status) ? { ...training, status: 'failed' } : training,
        });
        if (lastSource) get().actions.loadModel(lastSource);
        // The new worker has no dataset: the files are still here, so it gets them again.
        if (droppedFiles.length > 0) {
          store.setState({ dataset: { status: 'reading' } });
          sendDataset();
        }
      },
      refreshHistory,
      async openStoredRun(id) {
        const run = await storedRun(id);
        if (run) setHistory({ opened: run });
      },
      closeStoredRun() {
        setHistory({ opened: null });
      },
      async renameStoredRun(id, name) {
        const done = await withHistory(async (runs) => {
          await runs.renameRun(id, name);
          return true;
        });
        if (!done) return;
        const { opened, compared } = get().history;
        const renamed = <T extends { id: string; name: string }>(run: T): T => (run.id === id ? { ...run, name: name.trim() } : run);
        setHistory({ message: null, ...(opened ? { opened: renamed(opened) } : {}), compared: compared.map(renamed) });
        await refreshHistory();
      },
      async deleteStoredRun(id) {
        const done = await withHistory(async (runs) => {
          await runs.deleteRun(id);
          return true;
        });
        if (!done) return;
        const { opened, compared, currentId } = get().history;
        // This tab's saves of it stop here, without a message of their own.
        for (const [logId, storedId] of storedIds) if (storedId === id) storedIds.set(logId, null);
        setHistory({ opened: opened?.id === id ? null : opened, compared: compared.filter((run) => run.id !== id), currentId: currentId === id ? null : currentId });
        await refreshHistory();
      },
      async exportStoredRun(id) {
        const run = await storedRun(id);
        if (!run) return;
        const stem = run.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'finetune-lab';
        download.save(`${stem}-run.zip`, exportRunZip(run.log, date()));
      },
      keepModelInHistory() {
        if (!keptModelInfo(get().trained.model) || get().history.keepingModel) return;
        setHistory({ keepingModel: true, message: null });
        persistStorage?.().then(
          (persisted) => setHistory({ persisted }),
          () => setHistory({ persisted: false }),
        );
        worker.send({ type: 'trained/export', format: 'tfjs', to: 'history' });
      },
      async loadStoredModel(id) {
        const model = await withHistory((runs) => runs.getModel(id));
        if (model === null) setHistory({ message: 'That run has no kept model any more (it may have been deleted in another tab).' });
        if (!model) return;
        const part = model.bytes.buffer instanceof ArrayBuffer ? (model.bytes as Uint8Array<ArrayBuffer>) : model.bytes.slice();
        get().actions.importModel(new File([part], model.fileName, { type: 'application/zip' }));
      },
      async resumeStoredRun(id) {
        if (isUnfinished(get().training.status) || get().history.resuming) return;
        setHistory({ resuming: true });
        try {
          await resume(id);
        } finally {
          setHistory({ resuming: false });
        }
      },
      async toggleCompared(id) {
        const { compared } = get().history;
        if (compared.some((run) => run.id === id)) {
          setHistory({ compared: compared.filter((run) => run.id !== id) });
          return;
        }
        if (compared.length >= MAX_COMPARED_RUNS) {
          setHistory({ message: `At most ${MAX_COMPARED_RUNS} runs can be compared at once: take one out first.` });
          return;
        }
        const run = await storedRun(id);
        // Picked twice while it loaded: once is enough.
        if (run && !get().history.compared.some((r) => r.id === id)) setHistory({ compared: [...get().history.compared, run] });
      },
    },
  }));

  worker.subscribe((event) => {
    // An exported file's bytes go to the download and nowhere else: the state keeps its name and size.
    if (event.type === 'trained/exported') {
      if (event.file.to === 'history') keepModel(event.file);
      else download.save(event.file.fileName, event.file.bytes);
    }
    if (event.type === 'history/log') keepLog(event.logId, event.log);
    if (event.type === 'history/state') keepState(event.logId, event.state, event.log);
    store.setState((state) => applyEvent(state, event));
    if (event.type === 'dataset/scanned' || event.type === 'model/loaded') sendCheck();
    if ((event.type === 'train/finished' || event.type === 'train/failed') && restartWhenEnded) {
      restartWhenEnded = false;
      store.getState().actions.startTraining();
    }
  });
  if (history) void refreshHistory();
  else store.setState({ history: { ...INITIAL_HISTORY_STATE, status: 'unavailable' } });
  return store;
}
