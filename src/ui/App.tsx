// The page: the backend in use, then the lab from top to bottom: your images, fine-tuning, the
// diagnostics, trying the kept model, the pretrained model and the photo check.

import { useBackend, useLabActions, useWorkerError } from '../state/hooks';
import { DatasetPanel } from './dataset/DatasetPanel';
import { DiagnosticsPanel } from './diagnostics/DiagnosticsPanel';
import { ModelPanel } from './model/ModelPanel';
import { PhotoCheckPanel } from './photo-check/PhotoCheckPanel';
import { PredictPanel } from './predict/PredictPanel';
import { TrainingPanel } from './training/TrainingPanel';
import { BackendBadge } from './shell/BackendBadge';

function WorkerCrashBanner() {
  const error = useWorkerError();
  const { restartWorker } = useLabActions();
  if (!error) return null;
  return (
    <div className="error banner" role="alert">
      {error.message}{' '}
      <button type="button" onClick={() => restartWorker()}>
        Start it again
      </button>
    </div>
  );
}

function BackendLostBanner() {
  const backend = useBackend();
  const { restartWorker } = useLabActions();
  if (backend.status !== 'lost') return null;
  return (
    <div className="error banner" role="alert" data-testid="backend-lost">
      {backend.error.message}{' '}
      <button type="button" onClick={() => restartWorker('wasm')} data-testid="continue-on-wasm">
        Continue on WASM
      </button>
    </div>
  );
}

export function App() {
  return (
    <>
      <header className="header">
        <div>
          <h1>Finetune Lab</h1>
          <p className="muted">Fine-tune a pretrained ResNet50 on your own pictures, in this tab. Nothing leaves your machine.</p>
        </div>
        <BackendBadge />
      </header>
      <main className="main">
        <WorkerCrashBanner />
        <BackendLostBanner />
        <DatasetPanel />
        <TrainingPanel />
        <DiagnosticsPanel />
        <PredictPanel />
        <ModelPanel />
        <PhotoCheckPanel />
      </main>
    </>
  );
}
