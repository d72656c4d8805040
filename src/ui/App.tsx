// The page: the backend in use, then the lab's steps: your images; training as a workbench (the
// settings on one side, in view while the charts and the findings go on beside them); trying and
// exporting the kept model, the pretrained model and the photo check; the runs kept in this browser.

import { useBackend, useLabActions, useWorkerError } from '../state/hooks';
import { DatasetPanel } from './dataset/DatasetPanel';
import { DiagnosticsPanel } from './diagnostics/DiagnosticsPanel';
import { ModelPanel } from './model/ModelPanel';
import { PhotoCheckPanel } from './photo-check/PhotoCheckPanel';
import { PredictPanel } from './predict/PredictPanel';
import { TrainingPanel, TrainingResults } from './training/TrainingPanel';
import { BackendBadge } from './shell/BackendBadge';
import { OfflineStatus } from './shell/hosting';
import { RunHistoryPanel } from './history/RunHistoryPanel';

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

/** The lab's steps, as a bar of links to them. */
const STEPS = [
  ['step-images', 'Your images'],
  ['step-check', 'Check'],
  ['step-train', 'Train'],
  ['step-try', 'Try and export'],
  ['step-runs', 'Runs'],
] as const;

export function App() {
  return (
    <>
      <header className="header">
        <div>
          <h1>Finetune Lab</h1>
          <p className="muted">Fine-tune a pretrained ResNet50 on your own pictures, in this tab. Nothing leaves your machine.</p>
        </div>
        <div className="header-badges">
          <OfflineStatus />
          <BackendBadge />
        </div>
      </header>
      <nav className="steps-nav" aria-label="Steps">
        <ol>
          {STEPS.map(([id, label], i) => (
            <li key={id}>
              <a href={`#${id}`}>
                <span className="step-number">{i + 1}</span> {label}
              </a>
            </li>
          ))}
        </ol>
      </nav>
      <main className="main">
        <WorkerCrashBanner />
        <BackendLostBanner />
        <div id="step-images">
          <DatasetPanel />
        </div>
        {/* While a run trains, the settings stay in view beside the charts and the findings. */}
        <div className="workbench" id="step-train">
          <aside className="workbench-side" aria-label="Training settings">
            <TrainingPanel />
          </aside>
          <div className="workbench-main">
            <TrainingResults />
            <div id="step-check">
              <DiagnosticsPanel />
            </div>
          </div>
        </div>
        <div id="step-try" className="step-try">
          <PredictPanel />
          <ModelPanel />
          <PhotoCheckPanel />
        </div>
        <div id="step-runs">
          <RunHistoryPanel />
        </div>
      </main>
    </>
  );
}
