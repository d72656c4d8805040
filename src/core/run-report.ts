// run.json and metrics.csv: everything needed to check a run or reproduce it elsewhere, as plain
// data: its settings (one entry per "train more"), every change with its step, every step and
// epoch, the findings, the backend, and the exact files of each split.

import { strToU8, zipSync } from 'fflate';
import type { BackendInfo } from './backends';
import type { Finding } from './diagnostics';
import type { SplitName } from './dataset';
import type { SplitOptions } from './splits';
import type { ChangeRecord, EpochRecord, RunSettings, StepRecord } from './run-records';

export const RUN_FORMAT = 'finetune-lab/run';
export const RUN_FORMAT_VERSION = 1;

/** One run of a model: its first run, or a "train more" that continued it. */
export interface RunSegment {
  settings: RunSettings;
  /** The model's step and epoch counts when this run started. */
  firstStep: number;
  firstEpoch: number;
  /** ISO 8601. */
  startedAt: string;
  /** null while it runs. */
  ended: { at: string; status: 'completed' | 'stopped' | 'failed' } | null;
  /** Each time it went on from its saved training state after a reload or a crash: when, and from which epoch (0-based). */
  resumed?: { at: string; epoch: number }[];
}

export interface SplitFile {
  /** Relative to the dropped folder. */
  path: string;
  className: string;
  /** The file's size in bytes. */
  size?: number;
  /** A hash of its decoded pixels (FNV-1a 64), from the scan: the same picture, the same hash. */
  contentHash?: string;
}

/** What the training worker records of a model's training as it goes. */
export interface RunLog {
  classNames: string[];
  /** Oldest first. */
  runs: RunSegment[];
  steps: StepRecord[];
  epochs: EpochRecord[];
  changes: ChangeRecord[];
  /** The latest diagnostics, most likely cause first. */
  findings: Finding[];
  backend: BackendInfo | null;
  dataset: {
    rootName: string | null;
    splitSource: 'folders' | 'stratified';
    splitOptions: SplitOptions | null;
    /** Images each run read, in the order the run indexed them (unreadable files left out). */
    files: Record<SplitName, SplitFile[]>;
  };
}

export function emptyRunLog(classNames: string[], dataset: RunLog['dataset'], backend: BackendInfo | null): RunLog {
  return { classNames, runs: [], steps: [], epochs: [], changes: [], findings: [], backend, dataset };
}

export interface RunJson extends RunLog {
  format: typeof RUN_FORMAT;
  version: typeof RUN_FORMAT_VERSION;
  /** ISO 8601. */
  exportedAt: string;
  timings: {
    /** Σ of the steps' own times. */
    stepMs: number;
    /** Σ of the epochs' times (steps, loading and validation). */
    epochMs: number;
    /** Median step time. */
    medianStepMs: number | null;
  };
}

export function runJson(log: RunLog, exportedAt: Date): RunJson {
  const stepTimes = log.steps.map((s) => s.ms).sort((a, b) => a - b);
  return {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    exportedAt: exportedAt.toISOString(),
    ...log,
    timings: {
      stepMs: stepTimes.reduce((sum, ms) => sum + ms, 0),
      epochMs: log.epochs.reduce((sum, e) => sum + e.ms, 0),
      medianStepMs: stepTimes.length > 0 ? stepTimes[Math.floor(stepTimes.length / 2)]! : null,
    },
  };
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per epoch: the training and validation figures, and each class's validation F1. */
export function metricsCsv(log: RunLog): string {
  const header = ['epoch', 'train_loss', 'train_accuracy', 'validation_loss', 'validation_accuracy', 'validation_macro_f1', 'epoch_ms', ...log.classNames.map((name) => `f1_${name}`)];
  const rows = log.epochs.map((e) => [
    e.epoch,
    e.train.loss,
    e.train.metrics.accuracy,
    e.validation?.loss ?? null,
    e.validation?.metrics.accuracy ?? null,
    e.validation?.metrics.macroF1 ?? null,
    Math.round(e.ms),
    ...log.classNames.map((_, c) => e.validation?.metrics.perClass[c]?.f1 ?? null),
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** The export-run zip: run.json and metrics.csv. */
export function exportRunZip(log: RunLog, exportedAt: Date): Uint8Array {
  return zipSync({ 'run.json': strToU8(JSON.stringify(runJson(log, exportedAt), null, 1)), 'metrics.csv': strToU8(metricsCsv(log)) }, { level: 6 });
}
