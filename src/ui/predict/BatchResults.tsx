// The answers to one pick or drop: a row per image (the first ones in detail), and for several
// images a compact table of every one with a CSV download.

import { memo } from 'react';
import type { PredictionBatch, PredictionItem } from '../../state/lab-state';
import { useLabActions } from '../../state/hooks';
import { PredictionRow } from './PredictionRow';

/** Images shown with thumbnail and heat map; a whole folder would make the page heavy (the table and the CSV list them all). */
export const DETAILED_ROWS = 48;

function counts(items: readonly PredictionItem[]) {
  let done = 0;
  let failed = 0;
  for (const item of items) {
    if (item.status === 'done') done++;
    else if (item.status === 'failed') failed++;
  }
  return { done, failed, running: items.length - done - failed };
}

function modelLabel(batch: PredictionBatch): string {
  const { model } = batch;
  const where = model.origin === 'imported' ? `imported from ${model.fileName ?? 'a zip'}` : 'of the last run';
  return `the model ${where} (${model.steps} steps)`;
}

function SummaryTable({ items }: { items: readonly PredictionItem[] }) {
  return (
    <table className="prediction-table" data-testid="prediction-table">
      <thead>
        <tr>
          <th>image</th>
          <th>top class</th>
          <th>probability</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => {
          const first = item.status === 'done' ? item.prediction.top[0] : undefined;
          return (
            <tr key={item.path} data-status={item.status}>
              <td className="path">{item.path}</td>
              <td>{first?.label ?? (item.status === 'failed' ? 'failed' : '…')}</td>
              <td className="count">{first ? `${(first.probability * 100).toFixed(1)}%` : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export const BatchResults = memo(function BatchResults({ batch, showHeatMaps }: { batch: PredictionBatch; showHeatMaps: boolean }) {
  const { downloadPredictions } = useLabActions();
  const { done, failed, running } = counts(batch.items);
  const detailed = batch.items.slice(0, DETAILED_ROWS);
  const several = batch.items.length > 1;
  return (
    <div className="prediction-batch" data-testid="prediction-batch" data-request-id={batch.requestId} data-running={running}>
      <p className="muted">
        {batch.items.length} image{several ? 's' : ''} with {modelLabel(batch)}: {done} answered{failed > 0 ? `, ${failed} failed` : ''}
        {running > 0 ? `, ${running} to go` : ''}
        {!batch.heatMaps && ' · no heat maps asked for'}
      </p>
      <ul className="checks">
        {detailed.map((item) => (
          <PredictionRow key={item.path} item={item} resize={batch.model.spec.resize} showHeatMap={showHeatMaps} />
        ))}
      </ul>
      {batch.items.length > detailed.length && <p className="muted">The other {batch.items.length - detailed.length} images are in the table.</p>}
      {several && (
        <>
          <SummaryTable items={batch.items} />
          <button type="button" onClick={() => downloadPredictions(batch.requestId)} disabled={running > 0 || done === 0} data-testid="predictions-csv">
            Download CSV
          </button>
        </>
      )}
    </div>
  );
});
