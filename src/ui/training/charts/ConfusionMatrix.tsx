// The validation confusion matrix: counts or row fractions, right answers in blue and errors in
// orange-red, a grid the keyboard moves through (one tab stop; arrows, Home, End; Enter or Space
// opens a cell), and the open cell's images, worst loss first: an error cell's as a review (each
// with one click to leave it out or move it to the predicted class), a right cell's as thumbnails.

import { memo, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { EpochRecord, RunInfo } from '../../../state/lab-state';
import { useLabActions } from '../../../state/hooks';
import { ImageReview } from '../../review/ImageReview';
import { CELL_PREVIEWS, CellImages } from '../ImageThumbs';
import { ChartDownloads } from './ChartDownloads';
import { confusionCsv } from './chart-csv';
import { abbreviate, cellColors, cellText, confusionSvg, intensities, moveCell, normalizeRows, type Cell } from './confusion';
import { confusionSummary } from './summaries';

/** Column heads are cut shorter the more classes there are (the full name is their title), so the matrix fits a narrow screen. */
const columnLabelChars = (classes: number) => (classes <= 4 ? 12 : classes <= 8 ? 8 : 5);
const ROW_LABEL_CHARS = 14;

const within = (cell: Cell | null, n: number): cell is Cell => cell !== null && cell[0] < n && cell[1] < n;
const same = (a: Cell | null, b: Cell) => a !== null && a[0] === b[0] && a[1] === b[1];

/** `showImages` (default): a cell opens its validation images; a stored run's may not be at hand. */
export const ConfusionMatrix = memo(function ConfusionMatrix({ run, epoch, showImages = true }: { run: RunInfo; epoch: EpochRecord; showImages?: boolean }) {
  const [normalized, setNormalized] = useState(false);
  const [openCell, setOpenCell] = useState<Cell | null>(null);
  const [focusCell, setFocusCell] = useState<Cell>([0, 0]);
  const table = useRef<HTMLTableElement>(null);
  const { requestThumbnails } = useLabActions();
  const validation = epoch.validation!;
  const { confusion } = validation.metrics;
  const names = run.classNames;
  const n = confusion.length;
  const values = useMemo(() => (normalized ? normalizeRows(confusion) : confusion), [confusion, normalized]);
  const shade = useMemo(() => intensities(values, normalized), [values, normalized]);
  // A later run may have fewer classes: a cell beyond its matrix is no cell.
  const open = within(openCell, n) ? openCell : null;
  const focused = within(focusCell, n) ? focusCell : ([0, 0] as const);

  const openAt = (cell: Cell) => {
    if (!showImages) return;
    setOpenCell(cell);
    setFocusCell(cell);
    requestThumbnails(cellImageIndices(run, validation, cell).slice(0, CELL_PREVIEWS).map((i) => run.validationPaths[i]!));
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTableElement>) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      openAt(focused);
      return;
    }
    const next = moveCell(focused, event.key, n, event.ctrlKey || event.metaKey);
    if (!next) return;
    event.preventDefault();
    setFocusCell(next);
    table.current?.querySelector<HTMLElement>(`[data-row="${next[0]}"][data-col="${next[1]}"]`)?.focus();
  };
  const title = `Confusion matrix, epoch ${epoch.epoch + 1} (${normalized ? 'row fractions' : 'counts'})`;

  return (
    <figure className="chart" data-testid="confusion-matrix" data-normalized={normalized}>
      <figcaption>
        Confusion matrix (validation, rows: actual, columns: predicted){' '}
        <span className="muted">
          {confusionSummary(confusion)}.{showImages ? ' Click a cell, or move to it with the arrow keys and press Enter, for its images.' : ''}
        </span>
        <span className="chart-tools">
          <label title="Each row divided by its total: the diagonal is each class's recall">
            <input type="checkbox" checked={normalized} onChange={(event) => setNormalized(event.target.checked)} data-testid="confusion-normalize" /> row-normalised
          </label>
          <ChartDownloads
            name="confusion"
            subject="the confusion matrix"
            csv={() => confusionCsv(names, values)}
            picture={() => confusionSvg(title, names, values, normalized)}
          />
        </span>
      </figcaption>
      <div className="confusion-scroll">
        <table className="confusion" role="grid" aria-label={`${title}: rows are the actual class, columns the predicted one`} ref={table} onKeyDown={onKeyDown}>
          <thead>
            <tr>
              <td />
              {names.map((name) => (
                <th key={name} scope="col" title={name}>
                  {abbreviate(name, columnLabelChars(n))}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {values.map((row, actual) => (
              <tr key={actual}>
                <th scope="row" title={names[actual]}>
                  {abbreviate(names[actual] ?? '', ROW_LABEL_CHARS)}
                </th>
                {row.map((value, predicted) => {
                  const cell = [actual, predicted] as const;
                  const isOpen = same(open, cell);
                  const count = confusion[actual]![predicted]!;
                  const share = normalized ? ` (${cellText(value, true)} of ${names[actual]})` : '';
                  return (
                    <td
                      key={predicted}
                      role="gridcell"
                      className={actual === predicted ? 'diagonal' : 'error'}
                      style={cellColors(shade[actual]![predicted]!, actual === predicted)}
                      tabIndex={same(focused, cell) ? 0 : -1}
                      aria-selected={isOpen}
                      aria-label={`${count} ${names[actual]} image${count === 1 ? '' : 's'} predicted as ${names[predicted]}${share}`}
                      data-open={isOpen || undefined}
                      data-row={actual}
                      data-col={predicted}
                      onClick={() => openAt(cell)}
                      data-testid="confusion-cell"
                    >
                      {cellText(value, normalized)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && <OpenCell run={run} validation={validation} cell={open} />}
    </figure>
  );
});

type Validation = NonNullable<EpochRecord['validation']>;

/** The validation images in a cell (given class `actual`, predicted `predicted`), highest loss first. */
function cellImageIndices(run: RunInfo, validation: Validation, [actual, predicted]: Cell): number[] {
  return run.validationPaths
    .map((_, i) => i)
    .filter((i) => run.validationLabels[i] === actual && validation.predictions[i] === predicted)
    .sort((a, b) => validation.losses[b]! - validation.losses[a]!);
}

/**
 * An open cell's images. Errors are what a person reviews (fastai's top losses, opened from the
 * matrix): each row offers to leave the image out or file it under the predicted class. Right
 * answers are thumbnails, each with the model's confidence.
 */
export function OpenCell({ run, validation, cell }: { run: RunInfo; validation: Validation; cell: Cell }) {
  const names = run.classNames;
  const [actual, predicted] = cell;
  const indices = cellImageIndices(run, validation, cell);
  const isError = actual !== predicted;
  return (
    <div className="cell-images" data-testid="cell-images" data-error={isError || undefined}>
      <strong>
        {names[actual]} predicted as {names[predicted]}: {indices.length} image{indices.length === 1 ? '' : 's'}
      </strong>
      {indices.length > 1 && <span className="muted"> (highest loss first{isError ? '' : '; under each, the probability the model gave its prediction'})</span>}
      {isError ? (
        <ImageReview
          rowTestId="cell-review"
          rows={indices.slice(0, CELL_PREVIEWS).map((i) => ({
            path: run.validationPaths[i]!,
            given: names[actual]!,
            predicted: names[predicted]!,
            loss: validation.losses[i]!,
            confidence: validation.confidences[i]!,
          }))}
        />
      ) : (
        <CellImages
          images={indices.map((i) => {
            const confidence = `${(validation.confidences[i]! * 100).toFixed(1)}%`;
            const loss = validation.losses[i]!.toFixed(2);
            return { path: run.validationPaths[i]!, caption: `${confidence} · loss ${loss}`, description: `predicted ${names[predicted]} with probability ${confidence}, loss ${loss}` };
          })}
        />
      )}
      {isError && indices.length > CELL_PREVIEWS && <p className="muted">and {indices.length - CELL_PREVIEWS} more</p>}
    </div>
  );
}
