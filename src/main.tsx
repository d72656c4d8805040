// Wires the page: the service worker (isolation and offline visits), the training worker, the
// store around it, and the React tree.

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
import { startServiceWorker, type HostingStatus } from './hosting/register';
import { HostingContext } from './ui/shell/hosting';
import './ui/styles.css';

const query = new URLSearchParams(location.search);
const requested = query.get('backend');
const decodeWorkers = Number(query.get('decodeWorkers')) || undefined;
const wasmThreads = Number(query.get('threads')) || undefined;
// Tests only: a small storage quota for the run history, to see what a full disk does.
const historyQuotaBytes = Number(query.get('historyQuotaBytes')) || undefined;

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

// The built page registers the service worker first, so that the training worker's requests (the
// weights) go through it; the dev server sends the headers itself and caches nothing.
const hosting: HostingStatus | 'reloading' = import.meta.env.DEV
  ? { crossOriginIsolated: globalThis.crossOriginIsolated === true, serviceWorker: 'off', reason: 'the dev server (vite) runs without the service worker' }
  : await startServiceWorker(new URL('./service-worker.js', location.href).href);
if (hosting !== 'reloading') start(hosting);

function start(hosting: HostingStatus) {
  const worker = createTrainingWorker();
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
      <HostingContext.Provider value={hosting}>
        <LabStoreContext.Provider value={store}>
          <App />
        </LabStoreContext.Provider>
      </HostingContext.Provider>
    </StrictMode>,
  );
}
