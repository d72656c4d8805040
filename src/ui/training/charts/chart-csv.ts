// The data behind each training chart as a CSV file (RFC 4180, as the predictions CSV): every
// step, not the points the step chart draws; steps and epochs counted from 1, as the charts do.

import { csvField } from '../../../core/predictions-csv';
import type { ChangeRecord, EpochRecord, StepRecord } from '../../../state/lab-state';
import { smoothLosses } from '../downsample';
import { changeMarks } from '../format';

const RECORD_END = '\r\n';

type Cell = string | number | null | undefined;

function cell(value: Cell): string {
  if (value === null || value === undefined) return '';
  // Full precision: the file is for a spreadsheet or pandas, not for reading by eye. NaN and
  // Infinity are written as such (pandas reads both).
  return typeof value === 'number' ? String(value) : csvField(value);
}

/** A CSV file: a header and its rows, CRLF after every record. */
export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',') + RECORD_END).join('');
}

/**
 * One row per step: the loss as the optimiser saw it, the smoothed loss at `smoothing` (empty for
 * a failed step), the learning rate, freeze depth and batch size, and the changes that took effect.
 */
export function stepsCsv(steps: readonly StepRecord[], changes: readonly ChangeRecord[], smoothing: number): string {
  const smoothed = smoothLosses(
    steps.map((s) => s.loss),
    smoothing,
  );
  const marks = new Map(changeMarks(changes, (c) => c.step).map((mark) => [mark.x, mark.label]));
  return toCsv(
    ['step', 'epoch', 'loss', 'smoothed', 'learning_rate', 'freeze_depth', 'batch_size', 'changes'],
    steps.map((s, i) => [s.step + 1, s.epoch + 1, s.loss, smoothed[i], s.learningRate, s.freezeDepth, s.batchSize, marks.get(s.step)]),
  );
}

/** One row per epoch: train and validation loss, or accuracy (empty without a validation split). */
export function epochsCsv(epochs: readonly EpochRecord[], metric: 'loss' | 'accuracy'): string {
  const value = (split: { loss: number; metrics: { accuracy: number } } | null) => (split ? (metric === 'loss' ? split.loss : split.metrics.accuracy) : null);
  return toCsv(
    ['epoch', `train_${metric}`, `validation_${metric}`],
    epochs.map((e) => [e.epoch + 1, value(e.train), value(e.validation)]),
  );
}

/** One row per class: validation precision, recall, F1 and support of one epoch. */
export function classesCsv(classNames: readonly string[], perClass: readonly { precision: number; recall: number; f1: number; support: number }[]): string {
  return toCsv(
    ['class', 'precision', 'recall', 'f1', 'support'],
    perClass.map((m, c) => [classNames[c], m.precision, m.recall, m.f1, m.support]),
  );
}

/** The matrix as shown: a row per actual class, a column per predicted class; counts or row fractions. */
export function confusionCsv(classNames: readonly string[], values: readonly (readonly number[])[]): string {
  return toCsv(
    ['actual \\ predicted', ...classNames],
    values.map((row, actual) => [classNames[actual], ...row]),
  );
}
