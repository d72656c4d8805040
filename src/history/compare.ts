// Comparing stored runs: each run's loss and accuracy series for charts that overlay them, and a
// table of their settings and results that says which rows differ. Pure functions of the logs.

import type { RunLog, RunSegment } from '../core/run-report';
import type { LiveChange } from '../core/run-records';
import { freezeDepthLabel, type TrainingConfig } from '../core/training-config';

export const MAX_COMPARED_RUNS = 5;

/**
 * One colour per compared run, in order: five of Okabe & Ito's colour-blind-safe palette
 * (blue, vermillion, bluish green, reddish purple, black). Its orange, sky blue and yellow are
 * left out: under 3:1 against the white chart (WCAG's minimum for graphics), these are 3.1–21:1.
 */
export const COMPARE_COLORS: readonly string[] = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#000000'];

export type ComparedRun = { id: string; name: string; log: RunLog };

/** One epoch of a run as the comparison charts draw it; a figure that is missing or not finite is null. */
export interface CompareEpochPoint {
  /** Counted from 1, as the page counts epochs. */
  epoch: number;
  trainLoss: number | null;
  validationLoss: number | null;
  trainAccuracy: number | null;
  validationAccuracy: number | null;
}

export interface CompareSeries {
  id: string;
  name: string;
  color: string;
  /**
   * Every step's loss, counted from 1 as the page counts steps; a failed step's NaN is kept (the
   * charts' smoothing skips it). Smoothing lives with the charts (ui/training/downsample.ts).
   */
  steps: { step: number; loss: number }[];
  epochs: CompareEpochPoint[];
}

export function compareColor(index: number): string {
  return COMPARE_COLORS[index % COMPARE_COLORS.length]!;
}

const finiteOrNull = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value : null);

export function compareSeries(runs: readonly ComparedRun[]): CompareSeries[] {
  return runs.map(({ id, name, log }, index) => ({
    id,
    name,
    color: compareColor(index),
    steps: log.steps.map((s) => ({ step: s.step + 1, loss: s.loss })),
    epochs: log.epochs.map((e) => ({
      epoch: e.epoch + 1,
      trainLoss: finiteOrNull(e.train.loss),
      validationLoss: finiteOrNull(e.validation?.loss),
      trainAccuracy: finiteOrNull(e.train.metrics.accuracy),
      validationAccuracy: finiteOrNull(e.validation?.metrics.accuracy),
    })),
  }));
}

/** The last step and epoch of the longest run: the end of the axis every run shares (0 without any). */
export function sharedExtent(series: readonly CompareSeries[]): { steps: number; epochs: number } {
  return {
    steps: Math.max(0, ...series.map((s) => s.steps.at(-1)?.step ?? 0)),
    epochs: Math.max(0, ...series.map((s) => s.epochs.at(-1)?.epoch ?? 0)),
  };
}

export interface OverlayLine {
  /** The key of this line's values in the rows. */
  key: string;
  points: readonly { x: number; y: number | null }[];
}

/** x, and each line's y under its key where the line has a point at that x. */
export type OverlayRow = Record<string, number | null>;

/**
 * The rows of one chart that overlays lines of different lengths and x positions: each distinct x
 * once, in order, under `x`. A line without a point at some x has no key there (its line is drawn
 * across with connectNulls).
 */
export function overlayRows(lines: readonly OverlayLine[]): OverlayRow[] {
  const rows = new Map<number, OverlayRow>();
  for (const { key, points } of lines) {
    for (const { x, y } of points) {
      const row = rows.get(x) ?? { x };
      row[key] = y;
      rows.set(x, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.x! - b.x!);
}

export type SettingsSection = 'settings' | 'data' | 'results';

export interface SettingsRow {
  label: string;
  /** One per run, in the runs' order, as the table shows them. */
  values: string[];
  /** The values are not all the same (never with one run). */
  differs: boolean;
  section: SettingsSection;
}

const NONE = '—';

/** 0.001 → "1e-3", 0.00025 → "2.5e-4": a learning rate as it is usually written. */
function formatRate(value: number): string {
  return Number(value.toPrecision(3)).toExponential();
}

// As the charts' change marks name them (ui/training/format.ts), so the table and marks agree.
function liveValueLabel(change: LiveChange): string {
  switch (change.kind) {
    case 'freezeDepth':
      return `k=${change.value}`;
    case 'classWeighting':
      return `weights=${change.value}`;
    case 'learningRate':
      return `lr=${formatRate(change.value)}`;
    case 'batchNormPolicy':
      return `BN=${change.value}`;
  }
}

/** The live settings a segment starts with, as the changes that follow it replace them. */
function liveValues(config: TrainingConfig): LiveChange[] {
  return [
    { kind: 'freezeDepth', value: config.freezeDepth },
    { kind: 'classWeighting', value: config.classWeighting },
    { kind: 'learningRate', value: config.learningRate },
    { kind: 'batchNormPolicy', value: config.batchNormPolicy },
  ];
}

/**
 * Every live change in step order, "k=0 → k=3 at step 13", steps counted from 1 as the charts
 * count them. Each change goes from the value before it: its run segment's setting, or the
 * change of that kind before it in the same segment.
 */
export function liveChangesSummary(log: RunLog): string {
  if (log.changes.length === 0) return 'none';
  const segmentAt = (step: number) => log.runs.findLast((r) => r.firstStep <= step) ?? log.runs[0];
  let segment: RunSegment | undefined;
  let current = new Map<LiveChange['kind'], LiveChange>();
  const parts: string[] = [];
  const ordered = [...log.changes].sort((a, b) => a.step - b.step);
  for (const { step, change } of ordered) {
    const at = segmentAt(step);
    if (at !== segment) {
      segment = at;
      current = new Map((at ? liveValues(at.settings.config) : []).map((v) => [v.kind, v]));
    }
    const before = current.get(change.kind);
    const to = liveValueLabel(change);
    parts.push(`${before ? `${liveValueLabel(before)} → ` : ''}${to} at step ${step + 1}`);
    current.set(change.kind, change);
  }
  return parts.join('; ');
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** The best finite figure over the validated epochs and its epoch (from 1), or "—". */
function best(log: RunLog, figure: (metrics: { accuracy: number; macroF1: number }) => number, format: (value: number) => string): string {
  let top: { value: number; epoch: number } | null = null;
  for (const e of log.epochs) {
    if (!e.validation) continue;
    const value = figure(e.validation.metrics);
    if (Number.isFinite(value) && (top === null || value > top.value)) top = { value, epoch: e.epoch + 1 };
  }
  return top === null ? NONE : `${format(top.value)} at epoch ${top.epoch}`;
}

function backendLabel(log: RunLog): string {
  const { backend } = log;
  if (!backend) return NONE;
  return backend.name === 'wasm' && backend.wasmThreads !== null ? `wasm, ${backend.wasmThreads} thread${backend.wasmThreads === 1 ? '' : 's'}` : backend.name;
}

function splitLabel(log: RunLog): string {
  const { splitSource, splitOptions } = log.dataset;
  if (splitSource === 'folders') return 'its folders';
  if (!splitOptions) return 'stratified';
  return `stratified, ${Math.round(splitOptions.validationFraction * 100)}% validation, seed ${splitOptions.seed}`;
}

interface RowSpec {
  label: string;
  section: SettingsSection;
  /** A run without a segment has no settings: "—". */
  value: (log: RunLog, segment: RunSegment | undefined) => string;
  /** Shown only when this holds for one of the runs. */
  when?: (log: RunLog) => boolean;
}

/** A setting of the last run segment, "—" without one. */
const setting =
  (read: (segment: RunSegment) => string) =>
  (_log: RunLog, segment: RunSegment | undefined): string =>
    segment ? read(segment) : NONE;
const trainingSetting =
  (read: (config: TrainingConfig) => string) =>
  (_log: RunLog, segment: RunSegment | undefined): string =>
    segment ? read(segment.settings.config) : NONE;

const ROWS: readonly RowSpec[] = [
  { label: 'Image size', section: 'settings', value: setting((s) => `${s.settings.sizePx} px`) },
  { label: 'Resize', section: 'settings', value: setting((s) => s.settings.resize) },
  { label: 'Normalization', section: 'settings', value: setting((s) => s.settings.normalization) },
  {
    label: 'Validation normalization',
    section: 'settings',
    value: setting((s) => s.settings.validationNormalization ?? 'the same'),
    when: (log) => (log.runs.at(-1)?.settings.validationNormalization ?? null) !== null,
  },
  { label: 'Augmentation', section: 'settings', value: setting((s) => (s.settings.augment ? 'on' : 'off')) },
  { label: 'Freeze depth at start', section: 'settings', value: trainingSetting((c) => `k=${c.freezeDepth}: ${freezeDepthLabel(c.freezeDepth)}`) },
  { label: 'Live changes', section: 'settings', value: (log) => liveChangesSummary(log) },
  { label: 'Class weighting', section: 'settings', value: trainingSetting((c) => c.classWeighting) },
  { label: 'Learning rate (head, peak)', section: 'settings', value: trainingSetting((c) => formatRate(c.learningRate)) },
  { label: 'Schedule', section: 'settings', value: trainingSetting((c) => c.schedule) },
  { label: 'Warm-up', section: 'settings', value: trainingSetting((c) => (c.schedule === 'warmup-cosine' ? `${c.warmupSteps} steps` : 'none (constant schedule)')) },
  { label: 'Optimizer', section: 'settings', value: trainingSetting((c) => (c.optimizer === 'sgd' ? `sgd, momentum ${c.momentum}` : c.optimizer)) },
  { label: 'Backbone LR multiplier', section: 'settings', value: trainingSetting((c) => `× ${c.backboneLrMultiplier}`) },
  { label: 'Batch size', section: 'settings', value: trainingSetting((c) => (c.microBatchSize > 0 ? `${c.batchSize}, micro-batches of ${c.microBatchSize}` : String(c.batchSize))) },
  { label: 'Epochs', section: 'settings', value: trainingSetting((c) => String(c.epochs)) },
  { label: 'Dropout', section: 'settings', value: trainingSetting((c) => String(c.dropout)) },
  { label: 'BatchNorm', section: 'settings', value: trainingSetting((c) => c.batchNormPolicy) },
  { label: 'Seed', section: 'settings', value: trainingSetting((c) => String(c.seed)) },
  {
    label: 'Training runs',
    section: 'settings',
    value: (log) => (log.runs.length > 1 ? `${log.runs.length}: the first, then ${log.runs.length - 1} × train more` : String(log.runs.length)),
    when: (log) => log.runs.length > 1,
  },
  { label: 'Backend', section: 'data', value: (log) => backendLabel(log) },
  { label: 'Dataset', section: 'data', value: (log) => log.dataset.rootName ?? '(no folder name)' },
  { label: 'Split', section: 'data', value: (log) => splitLabel(log) },
  {
    label: 'Images (train / validation / test)',
    section: 'data',
    value: ({ dataset: { files } }) => `${files.train.length} / ${files.validation.length} / ${files.test.length}`,
  },
  { label: 'Status', section: 'results', value: setting((s) => s.ended?.status ?? 'running') },
  { label: 'Epochs done', section: 'results', value: (log) => String(log.epochs.length) },
  { label: 'Best validation accuracy', section: 'results', value: (log) => best(log, (m) => m.accuracy, percent) },
  { label: 'Best validation macro-F1', section: 'results', value: (log) => best(log, (m) => m.macroF1, (v) => v.toFixed(3)) },
];

/**
 * The runs side by side: the settings of each run's last segment (a "train more" may have changed
 * them), its data and backend, and its results. A row differs when its shown values do.
 */
export function settingsTable(runs: readonly ComparedRun[]): SettingsRow[] {
  return ROWS.filter((row) => !row.when || runs.some((run) => row.when!(run.log))).map((row) => {
    const values = runs.map(({ log }) => row.value(log, log.runs.at(-1)));
    return { label: row.label, values, differs: values.some((v) => v !== values[0]), section: row.section };
  });
}
