// Wires the page: the training worker, the store around it, and the React tree.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { isBackendName } from './core/backends';
import { LabStoreContext } from './state/hooks';
import { createLabStore } from './state/store';
import { App } from './ui/App';
import { createDemoDataset } from './data/demo-dataset';
import { filesFromDataTransfer, filesFromInput, pickDirectory } from './data/ingest';
import { createTrainingWorker } from './workers/client';
import './ui/styles.css';

const query = new URLSearchParams(location.search);
const requested = query.get('backend');
const decodeWorkers = Number(query.get('decodeWorkers')) || undefined;
const wasmThreads = Number(query.get('threads')) || undefined;
const worker = createTrainingWorker();
const store = createLabStore({
  worker,
  ingest: { fromDataTransfer: filesFromDataTransfer, fromInput: filesFromInput, pickDirectory, demo: () => createDemoDataset() },
  requestedBackend: isBackendName(requested) ? requested : null,
  decodeWorkers,
  wasmThreads,
});
store.getState().actions.loadModel({ kind: 'url', url: new URL(`${import.meta.env.BASE_URL}models/resnet50/model.json`, location.href).href });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LabStoreContext.Provider value={store}>
      <App />
    </LabStoreContext.Provider>
  </StrictMode>,
);
