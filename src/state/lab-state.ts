// The lab's state as plain, serialisable data, and the one pure function that folds every
// worker event into it.

import type { BackendName } from '../core/backends';
import type { SerializedError } from '../core/errors';
import type { SplitName } from '../core/dataset';
import type { Evidence, Finding, Fix } from '../core/diagnostics';
import { DEFAULT_TRAINING_CONFIG } from '../core/training-config';
import type {
  BackendInfo,
  ChangeInfo,
  DatasetSample,
  DatasetScan,
  DatasetSummary,
  EpochInfo,
  ModelInfo,
  PhotoClassification,
  RunInfo,
  RunSettings,
  StepInfo,
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
export type { ChangeInfo, DatasetSample, DatasetScan, DatasetSummary, EpochInfo, RunInfo, RunSettings, StepInfo };

export interface TrainingState {
  status: 'idle' | 'starting' | 'running' | 'paused' | 'completed' | 'stopped' | 'failed';
  /** What the next run starts with; live settings also change the running one. */
  settings: RunSettings;
  run: RunInfo | null;
  steps: StepInfo[];
  epochs: EpochInfo[];
  changes: ChangeInfo[];
  /** Why the run paused on its own, or failed, or a warning worth showing. */
  message: { kind: 'error' | 'warning'; text: string } | null;
}

export const DEFAULT_RUN_SETTINGS: RunSettings = {
  config: { ...DEFAULT_TRAINING_CONFIG, epochs: 5, batchSize: 16 },
  sizePx: 224,
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

export interface LabState {
  backend: BackendState;
  model: ModelState;
  dataset: DatasetState;
  /** The latest preprocessed sample of each split. */
  samples: Partial<Record<SplitName, DatasetSample>>;
  training: TrainingState;
  /** What the diagnostics found for the current run, most likely cause first. */
  diagnostics: { stage: 'before-training' | 'during-training' | 'after-training'; findings: Finding[] } | null;
  /** Previews requested by path (the images behind a confusion-matrix cell), newest kept. */
  thumbnails: Record<string, Blob>;
  /** Newest first. */
  photoChecks: PhotoCheck[];
  /** Set when the worker crashed; cleared by a restart. */
  workerError: SerializedError | null;
}

export const MAX_PHOTO_CHECKS = 12;
export const MAX_THUMBNAILS = 200;

export function initialLabState(requestedBackend: BackendName | null = null): LabState {
  return {
    backend: { status: 'starting', requested: requestedBackend },
    model: { status: 'idle' },
    dataset: { status: 'empty' },
    samples: {},
    diagnostics: null,
    thumbnails: {},
    training: { status: 'idle', settings: DEFAULT_RUN_SETTINGS, run: null, steps: [], epochs: [], changes: [], message: null },
    photoChecks: [],
    workerError: null,
  };
}

/** A run asked for, or under way: what a crashed worker or a lost device ends as failed. */
export function isUnfinished(status: TrainingState['status']): boolean {
  return status === 'starting' || status === 'running' || status === 'paused';
}

function modelFrom(model: ModelState): 'default' | 'files' {
  return model.status === 'idle' ? 'default' : model.from;
}

function updateCheck(checks: PhotoCheck[], requestId: number, next: PhotoCheck): PhotoCheck[] {
  return checks.map((check) => (check.requestId === requestId ? next : check));
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
      return { ...state, dataset: next, samples: {}, thumbnails: {} };
    }
    case 'dataset/scanning':
      return state.dataset.status === 'scanning' ? { ...state, dataset: { ...state.dataset, done: event.done, total: event.total } } : state;
    case 'dataset/scanned':
      return state.dataset.status === 'scanning' ? { ...state, dataset: { status: 'ready', summary: state.dataset.summary, scan: event.scan } } : state;
    case 'dataset/sampled':
      return { ...state, samples: { ...state.samples, [event.sample.split]: event.sample } };
    case 'dataset/thumbnails': {
      const merged = { ...state.thumbnails, ...Object.fromEntries(event.thumbnails.map((t) => [t.path, t.image])) };
      const paths = Object.keys(merged);
      const kept = paths.length > MAX_THUMBNAILS ? Object.fromEntries(paths.slice(-MAX_THUMBNAILS).map((p) => [p, merged[p]!])) : merged;
      return { ...state, thumbnails: kept };
    }
    case 'dataset/failed':
      return { ...state, dataset: { status: 'failed', error: event.error } };
    case 'train/started':
      return { ...state, diagnostics: null, training: { ...state.training, status: 'running', run: event.run, steps: [], epochs: [], changes: [], message: null } };
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
    case 'diagnostics/updated':
      return { ...state, diagnostics: { stage: event.stage, findings: event.findings } };
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
      };
  }
}
