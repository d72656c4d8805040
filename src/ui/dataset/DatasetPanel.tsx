// The dataset at a glance: where to drop a folder, classes with counts per split and thumbnails,
// image sizes and channels, the per-file report, and what the network will be fed.

import { useMemo, useRef, useState, type DragEvent } from 'react';
import { SPLIT_NAMES, type IngestIssue } from '../../core/dataset';
import { useDataset, useDatasetEdits, useKeptModel, useLabActions, useSampleFailures, useSamples } from '../../state/hooks';
import type { DatasetEdit, DatasetScan, DatasetSummary } from '../../state/lab-state';
import { useObjectUrls } from './useObjectUrls';

const SPLIT_LABELS = { train: 'train', validation: 'validation', test: 'test' } as const;

function DropZone() {
  const { openDrop, openInput, pickFolder, openDemo } = useLabActions();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const canPick = typeof window !== 'undefined' && 'showDirectoryPicker' in window;
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    openDrop(event.dataTransfer);
  };
  return (
    <div
      className={`dropzone dataset-drop${over ? ' dropzone-over' : ''}`}
      data-testid="dataset-dropzone"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div>
        <strong>Drop a folder of labelled images here</strong>
        <div className="muted">One subfolder per class (or train/ and val/ folders holding them). Nothing is uploaded. A model .zip exported from here is imported.</div>
      </div>
      <div className="dropzone-actions">
        <button type="button" className="button" onClick={() => input.current?.click()}>
          Choose folder…
        </button>
        {canPick && (
          <button type="button" className="link-button" onClick={() => void pickFolder()} data-testid="pick-folder">
            or open with the folder picker
          </button>
        )}
        <button type="button" className="link-button" onClick={openDemo} data-testid="demo-button" title="64 generated pictures of shapes, 40 / 16 / 8 per class">
          or try a demo
        </button>
      </div>
      <input
        ref={input}
        type="file"
        hidden
        multiple
        data-testid="dataset-input"
        // React does not know these attributes; browsers need them to pick a folder.
        {...{ webkitdirectory: '', directory: '' }}
        onChange={(event) => {
          if (event.target.files?.length) openInput(event.target.files);
          event.target.value = '';
        }}
      />
    </div>
  );
}

function ClassTable({ summary, scan }: { summary: DatasetSummary; scan: DatasetScan | null }) {
  const counts = scan?.counts ?? summary.counts;
  const blobs = useMemo(() => scan?.thumbnails.map((t) => t.image) ?? [], [scan]);
  const urls = useObjectUrls(blobs);
  const splits = SPLIT_NAMES.filter((split) => split !== 'test' || counts.test.some((n) => n > 0));
  return (
    <table className="class-table" data-testid="class-table">
      <thead>
        <tr>
          <th>class</th>
          {splits.map((split) => (
            <th key={split}>{SPLIT_LABELS[split]}</th>
          ))}
          <th>examples</th>
        </tr>
      </thead>
      <tbody>
        {summary.classNames.map((name, c) => (
          <tr key={name} data-testid="class-row" data-class={name}>
            <td className="class-name">{name}</td>
            {splits.map((split) => (
              <td key={split} className="count" data-split={split}>
                {counts[split][c]}
              </td>
            ))}
            <td className="thumbs">
              {scan?.thumbnails.map((t, i) => (t.classIndex === c ? <img key={t.path} src={urls[i]} alt={t.path} title={t.path} /> : null))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ScanFacts({ scan }: { scan: DatasetScan }) {
  const formats = Object.entries(scan.formats)
    .map(([format, n]) => `${n} ${format.toUpperCase()}`)
    .join(', ');
  return (
    <p className="muted" data-testid="scan-facts" data-decoded={scan.decoded} data-ms={Math.round(scan.ms)}>
      {scan.decoded} images read in {(scan.ms / 1000).toFixed(1)} s ({formats}); widths {scan.widths.min}–{scan.widths.max} px (median {scan.widths.median}), heights{' '}
      {scan.heights.min}–{scan.heights.max} px; {scan.grayCount} grayscale, {scan.alphaCount} with transparency (composited on white)
      {scan.downscaledCount > 0 ? `; ${scan.downscaledCount} very large, read at reduced size` : ''}.
    </p>
  );
}

function Report({ issues }: { issues: IngestIssue[] }) {
  const shown = issues.filter((issue) => issue.code !== 'ignored-system-file');
  const download = () => {
    const lines = ['severity\tcode\tpath\tmessage', ...issues.map((i) => [i.severity, i.code, i.path, i.message].join('\t'))];
    const url = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/tab-separated-values' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'finetune-lab-report.tsv';
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  if (issues.length === 0) return null;
  return (
    <details className="report" data-testid="ingest-report" open={shown.some((i) => i.severity !== 'info')}>
      <summary>
        Report: {shown.length} file{shown.length === 1 ? '' : 's'} to look at
        {issues.length > shown.length ? `, ${issues.length - shown.length} system files ignored` : ''}{' '}
        <button type="button" className="link-button" onClick={download} data-testid="report-download">
          download
        </button>
      </summary>
      <ul>
        {shown.map((issue) => (
          <li key={`${issue.code}:${issue.path}`} className={`issue issue-${issue.severity}`} data-code={issue.code}>
            {issue.message}
          </li>
        ))}
      </ul>
    </details>
  );
}

function PreprocessingCheck() {
  const samples = useSamples();
  const failures = useSampleFailures();
  const { sampleSplit } = useLabActions();
  const check = () => {
    sampleSplit('train', 8);
    sampleSplit('validation', 8);
  };
  const same = samples.train && samples.validation ? samples.train.specHash === samples.validation.specHash : null;
  return (
    <div className="preprocessing-check">
      <button type="button" className="link-button" onClick={check} data-testid="sample-splits">
        Check what the network is fed
      </button>
      {(['train', 'validation'] as const).map((split) => {
        const sample = samples[split];
        const failure = failures[split];
        if (failure) {
          return (
            <div key={split} className="error" data-testid={`sample-${split}`} data-status="failed">
              {split}: {failure.error.message}
            </div>
          );
        }
        return sample ? (
          <div key={split} className="muted" data-testid={`sample-${split}`} data-spec-hash={sample.specHash} data-checksum={sample.checksum}>
            {split}: {sample.count} images, {sample.normalization}, spec {sample.specHash}, channel means {sample.channelMeans.map((m) => m.toFixed(1)).join(' / ')}
          </div>
        ) : null;
      })}
      {same !== null && <div className={same ? 'ok' : 'error'}>{same ? 'Training and validation are preprocessed the same way.' : 'Training and validation are preprocessed differently!'}</div>}
    </div>
  );
}

/** What the user changed in the folder (from a finding or the top losses), with the undo of the last click. */
function DatasetEditsNote() {
  const edits = useDatasetEdits();
  const { undoDatasetEdit } = useLabActions();
  if (edits.length === 0) return null;
  const count = (kind: DatasetEdit['kind']) => new Set(edits.flatMap((e) => (e.kind === kind ? e.paths : []))).size;
  const [leftOut, moved] = [count('leave-out'), count('relabel')];
  const last = edits.at(-1)!;
  const what = last.paths.length === 1 ? last.paths[0] : `the last ${last.paths.length}`;
  const parts = [leftOut > 0 && `${leftOut} image${leftOut === 1 ? '' : 's'} left out`, moved > 0 && `${moved} moved to another class`].filter(Boolean);
  return (
    <p className="muted" data-testid="left-out">
      {parts.join(', ')} (the files on disk are unchanged).{' '}
      <button type="button" className="link-button" onClick={undoDatasetEdit} data-testid="undo-drop">
        {last.kind === 'leave-out' ? `Put back ${what}` : `Move ${what} back`}
      </button>
    </p>
  );
}

/** A zip dropped here is imported as the kept model: say so here, where it was dropped. */
function ImportNote() {
  const kept = useKeptModel();
  if (kept.status !== 'importing') return null;
  return (
    <p className="muted" data-testid="dataset-import-note">
      Importing {kept.fileName} as the kept model (see Fine-tune)…
    </p>
  );
}

export function DatasetPanel() {
  const dataset = useDataset();
  const { resplit } = useLabActions();
  return (
    <section className="card" aria-labelledby="dataset-heading" data-testid="dataset-panel" data-status={dataset.status}>
      <h2 id="dataset-heading">
        <span className="step-number">1</span> Your images
      </h2>
      <DropZone />
      <ImportNote />
      <DatasetEditsNote />
      {dataset.status === 'reading' && <p>Reading the folder…</p>}
      {dataset.status === 'failed' && (
        <div className="error" role="alert">
          {dataset.error.message}
        </div>
      )}
      {(dataset.status === 'scanning' || dataset.status === 'ready') && (
        <>
          <p data-testid="dataset-summary">
            <strong>{dataset.summary.rootName ?? 'Dropped folders'}</strong>: {dataset.summary.classNames.length} classes, {dataset.summary.imageCount} images;{' '}
            {dataset.summary.splitSource === 'folders' ? (
              'split by its train/val folders.'
            ) : (
              <SplitSettings
                seed={dataset.summary.splitOptions!.seed}
                fraction={dataset.summary.splitOptions!.validationFraction}
                onChange={(seed, validationFraction) => resplit({ seed, validationFraction })}
              />
            )}
          </p>
          {dataset.status === 'scanning' && <progress max={dataset.total} value={dataset.done} aria-label="images read" />}
          {dataset.summary.issues.filter((i) => i.severity === 'error').map((issue) => (
            <div key={issue.code} className="error" role="alert" data-testid="dataset-error">
              {issue.message}
            </div>
          ))}
          <ClassTable summary={dataset.summary} scan={dataset.status === 'ready' ? dataset.scan : null} />
          {dataset.status === 'ready' && dataset.scan && <ScanFacts scan={dataset.scan} />}
          <Report issues={[...dataset.summary.issues, ...(dataset.status === 'ready' && dataset.scan ? dataset.scan.failures : [])]} />
          {dataset.status === 'ready' && dataset.scan && dataset.scan.decoded > 0 && <PreprocessingCheck />}
        </>
      )}
    </section>
  );
}

function SplitSettings({ seed, fraction, onChange }: { seed: number; fraction: number; onChange: (seed: number, fraction: number) => void }) {
  return (
    <span data-testid="split-settings">
      stratified split, {Math.round(fraction * 100)}% validation, seed{' '}
      <input
        type="number"
        className="seed-input"
        defaultValue={seed}
        aria-label="split seed"
        onBlur={(event) => {
          const next = Number(event.target.value);
          if (Number.isInteger(next) && next !== seed) onChange(next, fraction);
        }}
      />
    </span>
  );
}
