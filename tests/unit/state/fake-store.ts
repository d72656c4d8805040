// A lab store around fake ports: a worker channel that records the commands sent and lets a test
// emit events, an ingestion that returns a given drop, and a download that records what it saved.

import type { RunStore } from '../../../src/history/run-store';
import { createLabStore, type DownloadPort, type IngestedFile, type IngestPort, type WorkerPort } from '../../../src/state/store';
import type { TrainedModelInfo, WorkerCommand, WorkerEvent } from '../../../src/workers/protocol';
import { trainedModel } from './fixtures';

export function fakeWorker() {
  const sent: WorkerCommand[] = [];
  const listeners = new Set<(event: WorkerEvent) => void>();
  let restarts = 0;
  const port: WorkerPort = {
    send: (command) => sent.push(command),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restart: () => void restarts++,
  };
  return {
    port,
    sent,
    emit: (event: WorkerEvent) => listeners.forEach((listener) => listener(event)),
    restarts: () => restarts,
    last: () => sent.at(-1),
  };
}

export function fakeLabStore({
  dropped = [] as IngestedFile[],
  history,
  persistStorage,
  reopenDirectory,
}: { dropped?: IngestedFile[]; history?: () => Promise<RunStore>; persistStorage?: () => Promise<boolean>; reopenDirectory?: IngestPort['reopenDirectory'] } = {}) {
  const worker = fakeWorker();
  const saved: { fileName: string; bytes: Uint8Array }[] = [];
  const download: DownloadPort = { save: (fileName, bytes) => void saved.push({ fileName, bytes }) };
  const ingest: IngestPort = {
    fromDataTransfer: () => Promise.resolve(dropped),
    fromInput: (files) => Array.from(files, (file) => ({ path: file.name, file })),
    pickDirectory: () => Promise.resolve(null),
    demo: () => Promise.resolve([]),
    ...(reopenDirectory ? { reopenDirectory } : {}),
  };
  const store = createLabStore({ worker: worker.port, ingest, download, requestedBackend: null, ...(history ? { history } : {}), ...(persistStorage ? { persistStorage } : {}), date: () => new Date('2026-12-02T12:00:00Z') });
  const actions = () => store.getState().actions;
  /** A run ended and left a model, as the worker reports it. */
  const keepModel = (overrides: Partial<TrainedModelInfo> = {}) => worker.emit({ type: 'trained/ready', model: trainedModel(overrides) });
  return { worker, store, actions, saved, keepModel };
}
