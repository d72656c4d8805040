// A stored run's log in the shapes the page's charts draw: what the worker's train/started said
// of it, rebuilt from run.json's records.

import type { RunLog } from '../core/run-report';
import type { RunInfo } from '../workers/protocol';

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
