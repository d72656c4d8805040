// Wires the page: the training worker, the store around it, and the React tree.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { isBackendName } from './core/backends';
import { LabStoreContext } from './state/hooks';
import { createLabStore, type DownloadPort } from './state/store';
import { App } from './ui/App';
import { saveBlob } from './ui/save-blob';
import { createDemoDataset } from './data/demo-dataset';
import { filesFromDataTransfer, filesFromInput, pickDirectory, reopenDirectory } from './data/ingest';
import { createTrainingWorker } from './workers/client';
import { openRunStore } from './history/run-store';
import './ui/styles.css';

const query = new URLSearchParams(location.search);
const requested = query.get('backend');
const decodeWorkers = Number(query.get('decodeWorkers')) || undefined;
const wasmThreads = Number(query.get('threads')) || undefined;
// Tests only: a small storage quota for the run history, to see what a full disk does.
const historyQuotaBytes = Number(query.get('historyQuotaBytes')) || undefined;
const worker = createTrainingWorker();

const DOWNLOAD_TYPES: Record<string, string> = { zip: 'application/zip', csv: 'text/csv' };

/** Hands a file to the browser's downloads: a Blob, its object URL, and a click on a temporary <a download>. */
const download: DownloadPort = {
  save(fileName, bytes) {
    const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
    // Bytes from the worker arrive in a plain ArrayBuffer; only a shared one (which a Blob refuses) is copied.
    const part = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
    saveBlob(fileName, new Blob([part], { type: DOWNLOAD_TYPES[extension] ?? 'application/octet-stream' }));
  },
};

const store = createLabStore({
  worker,
  ingest: { fromDataTransfer: filesFromDataTransfer, fromInput: filesFromInput, pickDirectory, reopenDirectory, demo: () => createDemoDataset() },
  download,
  requestedBackend: isBackendName(requested) ? requested : null,
  decodeWorkers,
  wasmThreads,
  history: () => openRunStore(historyQuotaBytes ? { quotaBytes: historyQuotaBytes } : {}),
  persistStorage: () => navigator.storage?.persist?.() ?? Promise.resolve(false),
});
store.getState().actions.loadModel({ kind: 'url', url: new URL(`${import.meta.env.BASE_URL}models/resnet50/model.json`, location.href).href });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LabStoreContext.Provider value={store}>
      <App />
    </LabStoreContext.Provider>
  </StrictMode>,
);
