// A stored run's log as the charts draw it, cut back to a saved state's epoch for a resume, and
// the quick check that the open folder may be the one it trained on.

import { describe, expect, it } from 'vitest';
import { summarizeRun } from '../../../src/history/run-store';
import { logAtState, resumeMismatch, runInfoOf } from '../../../src/state/stored-run';
import type { DatasetSummary } from '../../../src/workers/protocol';
import { runLog } from './fixtures';

const dataset = (rootName: string, classNames = ['a', 'b']): DatasetSummary => ({
  rootName,
  classNames,
  splitSource: 'stratified',
  splitOptions: { validationFraction: 0.2, seed: 42 },
  counts: { train: [4, 4], validation: [1, 1], test: [0, 0] },
  issues: [],
  trainable: true,
  imageCount: 10,
});

describe('stored runs', () => {
  it('rebuild what train/started said: counts, steps per epoch, validation paths with their labels', () => {
    const info = runInfoOf(runLog(2))!;
    expect(info).toMatchObject({ classNames: ['a', 'b'], trainCount: 8, validationCount: 2, validationPaths: ['d/a/1.png', 'd/b/1.png'], validationLabels: [0, 1], continued: false });
    expect(info.stepsPerEpoch).toBe(Math.ceil(8 / info.settings.config.batchSize));
    expect(runInfoOf({ ...runLog(0), runs: [] })).toBeNull();
  });

  it('cut back to a state: steps, epochs and changes before it (a change at its step came after it)', () => {
    const log = { ...runLog(3), changes: [1, 4, 5].map((step) => ({ step, change: { kind: 'learningRate' as const, value: 1e-4 }, trainableParams: 10 })) };
    const cut = logAtState(log, { step: 4, epoch: 2 } as Parameters<typeof logAtState>[1]);
    expect(cut.steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(cut.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(cut.changes.map((c) => c.step)).toEqual([1]);
  });

  it('tell when the open folder cannot be the run’s', () => {
    const summary = summarizeRun(runLog(1));
    expect(resumeMismatch(summary, null)).toBe('Open d again to resume.');
    expect(resumeMismatch(summary, dataset('other'))).toBe('It trained on d; the open folder is other.');
    expect(resumeMismatch(summary, dataset('d', ['a', 'c']))).toBe('It trained on the classes a, b; the open folder has a, c.');
    expect(resumeMismatch(summary, dataset('d'))).toBeNull();
  });
});
