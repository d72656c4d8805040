// The lab's zustand store: created by a factory around a worker channel, data and actions kept
// apart, every worker event folded in by applyEvent.

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BackendName } from '../core/backends';
import { DEFAULT_PREPROCESS_SPEC, type NormalizationMode } from '../core/preprocess-spec';
import type { ModelSourceRef, WorkerCommand, WorkerEvent } from '../workers/protocol';
import { applyEvent, initialLabState, MAX_PHOTO_CHECKS, type LabState } from './lab-state';

/** What the store needs of the worker: the page's side of the channel. */
export interface WorkerPort {
  send(command: WorkerCommand): void;
  subscribe(listener: (event: WorkerEvent) => void): () => void;
  restart(): void;
}

export interface LabActions {
  /** Loads the pretrained model from the URL beside the page or from picked files. */
  loadModel(source: ModelSourceRef): void;
  /** Classifies a photo with the pretrained ImageNet head, preprocessed with `normalization`. */
  checkPhoto(file: File, normalization?: NormalizationMode): void;
  /** After a crash: a fresh worker, and the model loaded again from where it came from. */
  restartWorker(): void;
}

export type LabStore = StoreApi<LabState & { actions: LabActions }>;

export interface LabStoreOptions {
  worker: WorkerPort;
  requestedBackend: BackendName | null;
}

export function createLabStore({ worker, requestedBackend }: LabStoreOptions): LabStore {
  let nextRequestId = 1;
  let lastSource: ModelSourceRef | null = null;

  const store: LabStore = createStore<LabState & { actions: LabActions }>()((set, get) => ({
    ...initialLabState(requestedBackend),
    actions: {
      loadModel(source) {
        lastSource = source;
        set({ model: { status: 'loading', fraction: 0, from: source.kind === 'url' ? 'default' : 'files' } });
        worker.send({ type: 'model/load', source, backend: requestedBackend });
      },
      checkPhoto(file, normalization = DEFAULT_PREPROCESS_SPEC.normalization) {
        const requestId = nextRequestId++;
        set({ photoChecks: [{ status: 'running' as const, requestId, fileName: file.name }, ...get().photoChecks].slice(0, MAX_PHOTO_CHECKS) });
        worker.send({ type: 'photo/classify', requestId, fileName: file.name, image: file, spec: { ...DEFAULT_PREPROCESS_SPEC, normalization } });
      },
      restartWorker() {
        worker.restart();
        set({ ...initialLabState(requestedBackend), photoChecks: get().photoChecks });
        if (lastSource) get().actions.loadModel(lastSource);
      },
    },
  }));

  worker.subscribe((event) => store.setState((state) => applyEvent(state, event)));
  return store;
}
