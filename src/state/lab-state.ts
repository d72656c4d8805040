// The lab's state as plain, serialisable data, and the one pure function that folds every
// worker event into it.

import type { BackendName } from '../core/backends';
import type { SerializedError } from '../core/errors';
import type { SplitName } from '../core/dataset';
import type { Evidence, Finding, Fix } from '../core/diagnostics';
import { DEFAULT_TRAINING_CONFIG } from '../core/training-config';
import type { RunLog } from '../core/run-report';
import type { StorageEstimate, StoredRunListing } from '../history/run-store';
import type {
  BackendInfo,
  ChangeRecord,
  DatasetSample,
  DatasetScan,
  DatasetSummary,
  EpochRecord,
  ExportFormat,
  HeatMap,
  ImagePrediction,
  ModelInfo,
  PhotoClassification,
  RunInfo,
  RunSettings,
  StepRecord,
  TrainedModelInfo,
  WorkerEvent,
} from '../workers/protocol';

export type BackendState =
  | { status: 'starting'; requested: BackendName | null }
  | { status: 'ready'; requested: BackendName | null; info: BackendInfo }
  | { status: 'failed'; requested: BackendName | null; error: SerializedError }
  /** The GPU device went away after the backend started. */
  | { status: 'lost'; requested: BackendName | null; error: SerializedError };

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; fraction: number; from: 'default' | 'files' }
  | { status: 'ready'; info: ModelInfo; from: 'default' | 'files' }
  | { status: 'failed'; error: SerializedError; from: 'default' | 'files' };

export type PhotoCheck =
  | { status: 'running'; requestId: number; fileName: string }
  | { status: 'done'; requestId: number; fileName: string; result: PhotoClassification }
  | { status: 'failed'; requestId: number; fileName: string; error: SerializedError };

export type { Evidence, Finding, Fix };
export type { ChangeRecord, DatasetSample, DatasetScan, DatasetSummary, EpochRecord, ExportFormat, HeatMap, ImagePrediction, RunInfo, RunSettings, StepRecord, TrainedModelInfo };

export interface TrainingState {
  status: 'idle' | 'starting' | 'running' | 'paused' | 'completed' | 'stopped' | 'failed';
  /** What the next run starts with; live settings also change the running one. */
  settings: RunSettings;
  run: RunInfo | null;
  /** Every record on the charts: a "train more" run keeps its model's earlier ones. */
  steps: StepRecord[];
  epochs: EpochRecord[];
  changes: ChangeRecord[];
  /** How many of `steps` and `epochs` came before this run (0 unless it trains more): where its own begin. */
  runStart: { steps: number; epochs: number };
  /** Why the run paused on its own, or failed, or a warning worth showing. */
  message: { kind: 'error' | 'warning'; text: string } | null;
}

export const DEFAULT_RUN_SETTINGS: RunSettings = {
  config: { ...DEFAULT_TRAINING_CONFIG, epochs: 5, batchSize: 16 },
  sizePx: 224,
  resize: 'stretch',
  augment: false,
  normalization: 'caffe',
  validationNormalization: null,
};

export type DatasetState =
  | { status: 'empty' }
  /** The page is walking the dropped folders. */
  | { status: 'reading' }
  | { status: 'scanning'; summary: DatasetSummary; done: number; total: number }
  | { status: 'ready'; summary: DatasetSummary; scan: DatasetScan | null }
  | { status: 'failed'; error: SerializedError };

/** Why an import of a model zip failed. */
export interface ImportFailure {
  fileName: string;
  error: SerializedError;
}

/**
 * The model a run left or an import brought, kept by the worker until discarded. An import that
 * fails leaves the model that was there: `ready` then carries the failure to show beside it.
 */
export type KeptModel =
  | { status: 'none' }
  /** `previous`: the model the worker keeps until the import succeeds. */
  | { status: 'importing'; fileName: string; previous: TrainedModelInfo | null }
  | { status: 'ready'; info: TrainedModelInfo; importFailure: ImportFailure | null }
  /** An import failed and there was no model before it. */
  | { status: 'failed'; importFailure: ImportFailure };

/** One export of the kept model. The file's bytes went to the download, never into the state. */
export type ExportState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; fileName: string; sizeBytes: number; ms: number }
  | { status: 'failed'; error: SerializedError };

export interface TrainedState {
  /** The kept model, an import under way, or why an import failed. */
  model: KeptModel;
  /** Per format, for the kept model (a new one starts them over). */
  exports: Record<ExportFormat, ExportState>;
}

/** One image of a "Try it" batch; `image` is the picked file itself, for its thumbnail. */
export type PredictionItem =
  | { status: 'running'; path: string; image: Blob }
  | { status: 'done'; path: string; image: Blob; prediction: ImagePrediction }
  | { status: 'failed'; path: string; image: Blob; error: SerializedError };

/** The images of one predict call, in the order they were sent. */
export interface PredictionBatch {
  /** The `trained/predict` command's: its answers carry it. */
  requestId: number;
  /** Whether heat maps were asked for. */
  heatMaps: boolean;
  /** The model that answers: the kept one when the batch was sent. */
  model: TrainedModelInfo;
  /** One per image sent, unique by path. */
  items: PredictionItem[];
}

export interface PredictionsState {
  /** Newest first, at most MAX_PREDICTION_BATCHES. */
  batches: PredictionBatch[];
  /** Why the last pick or drop sent nothing (no images in it, a folder that could not be read). */
  message: string | null;
}

/** A stored run opened from the history, shown as it was. */
export interface OpenedRun {
  id: string;
  name: string;
  log: RunLog;
}

/** The run history kept in IndexedDB (src/history/run-store.ts), as the page shows it. */
export interface HistoryState {
  /** 'unavailable': no IndexedDB here, or it would not open; `message` says why. */
  status: 'loading' | 'ready' | 'unavailable';
  /** Newest first. */
  runs: StoredRunListing[];
  /** The stored run this tab's current model is saved as, once its first save went through. */
  currentId: string | null;
  /** What was not saved, or could not be done, until the next save goes through. */
  message: string | null;
  storage: StorageEstimate | null;
  /** A run opened from the list (its charts and findings as they were). */
  opened: OpenedRun | null;
  /** Runs picked to compare, in the order picked (at most MAX_COMPARED_RUNS), with their logs. */
  compared: OpenedRun[];
  /** The kept model is being written into its run's record. */
  keepingModel: boolean;
  /** This tab's last write of its run (ISO 8601, and how long the write took). */
  lastSave: { at: string; ms: number } | null;
  /** A stored run is being resumed (its records read, its folder reopened): one at a time. */
  resuming: boolean;
  /** Whether the browser keeps this page's storage until the user clears it (asked when a model is kept); null before asking. */
  persisted: boolean | null;
}

export const INITIAL_HISTORY_STATE: HistoryState = {
  status: 'loading',
  runs: [],
  currentId: null,
  message: null,
  storage: null,
  opened: null,
  compared: [],
  keepingModel: false,
  persisted: null,
  lastSave: null,
  resuming: false,
};

export interface LabState {
  backend: BackendState;
  model: ModelState;
  dataset: DatasetState;
  /** The latest preprocessed sample of each split. */
  samples: Partial<Record<SplitName, DatasetSample>>;
  /** A sample request that failed, per split, while it is the newest answer for its split. */
  sampleFailures: Partial<Record<SplitName, { requestId: number; error: SerializedError }>>;
  training: TrainingState;
  /** What the diagnostics found for the current run, most likely cause first. */
  diagnostics: { stage: 'before-training' | 'during-training' | 'after-training'; sequence: number; findings: Finding[] } | null;
  /** Previews requested by path (the images behind a confusion-matrix cell), newest kept. */
  thumbnails: Record<string, Blob>;
  /** Why the latest preview request failed as a whole, until a newer one answers. */
  thumbnailFailure: { requestId: number; error: SerializedError } | null;
  /** Newest first. */
  photoChecks: PhotoCheck[];
  /** The model a run left (or an import brought), and its exports. */
  trained: TrainedState;
  /** "Try it": the kept model's predictions on new images. */
  predictions: PredictionsState;
  /** Set when the worker crashed; cleared by a restart. */
  workerError: SerializedError | null;
  /** The user's changes to the open dataset, one per click, newest last (what undo takes back). */
  datasetEdits: DatasetEdit[];
  /** Runs kept across reloads. */
  history: HistoryState;
}

/** Images left out of the open dataset, or filed under another of its classes; the files on disk never change. */
export type DatasetEdit = { kind: 'leave-out'; paths: string[] } | { kind: 'relabel'; paths: string[]; className: string };

export const MAX_PHOTO_CHECKS = 12;
export const MAX_THUMBNAILS = 200;
/** Predict calls kept; older ones (and their images) are let go. */
export const MAX_PREDICTION_BATCHES = 5;

export const INITIAL_TRAINED_STATE: TrainedState = { model: { status: 'none' }, exports: { tfjs: { status: 'idle' }, onnx: { status: 'idle' }, pytorch: { status: 'idle' }, run: { status: 'idle' } } };

export function initialLabState(requestedBackend: BackendName | null = null): LabState {
  return {
    backend: { status: 'starting', requested: requestedBackend },
    model: { status: 'idle' },
    dataset: { status: 'empty' },
    samples: {},
    sampleFailures: {},
    diagnostics: null,
    thumbnailFailure: null,
    datasetEdits: [],
    thumbnails: {},
    training: { status: 'idle', settings: DEFAULT_RUN_SETTINGS, run: null, steps: [], epochs: [], changes: [], runStart: { steps: 0, epochs: 0 }, message: null },
    photoChecks: [],
    trained: INITIAL_TRAINED_STATE,
    predictions: { batches: [], message: null },
    workerError: null,
    history: INITIAL_HISTORY_STATE,
  };
}

/** A run asked for, or under way: what a crashed worker or a lost device ends as failed. */
export function isUnfinished(status: TrainingState['status']): boolean {
  return status === 'starting' || status === 'running' || status === 'paused';
}

function modelFrom(model: ModelState): 'default' | 'files' {
  return model.status === 'idle' ? 'default' : model.from;
}

/** The kept model's summary, when one is there to use (not while an import replaces it). */
export function keptModelInfo(model: KeptModel): TrainedModelInfo | null {
  return model.status === 'ready' ? model.info : null;
}

/** After a crash or a lost device the worker has no kept model: an import under way failed with it. */
function trainedLost(trained: TrainedState, error: SerializedError): TrainedState {
  const { model } = trained;
  return model.status === 'importing' ? { ...INITIAL_TRAINED_STATE, model: { status: 'failed', importFailure: { fileName: model.fileName, error } } } : INITIAL_TRAINED_STATE;
}

function updateItem(predictions: PredictionsState, requestId: number, path: string, update: (item: PredictionItem) => PredictionItem): PredictionsState {
  const batch = predictions.batches.find((b) => b.requestId === requestId);
  // A batch let go (MAX_PREDICTION_BATCHES) may still be answered: nothing to update.
  if (!batch) return predictions;
  const items = batch.items.map((item) => (item.path === path && item.status === 'running' ? update(item) : item));
  return { ...predictions, batches: predictions.batches.map((b) => (b === batch ? { ...batch, items } : b)) };
}

/** Images still waiting for an answer that will not come (the worker or its device is gone). */
export function failRunningPredictions(predictions: PredictionsState, error: SerializedError): PredictionsState {
  if (!predictions.batches.some((b) => b.items.some((item) => item.status === 'running'))) return predictions;
  return {
    ...predictions,
    batches: predictions.batches.map((batch) => ({
      ...batch,
      items: batch.items.map((item): PredictionItem => (item.status === 'running' ? { status: 'failed', path: item.path, image: item.image, error } : item)),
    })),
  };
}

function updateCheck(checks: PhotoCheck[], requestId: number, next: PhotoCheck): PhotoCheck[] {
  return checks.map((check) => (check.requestId === requestId ? next : check));
}

/** Whether an answer to sample request `requestId` is newer than what the state holds for `split`. */
function newestSampleAnswer(state: LabState, split: SplitName, requestId: number): boolean {
  const held = Math.max(state.samples[split]?.requestId ?? -Infinity, state.sampleFailures[split]?.requestId ?? -Infinity);
  return requestId > held;
}

/** Folds one event from the worker into the state. Pure: returns a new state, never mutates. */
export function applyEvent(state: LabState, event: WorkerEvent): LabState {
  switch (event.type) {
    case 'backend/ready':
      return { ...state, backend: { status: 'ready', requested: state.backend.requested, info: event.backend } };
    case 'backend/failed':
      return {
        ...state,
        backend: { status: 'failed', requested: state.backend.requested, error: event.error },
        model: { status: 'failed', error: event.error, from: modelFrom(state.model) },
      };
    case 'backend/lost': {
      const { training } = state;
      const message = { kind: 'error' as const, text: event.error.message };
      return {
        ...state,
        backend: { status: 'lost', requested: state.backend.requested, error: event.error },
        model: { status: 'failed', error: event.error, from: modelFrom(state.model) },
        training: isUnfinished(training.status) ? { ...training, status: 'failed', message } : training,
        photoChecks: state.photoChecks.map((check) =>
          check.status === 'running' ? { status: 'failed', requestId: check.requestId, fileName: check.fileName, error: event.error } : check,
        ),
        // The kept model's weights were on the lost device too.
        trained: trainedLost(state.trained, event.error),
        predictions: failRunningPredictions(state.predictions, event.error),
      };
    }
    case 'model/loading':
      if (state.backend.status === 'lost') return state; // the model is gone, whatever a load under way says
      return { ...state, model: { status: 'loading', fraction: event.fraction, from: modelFrom(state.model) } };
    case 'model/loaded':
      if (state.backend.status === 'lost') return state;
      return { ...state, model: { status: 'ready', info: event.model, from: modelFrom(state.model) } };
    case 'model/failed':
      if (state.backend.status === 'lost') return state;
      return { ...state, model: { status: 'failed', error: event.error, from: modelFrom(state.model) } };
    case 'photo/classified': {
      const { requestId, fileName } = event.result;
      return { ...state, photoChecks: updateCheck(state.photoChecks, requestId, { status: 'done', requestId, fileName, result: event.result }) };
    }
    case 'photo/failed':
      return {
        ...state,
        photoChecks: updateCheck(state.photoChecks, event.requestId, { status: 'failed', requestId: event.requestId, fileName: event.fileName, error: event.error }),
      };
    case 'dataset/indexed': {
      const { dataset } = event;
      const next: DatasetState =
        dataset.imageCount > 0 ? { status: 'scanning', summary: dataset, done: 0, total: dataset.imageCount } : { status: 'ready', summary: dataset, scan: null };
      // The findings were about the dataset that was open: they go with it, and rerun with the next run.
      return { ...state, dataset: next, samples: {}, sampleFailures: {}, thumbnails: {}, thumbnailFailure: null, diagnostics: null };
    }
    case 'dataset/scanning':
      return state.dataset.status === 'scanning' ? { ...state, dataset: { ...state.dataset, done: event.done, total: event.total } } : state;
    case 'dataset/scanned':
      return state.dataset.status === 'scanning' ? { ...state, dataset: { status: 'ready', summary: state.dataset.summary, scan: event.scan } } : state;
    case 'dataset/sampled':
      return newestSampleAnswer(state, event.sample.split, event.sample.requestId)
        ? { ...state, samples: { ...state.samples, [event.sample.split]: event.sample }, sampleFailures: { ...state.sampleFailures, [event.sample.split]: undefined } }
        : state;
    case 'dataset/sampleFailed':
      return newestSampleAnswer(state, event.split, event.requestId)
        ? { ...state, sampleFailures: { ...state.sampleFailures, [event.split]: { requestId: event.requestId, error: event.error } } }
        : state;
    case 'dataset/thumbnailsFailed':
      return state.thumbnailFailure && state.thumbnailFailure.requestId > event.requestId ? state : { ...state, thumbnailFailure: { requestId: event.requestId, error: event.error } };
    case 'dataset/thumbnails': {
      const merged = { ...state.thumbnails, ...Object.fromEntries(event.thumbnails.map((t) => [t.path, t.image])) };
      const paths = Object.keys(merged);
      const kept = paths.length > MAX_THUMBNAILS ? Object.fromEntries(paths.slice(-MAX_THUMBNAILS).map((p) => [p, merged[p]!])) : merged;
      const failure = state.thumbnailFailure && state.thumbnailFailure.requestId > event.requestId ? state.thumbnailFailure : null;
      return { ...state, thumbnails: kept, thumbnailFailure: failure };
    }
    case 'dataset/failed':
      return { ...state, dataset: { status: 'failed', error: event.error } };
    case 'train/started': {
      const { training } = state;
      // "Train more" continues the kept model's numbering: its earlier records stay on the charts.
      const kept = event.run.continued
        ? { steps: training.steps, epochs: training.epochs, changes: training.changes, runStart: { steps: training.steps.length, epochs: training.epochs.length } }
        : { steps: [], epochs: [], changes: [], runStart: { steps: 0, epochs: 0 } };
      return { ...state, diagnostics: null, training: { ...training, status: 'running', run: event.run, ...kept, message: null } };
    }
    case 'train/stepEnded':
      return { ...state, training: { ...state.training, steps: [...state.training.steps, event.step] } };
    case 'train/epochEnded':
      return { ...state, training: { ...state.training, epochs: [...state.training.epochs, event.epoch] } };
    case 'train/changeApplied':
      return { ...state, training: { ...state.training, changes: [...state.training.changes, event.change] } };
    case 'train/paused':
      if (state.training.status !== 'running' && state.training.status !== 'starting') return state;
      return {
        ...state,
        training: { ...state.training, status: 'paused', message: event.message ? { kind: 'error', text: event.message } : state.training.message },
      };
    case 'train/resumed':
      if (state.training.status !== 'paused') return state;
      return { ...state, training: { ...state.training, status: 'running', message: null } };
    case 'train/finished':
      // A run the page already marked failed (its GPU was lost) stays failed.
      if (state.training.status === 'failed') return state;
      return { ...state, training: { ...state.training, status: event.status } };
    case 'train/failed':
      return { ...state, training: { ...state.training, status: 'failed', message: { kind: 'error', text: event.error.message } } };
    case 'trained/ready':
      // A new model (or more training of this one): earlier exports are of another model.
      return { ...state, trained: { model: { status: 'ready', info: event.model, importFailure: null }, exports: INITIAL_TRAINED_STATE.exports } };
    case 'trained/discarded':
      return { ...state, trained: INITIAL_TRAINED_STATE };
    case 'trained/importFailed': {
      const importFailure = { fileName: event.fileName, error: event.error };
      const { model } = state.trained;
      const previous = model.status === 'importing' ? model.previous : model.status === 'ready' ? model.info : null;
      const next: KeptModel = previous ? { status: 'ready', info: previous, importFailure } : { status: 'failed', importFailure };
      return { ...state, trained: { ...state.trained, model: next } };
    }
    case 'trained/predicted': {
      const { prediction } = event;
      return {
        ...state,
        predictions: updateItem(state.predictions, prediction.requestId, prediction.path, (item) => ({ status: 'done', path: item.path, image: item.image, prediction })),
      };
    }
    case 'trained/predictFailed':
      return {
        ...state,
        predictions: updateItem(state.predictions, event.requestId, event.path, (item) => ({ status: 'failed', path: item.path, image: item.image, error: event.error })),
      };
    case 'trained/exported': {
      // For the run history: the store writes it there and says when it is done.
      if (event.file.to === 'history') return state;
      // The bytes are the download's (the store hands them over); the state keeps what the page shows.
      const { format, fileName, bytes, ms } = event.file;
      return { ...state, trained: { ...state.trained, exports: { ...state.trained.exports, [format]: { status: 'done', fileName, sizeBytes: bytes.byteLength, ms } } } };
    }
    case 'trained/exportFailed':
      if (event.to === 'history') return { ...state, history: { ...state.history, keepingModel: false, message: `The model was not kept: ${event.error.message}` } };
      return { ...state, trained: { ...state.trained, exports: { ...state.trained.exports, [event.format]: { status: 'failed', error: event.error } } } };
    case 'history/log':
    case 'history/state':
      // The store saves them (IndexedDB writes, not changes of state); the list follows the save.
      return state;
    case 'diagnostics/updated':
      if (state.diagnostics && state.diagnostics.sequence > event.sequence) return state;
      return { ...state, diagnostics: { stage: event.stage, sequence: event.sequence, findings: event.findings } };
    case 'train/warning':
      // A warning never hides an error (why the run paused or failed).
      if (state.training.message?.kind === 'error') return state;
      return { ...state, training: { ...state.training, message: { kind: 'warning', text: event.message } } };
    case 'worker/died':
      return {
        ...state,
        workerError: event.error,
        training: isUnfinished(state.training.status) ? { ...state.training, status: 'failed', message: { kind: 'error', text: event.error.message } } : state.training,
        photoChecks: state.photoChecks.map((check) =>
          check.status === 'running' ? { status: 'failed', requestId: check.requestId, fileName: check.fileName, error: event.error } : check,
        ),
        trained: trainedLost(state.trained, event.error),
        predictions: failRunningPredictions(state.predictions, event.error),
      };
  }
}
