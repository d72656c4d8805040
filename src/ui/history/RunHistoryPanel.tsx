// The runs kept in this browser (IndexedDB): each saved as it trains, listed newest first with its
// dataset, key settings and best validation figures; opened as it was, renamed, exported, deleted,
// or picked to compare with others. Also what the storage holds, and what could not be saved.

import { useState, type FormEvent } from 'react';
import type { StorageEstimate, StoredRunListing, StoredRunSummary } from '../../history/run-store';
import { MAX_COMPARED_RUNS } from '../../history/compare';
import { isUnfinished } from '../../state/lab-state';
import { useDataset, useLabActions, useModelStatus, useRunHistory, useTrainingStatus, useWorkerError } from '../../state/hooks';
import { resumeMismatch } from '../../state/stored-run';
import { CompareRuns } from './CompareRuns';
import { StoredRunView } from './StoredRunView';
import './run-history.css';

function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return mb >= 100 ? `${Math.round(mb).toLocaleString('en')} MB` : mb >= 0.1 ? `${mb.toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

export function storageLine(storage: StorageEstimate | null): string {
  if (!storage || storage.usedBytes === null) return 'The browser does not say how much of its storage this page uses.';
  const free = storage.availableBytes === null ? '' : `, ${megabytes(storage.availableBytes)} free`;
  return `This page's storage: ${megabytes(storage.usedBytes)} used${free}.`;
}

const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);

function statusText(run: StoredRunSummary, current: boolean): string {
  switch (run.summary.status) {
    case 'running':
      return current ? 'training now' : 'did not end (the tab was closed or crashed), or trains in another tab';
    case 'completed':
      return 'completed';
    case 'stopped':
      return 'stopped';
    case 'failed':
      return 'failed';
    case null:
      return 'not started';
  }
}

function settingsText(run: StoredRunSummary): string {
  const s = run.summary.settings;
  if (!s) return '';
  const depth = s.freezeDepth === 0 ? 'head only' : `${s.freezeDepth} block${s.freezeDepth === 1 ? '' : 's'} trained`;
  return `${s.sizePx} px · ${depth} · learning rate ${s.learningRate} · ${s.epochs} epochs · batch ${s.batchSize} · class weights ${s.classWeighting} · ${s.optimizer}`;
}

function RunName({ run }: { run: StoredRunSummary }) {
  const { renameStoredRun } = useLabActions();
  const [draft, setDraft] = useState<string | null>(null);
  if (draft === null) {
    return (
      <span className="run-name">
        <strong data-testid="run-name">{run.name}</strong>{' '}
        <button type="button" className="link-button" onClick={() => setDraft(run.name)} data-testid="rename-run" aria-label={`Rename ${run.name}`}>
          Rename
        </button>
      </span>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void renameStoredRun(run.id, draft).then(() => setDraft(null));
  };
  return (
    <form className="run-name" onSubmit={submit}>
      <label>
        <span className="visually-hidden">New name for {run.name}</span>
        <input value={draft} onChange={(event) => setDraft(event.target.value)} maxLength={120} data-testid="run-name-input" autoFocus />
      </label>{' '}
      <button type="submit" className="button" data-testid="run-name-save">
        Save
      </button>{' '}
      <button type="button" className="link-button" onClick={() => setDraft(null)}>
        Cancel
      </button>
    </form>
  );
}

/** A run that did not end, with a state saved at an epoch's end: it goes on from there on the same folder. */
function ResumeRun({ run }: { run: StoredRunSummary }) {
  const { resumeStoredRun } = useLabActions();
  const dataset = useDataset();
  const status = useTrainingStatus();
  const model = useModelStatus();
  const workerError = useWorkerError();
  const { resuming } = useRunHistory();
  const resumable = run.resumable!;
  // A folder picked with the folder picker is read again by the click itself.
  const mismatch = run.folder ? null : resumeMismatch(run.summary, dataset.status === 'ready' ? dataset.summary : null);
  const reopens = run.folder !== undefined && resumeMismatch(run.summary, dataset.status === 'ready' ? dataset.summary : null) !== null;
  const busy = isUnfinished(status) || resuming;
  // The pretrained network rebuilds the model; after a crash, the worker is started again first.
  const notReady = workerError ? 'Start the worker again first (above).' : model.status !== 'ready' ? 'The pretrained model is still loading.' : null;
  return (
    <div className="resume-run" data-testid="resume" data-epoch={resumable.epoch}>
      <button type="button" className="button" onClick={() => void resumeStoredRun(run.id)} disabled={mismatch !== null || busy || notReady !== null} data-testid="resume-run">
        Resume after epoch {resumable.epoch}
      </button>{' '}
      <span className="muted" data-testid="resume-hint">
        {resuming
          ? 'Resuming…'
          : busy
            ? 'Stop the run in progress first.'
            : (notReady ??
              mismatch ??
              `${reopens ? `It reads ${run.summary.datasetName ?? 'its folder'} again (the browser may ask you to allow it), then goes` : 'It goes'} on to the end it planned, as if it had not stopped.`)}
      </span>
    </div>
  );
}

function RunItem({ run, current, compared, canCompareMore }: { run: StoredRunListing; current: boolean; compared: boolean; canCompareMore: boolean }) {
  const { openStoredRun, exportStoredRun, deleteStoredRun, toggleCompared, loadStoredModel } = useLabActions();
  const trainingStatus = useTrainingStatus();
  const remove = (
    <button type="button" className="link-button" onClick={() => void deleteStoredRun(run.id)} data-testid="delete-run">
      Delete
    </button>
  );
  if (run.kind === 'unreadable') {
    return (
      <li className="run-item" data-testid="run-item" data-run-id={run.id} data-unreadable="true">
        <strong>{run.name ?? 'A run'}</strong>: <span className="muted">{run.unreadable}</span> {remove}
      </li>
    );
  }
  const { summary } = run;
  const images = summary.imageCounts.train + summary.imageCounts.validation + summary.imageCounts.test;
  // Cut off: in another session (a reload), or in this tab by a crashed worker. (A lost GPU
  // ends the run as failed: it has no state to resume.)
  const cutOff = summary.status === 'running' && (!current || trainingStatus === 'failed');
  return (
    <li
      className="run-item"
      data-testid="run-item"
      data-run-id={run.id}
      data-status={summary.status ?? 'none'}
      data-current={current || undefined}
      data-epochs={summary.epochsDone}
      data-model={run.model ? 'kept' : undefined}
      data-resumable={run.resumable?.epoch}
    >
      <div className="run-item-head">
        <RunName run={run} />
        <span className="muted">{new Date(run.createdAt).toLocaleString()}</span>
      </div>
      <div className="muted">
        {summary.datasetName ?? 'a dataset'}: {summary.classNames.length} classes, {images} images · {settingsText(run)}
      </div>
      <div>
        {summary.epochsDone} epoch{summary.epochsDone === 1 ? '' : 's'}, {statusText(run, current)} · best validation accuracy{' '}
        <span data-testid="run-best-accuracy">{percent(summary.bestValidationAccuracy)}</span>, macro-F1 {percent(summary.bestValidationMacroF1)}
      </div>
      {run.resumable && cutOff && <ResumeRun run={run} />}
      <div className="run-actions">
        <button type="button" className="link-button" onClick={() => void openStoredRun(run.id)} data-testid="open-run">
          Open
        </button>
        <label title={compared || canCompareMore ? undefined : `At most ${MAX_COMPARED_RUNS} runs at once`}>
          <input type="checkbox" checked={compared} disabled={!compared && !canCompareMore} onChange={() => void toggleCompared(run.id)} data-testid="compare-run" /> Compare
        </label>
        <button type="button" className="link-button" onClick={() => void exportStoredRun(run.id)} data-testid="export-stored-run">
          Export run.json
        </button>
        {run.model && (
          <button
            type="button"
            className="link-button"
            onClick={() => void loadStoredModel(run.id)}
            data-testid="load-stored-model"
            title={`Its trained model (${megabytes(run.model.sizeBytes)}), kept ${new Date(run.model.savedAt).toLocaleString()}: to predict with or train more`}
          >
            Load its model ({megabytes(run.model.sizeBytes)})
          </button>
        )}
        {remove}
      </div>
    </li>
  );
}

export function RunHistoryPanel() {
  const history = useRunHistory();
  const { toggleCompared } = useLabActions();
  const comparedIds = new Set(history.compared.map((run) => run.id));
  return (
    <section className="card" aria-labelledby="history-heading" data-testid="run-history" data-status={history.status} data-count={history.runs.length}>
      <h2 id="history-heading">
        <span className="step-number">5</span> Runs
      </h2>
      {history.status === 'unavailable' ? (
        <p className="muted" data-testid="history-message">
          {history.message ?? 'Runs are not kept on this page.'}
        </p>
      ) : (
        <>
          <p className="muted">
            Every run is saved in this browser as it trains (after each epoch), so a reload or a crash keeps it. Nothing leaves your machine.{' '}
            <span data-testid="storage-estimate" data-used-bytes={history.storage?.usedBytes ?? undefined}>
              {storageLine(history.storage)}
            </span>
            {history.lastSave && (
              <span data-testid="last-save" data-ms={Math.round(history.lastSave.ms)}>
                {' '}
                This run last saved at {new Date(history.lastSave.at).toLocaleTimeString()} ({Math.round(history.lastSave.ms)} ms).
              </span>
            )}
          </p>
          {history.message && (
            <p className="error" role="alert" data-testid="history-message">
              {history.message}
            </p>
          )}
          {history.runs.length === 0 ? (
            <p className="muted">{history.status === 'loading' ? 'Reading the saved runs…' : 'No runs yet: the first one is saved when it starts.'}</p>
          ) : (
            <ul className="run-list">
              {history.runs.map((run) => (
                <RunItem key={run.id} run={run} current={run.id === history.currentId} compared={comparedIds.has(run.id)} canCompareMore={history.compared.length < MAX_COMPARED_RUNS} />
              ))}
            </ul>
          )}
        </>
      )}
      {history.opened && <StoredRunView run={history.opened} />}
      {history.compared.length > 0 && <CompareRuns runs={history.compared} onRemove={(id) => void toggleCompared(id)} />}
    </section>
  );
}
