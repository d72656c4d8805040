// The model a run leaves (or an import brings), between runs: what it is, discarding it, exporting
// it as a TF.js model, as ONNX, as a PyTorch project or as its run, and importing one that was exported before.

import type { ChangeEvent } from 'react';
import { isUnfinished, type ExportFormat, type ExportState, type ImportFailure, type TrainedModelInfo } from '../../state/lab-state';
import { useExports, useKeptModel, useLabActions, useRunHistory, useTrainingStatus } from '../../state/hooks';
import { formatBytes, formatCount, formatMs } from './format';

/** Class names listed in the summary; the rest are counted. */
const LISTED_CLASSES = 8;

const EXPORT_LABELS: Record<ExportFormat, string> = {
  tfjs: 'Export TF.js model (.zip)',
  onnx: 'Export ONNX (.onnx)',
  pytorch: 'Export as a PyTorch project (.zip)',
  run: 'Export run (.zip)',
};

function classList(names: readonly string[]): string {
  const listed = names.slice(0, LISTED_CLASSES).join(', ');
  return names.length > LISTED_CLASSES ? `${listed} and ${names.length - LISTED_CLASSES} more` : listed;
}

function Summary({ info }: { info: TrainedModelInfo }) {
  const origin = info.origin === 'imported' ? `imported from ${info.fileName ?? 'a zip'}` : 'left by the last run';
  const own = info.trainedSegments.length > 0 ? `the head and ${info.trainedSegments.join(', ')}` : 'the head only';
  return (
    <p className="kept-summary" data-testid="trained-model" data-origin={info.origin} data-steps={info.steps} data-epochs={info.epochs} data-classes={info.classNames.length}>
      <strong>Kept model</strong>, {origin}: {info.classNames.length} classes ({classList(info.classNames)}); {info.steps} step{info.steps === 1 ? '' : 's'}, {info.epochs} epoch
      {info.epochs === 1 ? '' : 's'}; weights of its own: {own} (the rest is the pretrained network's); {formatCount(info.parameters)} parameters.
      {info.restoredEpoch !== null && (
        <span data-testid="restored-epoch" data-epoch={info.restoredEpoch + 1}>
          {' '}
          Its weights are those of epoch {info.restoredEpoch + 1}, the lowest validation loss
          {info.bestEpoch ? ` (${info.bestEpoch.loss.toFixed(3)})` : ''}.
        </span>
      )}
    </p>
  );
}

/** Early stopping after the fact, offered when a later epoch's weights are kept. */
function BestEpochButton({ info }: { info: TrainedModelInfo }) {
  const { restoreBestEpoch } = useLabActions();
  const best = info.bestEpoch;
  if (!best || best.epoch === info.restoredEpoch || best.epoch === info.epochs - 1) return null;
  return (
    <button type="button" onClick={restoreBestEpoch} data-testid="restore-best" title="Early stopping: keep the weights of the epoch with the lowest validation loss">
      Go back to epoch {best.epoch + 1} (lowest validation loss, {best.loss.toFixed(3)})
    </button>
  );
}

function ExportStatus({ format, state }: { format: ExportFormat; state: ExportState }) {
  if (state.status === 'idle') return null;
  const testId = `export-status-${format}`;
  if (state.status === 'running')
    return (
      <span className="muted" data-testid={testId} data-status="running">
        writing…
      </span>
    );
  if (state.status === 'failed')
    return (
      <span className="error export-error" role="alert" data-testid={testId} data-status="failed">
        {state.error.message}
      </span>
    );
  return (
    <span className="ok" data-testid={testId} data-status="done" data-size-bytes={state.sizeBytes}>
      saved {state.fileName} ({formatBytes(state.sizeBytes)}, {formatMs(state.ms)})
    </span>
  );
}

function ExportButton({ format }: { format: ExportFormat }) {
  const state = useExports()[format];
  const { exportModel } = useLabActions();
  return (
    <span className="export">
      <button type="button" onClick={() => exportModel(format)} disabled={state.status === 'running'} data-testid={`export-${format}`}>
        {EXPORT_LABELS[format]}
      </button>{' '}
      <ExportStatus format={format} state={state} />
    </span>
  );
}

function ImportFailureMessage({ failure, kept }: { failure: ImportFailure; kept: boolean }) {
  return (
    <div className="error" role="alert" data-testid="import-error">
      {failure.fileName} could not be imported{kept ? ' (the kept model stays)' : ''}: {failure.error.message}
    </div>
  );
}

function ImportModel({ disabled }: { disabled: boolean }) {
  const { importModel } = useLabActions();
  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) importModel(file);
    event.target.value = '';
  };
  return (
    <label className="link-button" aria-disabled={disabled}>
      Import a model (.zip)
      <input type="file" accept=".zip,application/zip" onChange={onChange} disabled={disabled} data-testid="import-model-input" hidden />
    </label>
  );
}

/** Keeps the model with its run in the history (IndexedDB), so that it outlives a reload. */
function KeepInHistory() {
  const history = useRunHistory();
  const { keepModelInHistory } = useLabActions();
  if (history.status !== 'ready' || history.currentId === null) return null;
  const current = history.runs.find((run) => run.id === history.currentId);
  const kept = current?.kind === 'run' ? current.model : undefined;
  return (
    <span className="export">
      <button type="button" onClick={keepModelInHistory} disabled={history.keepingModel} data-testid="keep-in-history" title="Keep this model with its run in this browser: it is still there after a reload">
        Keep with the run
      </button>{' '}
      {history.keepingModel ? (
        <span className="muted" data-testid="keep-status" data-status="running">
          keeping…
        </span>
      ) : (
        kept && (
          <span className="ok" data-testid="keep-status" data-status="done">
            kept in the run history ({formatBytes(kept.sizeBytes)})
            {history.persisted === false ? '; the browser may clear it when space runs low' : ''}
          </span>
        )
      )}
    </span>
  );
}

export function KeptModelPanel() {
  const kept = useKeptModel();
  const status = useTrainingStatus();
  const { discardModel } = useLabActions();
  // During a run the worker is training (or has discarded) the kept model: nothing to act on.
  if (isUnfinished(status)) return null;
  return (
    <div className="kept-model" data-testid="kept-model" data-status={kept.status}>
      {kept.status === 'ready' && (
        <>
          <Summary info={kept.info} />
          <div className="kept-actions">
            <ExportButton format="tfjs" />
            <ExportButton format="onnx" />
            <ExportButton format="pytorch" />
            <ExportButton format="run" />
            {kept.info.origin === 'run' && <KeepInHistory />}
            <BestEpochButton info={kept.info} />
            <button type="button" onClick={discardModel} data-testid="discard-model">
              Discard model
            </button>
          </div>
          {kept.importFailure && <ImportFailureMessage failure={kept.importFailure} kept />}
        </>
      )}
      {kept.status === 'importing' && (
        <p className="muted" data-testid="import-status">
          Importing {kept.fileName}…
        </p>
      )}
      {kept.status === 'failed' && <ImportFailureMessage failure={kept.importFailure} kept={false} />}
      <ImportModel disabled={kept.status === 'importing'} />
    </div>
  );
}
