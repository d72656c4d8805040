// A stored run's log in the shapes the page's charts draw: what the worker's train/started said
// of it, rebuilt from run.json's records.

import type { RunLog } from '../core/run-report';
import type { TrainingState } from '../core/run-records';
import type { RunSummary } from '../history/run-store';
import type { DatasetSummary, RunInfo } from '../workers/protocol';

/** The run as the charts need it; the settings of its last run segment ("train more" adds one). */
export function runInfoOf(log: RunLog): RunInfo | null {
  const last = log.runs.at(-1);
  if (!last) return null;
  const { train, validation } = log.dataset.files;
  const classIndex = new Map(log.classNames.map((name, c) => [name, c]));
  return {
    classNames: log.classNames,
    trainCount: train.length,
    validationCount: validation.length,
    stepsPerEpoch: Math.ceil(train.length / last.settings.config.batchSize),
    settings: last.settings,
    // In split order, as each epoch's per-image validation records are.
    validationPaths: validation.map((f) => f.path),
    validationLabels: validation.map((f) => classIndex.get(f.className) ?? -1),
    continued: log.runs.length > 1,
  };
}

/** The log as it stood at the state's epoch end: what a resumed run goes on from (later steps are trained again). */
export function logAtState(log: RunLog, state: TrainingState): RunLog {
  return {
    ...log,
    steps: log.steps.filter((s) => s.step < state.step),
    epochs: log.epochs.filter((e) => e.epoch < state.epoch),
    // A change recorded at the state's step was applied after it, at the next step's start.
    changes: log.changes.filter((c) => c.step < state.step),
  };
}

/**
 * Why the open dataset cannot be the one a stored run trained on, at a glance (its folder name
 * and classes; the worker checks every file); null when it may be.
 */
export function resumeMismatch(run: RunSummary, dataset: DatasetSummary | null): string | null {
  const folder = run.datasetName ?? 'the folder it trained on';
  if (!dataset) return `Open ${folder} again to resume.`;
  if (dataset.rootName !== run.datasetName) return `It trained on ${folder}; the open folder is ${dataset.rootName ?? 'unnamed'}.`;
  if (dataset.classNames.join('\n') !== run.classNames.join('\n')) return `It trained on the classes ${run.classNames.join(', ')}; the open folder has ${dataset.classNames.join(', ')}.`;
  return null;
}
