// Comparing stored runs: each run's series on numbers counted from 1, one shared axis, and a
// settings table whose differing rows are flagged, live changes summed up, a run without
// validation and one trained more shown as they are.

import { describe, expect, it } from 'vitest';
import type { RunLog } from '../../../src/core/run-report';
import {
  COMPARE_COLORS,
  compareColor,
  compareSeries,
  liveChangesSummary,
  MAX_COMPARED_RUNS,
  overlayRows,
  settingsTable,
  sharedExtent,
  type SettingsRow,
} from '../../../src/history/compare';
import { compared, settings, trainedRun } from './run-log-fixtures';

function row(rows: readonly SettingsRow[], label: string): SettingsRow {
  const found = rows.find((r) => r.label === label);
  if (!found) throw new Error(`no row "${label}" in ${rows.map((r) => r.label).join(', ')}`);
  return found;
}

const values = (rows: readonly SettingsRow[], label: string) => row(rows, label).values;

describe('COMPARE_COLORS', () => {
  it('has one distinct colour per run that can be compared, then starts over', () => {
    expect(COMPARE_COLORS).toHaveLength(MAX_COMPARED_RUNS);
    expect(new Set(COMPARE_COLORS).size).toBe(MAX_COMPARED_RUNS);
    expect(compareColor(0)).toBe('#0072b2');
    expect(compareColor(MAX_COMPARED_RUNS)).toBe(compareColor(0));
  });
});

describe('compareSeries', () => {
  it("gives each run its colour, its step losses and its epochs' figures, counted from 1", () => {
    const [a, b] = compareSeries([compared('a', trainedRun()), compared('b', trainedRun({ epochs: 1 }))]);
    expect(a!.color).toBe(COMPARE_COLORS[0]);
    expect(b!.color).toBe(COMPARE_COLORS[1]);
    expect(a!.id).toBe('id-a');
    expect(a!.name).toBe('a');
    // The fixture's step losses are 1.1 − 0.08·step.
    expect(a!.steps).toEqual([0, 1, 2, 3, 4, 5].map((step) => ({ step: step + 1, loss: 1.1 - 0.08 * step })));
    expect(b!.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    // Train loss 0.9 − 0.3·epoch, validation 0.8 − 0.1·epoch; accuracies from the fixture's
    // confusions: train 8/12 then 11/12, validation 5/6 then 4/6.
    expect(a!.epochs).toEqual([
      { epoch: 1, trainLoss: 0.9, validationLoss: 0.8, trainAccuracy: 8 / 12, validationAccuracy: 5 / 6 },
      { epoch: 2, trainLoss: 0.9 - 0.3, validationLoss: 0.8 - 0.1, trainAccuracy: 11 / 12, validationAccuracy: 4 / 6 },
    ]);
  });

  it('has null validation figures for a run without validation, and null for a figure that is not finite', () => {
    const log = trainedRun({ validated: false });
    log.epochs[1]!.train.loss = NaN;
    log.steps[2]!.loss = Infinity;
    const [run] = compareSeries([compared('no validation', log)]);
    expect(run!.epochs.map((e) => [e.validationLoss, e.validationAccuracy])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(run!.epochs[1]!.trainLoss).toBeNull();
    // A failed step stays in the series as recorded: the chart's smoothing skips it.
    expect(run!.steps[2]!.loss).toBe(Infinity);
  });
});

describe('sharedExtent', () => {
  it("ends every run's axis at the longest run's last step and epoch", () => {
    const series = compareSeries([compared('short', trainedRun({ epochs: 1 })), compared('long', trainedRun())]);
    expect(sharedExtent(series)).toEqual({ steps: 6, epochs: 2 });
    expect(sharedExtent(compareSeries([compared('empty', trainedRun({ epochs: 0 }))]))).toEqual({ steps: 0, epochs: 0 });
  });
});

describe('overlayRows', () => {
  it('puts each distinct x once, in order, with only the values each line has there', () => {
    const rows = overlayRows([
      { key: 'a', points: [{ x: 3, y: 0.4 }, { x: 1, y: 1 }, { x: 2, y: 0.5 }] },
      { key: 'b', points: [{ x: 1, y: 2 }, { x: 4, y: null }] },
    ]);
    expect(rows).toEqual([{ x: 1, a: 1, b: 2 }, { x: 2, a: 0.5 }, { x: 3, a: 0.4 }, { x: 4, b: null }]);
  });
});

describe('liveChangesSummary', () => {
  it('lists every change in step order, from the value before it, at the step the charts mark it (from 1)', () => {
    const log = trainedRun({
      changes: [
        { step: 4, change: { kind: 'freezeDepth', value: 5 }, trainableParams: 0 },
        { step: 2, change: { kind: 'freezeDepth', value: 3 }, trainableParams: 0 },
        { step: 2, change: { kind: 'classWeighting', value: 'off' }, trainableParams: 0 },
        { step: 5, change: { kind: 'batchNormPolicy', value: 'train' }, trainableParams: 0 },
      ],
    });
    expect(liveChangesSummary(log)).toBe('k=0 → k=3 at step 3; weights=balanced → weights=off at step 3; k=3 → k=5 at step 5; BN=frozen → BN=train at step 6');
    expect(liveChangesSummary(trainedRun())).toBe('lr=1e-3 → lr=5e-4 at step 4');
    expect(liveChangesSummary(trainedRun({ changes: [] }))).toBe('none');
  });

  it('starts each "train more" from its own settings', () => {
    const log = trainedRun({
      changes: [
        { step: 3, change: { kind: 'freezeDepth', value: 2 }, trainableParams: 0 },
        { step: 7, change: { kind: 'learningRate', value: 1e-4 }, trainableParams: 0 },
      ],
    });
    log.runs.push({ settings: settings({ freezeDepth: 5, learningRate: 2.5e-4 }), firstStep: 6, firstEpoch: 2, startedAt: '2025-03-14T09:01:00.000Z', ended: null });
    expect(liveChangesSummary(log)).toBe('k=0 → k=2 at step 4; lr=2.5e-4 → lr=1e-4 at step 8');
  });
});

describe('settingsTable', () => {
  it("shows a run's settings, data and results as the page names them", () => {
    const rows = settingsTable([compared('a', trainedRun())]);
    expect(rows.map((r) => r.label)).toEqual([
      'Image size',
      'Resize',
      'Normalization',
      'Augmentation',
      'Freeze depth at start',
      'Live changes',
      'Class weighting',
      'Learning rate (head, peak)',
      'Schedule',
      'Warm-up',
      'Optimizer',
      'Backbone LR multiplier',
      'Batch size',
      'Epochs',
      'Dropout',
      'BatchNorm',
      'Seed',
      'Backend',
      'Dataset',
      'Split',
      'Images (train / validation / test)',
      'Status',
      'Epochs done',
      'Best validation accuracy',
      'Best validation macro-F1',
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.label, r.values[0]]))).toEqual({
      'Image size': '224 px',
      Resize: 'stretch',
      Normalization: 'caffe',
      Augmentation: 'off',
      'Freeze depth at start': 'k=0: head only',
      'Live changes': 'lr=1e-3 → lr=5e-4 at step 4',
      'Class weighting': 'balanced',
      'Learning rate (head, peak)': '1e-3',
      Schedule: 'warmup-cosine',
      'Warm-up': '10 steps',
      Optimizer: 'adam',
      'Backbone LR multiplier': '× 0.1',
      'Batch size': '4',
      Epochs: '2',
      Dropout: '0.2',
      BatchNorm: 'frozen',
      Seed: '42',
      Backend: 'wasm, 2 threads',
      Dataset: 'cats',
      Split: 'its folders',
      'Images (train / validation / test)': '12 / 6 / 3',
      Status: 'completed',
      'Epochs done': '2',
      // The fixture's hand calculation: accuracy 5/6 at epoch 1, macro-F1 2/3 at epoch 2.
      'Best validation accuracy': '83.3% at epoch 1',
      'Best validation macro-F1': '0.667 at epoch 2',
    });
    expect(rows.map((r) => r.section)).toEqual([...new Array<string>(17).fill('settings'), ...new Array<string>(4).fill('data'), ...new Array<string>(4).fill('results')]);
    // One run differs from nothing.
    expect(rows.some((r) => r.differs)).toBe(false);
  });

  it('flags exactly the rows whose values differ', () => {
    const rows = settingsTable([
      compared('a', trainedRun()),
      compared('b', trainedRun({ epochs: 1, config: { learningRate: 3e-4, freezeDepth: 3 }, changes: [] })),
    ]);
    expect(rows.filter((r) => r.differs).map((r) => r.label)).toEqual([
      'Freeze depth at start',
      'Live changes',
      'Learning rate (head, peak)',
      'Status',
      'Epochs done',
      'Best validation macro-F1',
    ]);
    expect(values(rows, 'Freeze depth at start')).toEqual(['k=0: head only', 'k=3: head + res5a and up (3 blocks)']);
    expect(values(rows, 'Learning rate (head, peak)')).toEqual(['1e-3', '3e-4']);
    expect(values(rows, 'Status')).toEqual(['completed', 'running']);
    // b's only epoch is a's first: the same best accuracy, and macro-F1 (8/9 + 1 + 0) / 3 = 0.630.
    expect(values(rows, 'Best validation accuracy')).toEqual(['83.3% at epoch 1', '83.3% at epoch 1']);
    expect(values(rows, 'Best validation macro-F1')).toEqual(['0.667 at epoch 2', '0.630 at epoch 1']);
  });

  it('shows a run without validation as having no best figures and no validation images', () => {
    const rows = settingsTable([compared('validated', trainedRun()), compared('not', trainedRun({ validated: false }))]);
    expect(values(rows, 'Best validation accuracy')).toEqual(['83.3% at epoch 1', '—']);
    expect(values(rows, 'Best validation macro-F1')).toEqual(['0.667 at epoch 2', '—']);
    expect(values(rows, 'Images (train / validation / test)')).toEqual(['12 / 6 / 3', '12 / 0 / 3']);
    expect(row(rows, 'Images (train / validation / test)').differs).toBe(true);
  });

  it('adds a row for a run trained more and uses the settings of its last segment', () => {
    const more = trainedRun();
    more.runs.push({ settings: settings({ freezeDepth: 5, learningRate: 2.5e-4 }), firstStep: 6, firstEpoch: 2, startedAt: '2025-03-14T09:01:00.000Z', ended: { at: '2025-03-14T09:01:09.000Z', status: 'stopped' } });
    const rows = settingsTable([compared('once', trainedRun()), compared('more', more)]);
    expect(row(rows, 'Training runs')).toEqual({ label: 'Training runs', values: ['1', '2: the first, then 1 × train more'], differs: true, section: 'settings' });
    // The 5 blocks from the top: res5c, res5b, res5a, res4f, res4e.
    expect(values(rows, 'Freeze depth at start')[1]).toBe('k=5: head + res4e and up (5 blocks)');
    expect(values(rows, 'Learning rate (head, peak)')[1]).toBe('2.5e-4');
    expect(values(rows, 'Status')[1]).toBe('stopped');
    expect(settingsTable([compared('once', trainedRun())]).some((r) => r.label === 'Training runs')).toBe(false);
  });

  it('adds validation normalization only when a run sets one of its own', () => {
    const rows = settingsTable([compared('bug', trainedRun({ prepared: { validationNormalization: 'unit' } })), compared('plain', trainedRun())]);
    expect(row(rows, 'Validation normalization')).toEqual({ label: 'Validation normalization', values: ['unit', 'the same'], differs: true, section: 'settings' });
    expect(rows.findIndex((r) => r.label === 'Validation normalization')).toBe(rows.findIndex((r) => r.label === 'Normalization') + 1);
  });

  it('names the other optimizer, schedule, micro-batches, split, folder and backends', () => {
    const log: RunLog = trainedRun({ rootName: null, config: { optimizer: 'sgd', momentum: 0.8, schedule: 'constant', microBatchSize: 2 } });
    log.dataset.splitSource = 'stratified';
    log.dataset.splitOptions = { validationFraction: 0.25, seed: 7 };
    const gpu = trainedRun();
    gpu.backend = { name: 'webgpu', skipped: [], wasmThreads: null, crossOriginIsolated: false };
    const none = trainedRun();
    none.backend = null;
    const rows = settingsTable([compared('sgd', log), compared('gpu', gpu), compared('none', none)]);
    expect(values(rows, 'Optimizer')[0]).toBe('sgd, momentum 0.8');
    expect(values(rows, 'Warm-up')[0]).toBe('none (constant schedule)');
    expect(values(rows, 'Batch size')[0]).toBe('4, micro-batches of 2');
    expect(values(rows, 'Split')[0]).toBe('stratified, 25% validation, seed 7');
    expect(values(rows, 'Dataset')[0]).toBe('(no folder name)');
    expect(values(rows, 'Backend')).toEqual(['wasm, 2 threads', 'webgpu', '—']);
  });

  it('shows "—" for the settings of a run that never started', () => {
    const log = { ...trainedRun({ epochs: 0 }), runs: [] };
    const rows = settingsTable([compared('never', log)]);
    expect(values(rows, 'Image size')).toEqual(['—']);
    expect(values(rows, 'Learning rate (head, peak)')).toEqual(['—']);
    expect(values(rows, 'Live changes')).toEqual(['none']);
    expect(values(rows, 'Status')).toEqual(['—']);
    expect(values(rows, 'Epochs done')).toEqual(['0']);
    expect(values(rows, 'Best validation accuracy')).toEqual(['—']);
  });
});
