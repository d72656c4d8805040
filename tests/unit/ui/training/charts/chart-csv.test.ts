// The CSV files behind the charts: every step (not the points drawn), counted from 1, RFC 4180.

import { describe, expect, it } from 'vitest';
import { classesCsv, confusionCsv, epochsCsv, stepsCsv, toCsv } from '../../../../../src/ui/training/charts/chart-csv';
import { smoothLosses, stepSeries } from '../../../../../src/ui/training/downsample';
import type { ChangeRecord } from '../../../../../src/state/lab-state';
import { epochRecord, stepRecord } from '../../../state/fixtures';

const lines = (csv: string) => csv.split('\r\n').slice(0, -1);

describe('smoothLosses', () => {
  it('is the debiased EMA of stepSeries, one value per step, null for a failed step', () => {
    const losses = [2, 1, NaN, 0.5];
    const smoothed = smoothLosses(losses, 0.6);
    expect(smoothed[0]).toBeCloseTo(2, 12);
    expect(smoothed[1]).toBeCloseTo(1.375, 12); // 0.88 / 0.64, as in downsample.test.ts
    expect(smoothed[2]).toBeNull();
    // The failed step is skipped: the third finite loss is the EMA's third point.
    expect(smoothed[3]).toBeCloseTo((0.6 * 0.88 + 0.4 * 0.5) / (1 - 0.6 ** 3), 12);
    const series = stepSeries(losses.map((loss, step) => ({ step, loss })), 400, 0.6);
    expect(series.map((p) => p.smoothed)).toEqual(smoothed.filter((v) => v !== null));
  });
});

describe('stepsCsv', () => {
  it('holds every step of a long run, though the chart draws at most 400 points', () => {
    const steps = Array.from({ length: 1_000 }, (_, n) => stepRecord(n));
    expect(stepSeries(steps).length).toBeLessThanOrEqual(400);
    const rows = lines(stepsCsv(steps, [], 0.6));
    expect(rows).toHaveLength(1 + 1_000);
    expect(rows[0]).toBe('step,epoch,loss,smoothed,learning_rate,freeze_depth,batch_size,changes');
    // stepRecord(0): loss 0.7, lr 1e-3, depth 0, batch 4; epoch ⌊0 / 2⌋ = 0; the EMA of a constant is it.
    const [step, epoch, loss, smoothed, ...rest] = rows[1]!.split(',');
    expect([step, epoch, loss, rest]).toEqual(['1', '1', '0.7', ['0.001', '0', '4', '']]);
    expect(Number(smoothed)).toBeCloseTo(0.7, 12);
    expect(rows.at(-1)!.startsWith('1000,500,0.7,')).toBe(true);
  });

  it('writes a failed step as NaN with no smoothed value, and names the changes at their step', () => {
    const steps = [stepRecord(0), { ...stepRecord(1), loss: NaN }, stepRecord(2)];
    const changes: ChangeRecord[] = [
      { step: 2, change: { kind: 'freezeDepth', value: 1 }, trainableParams: 10 },
      { step: 2, change: { kind: 'classWeighting', value: 'off' }, trainableParams: 10 },
    ];
    const rows = lines(stepsCsv(steps, changes, 0));
    expect(rows[2]).toBe('2,1,NaN,,0.001,0,4,');
    expect(rows[3]).toBe('3,2,0.7,0.7,0.001,0,4,k=1 · weights=off');
  });
});

describe('the other charts', () => {
  it('writes a row per epoch, validation empty where there was none', () => {
    const epochs = [epochRecord(0), { ...epochRecord(1), validation: null }];
    expect(lines(epochsCsv(epochs, 'loss'))).toEqual(['epoch,train_loss,validation_loss', '1,0.6,0.65', '2,0.6,']);
    expect(lines(epochsCsv(epochs, 'accuracy'))).toEqual(['epoch,train_accuracy,validation_accuracy', '1,0.5,0.5', '2,0.5,']);
  });

  it('writes per-class metrics and the matrix with their class names, quoted where they hold a comma or a quote', () => {
    const names = ['cats, big', 'say "hi"'];
    const perClass = [
      { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
      { precision: 0, recall: 0, f1: 0, support: 0 },
    ];
    expect(lines(classesCsv(names, perClass))).toEqual(['class,precision,recall,f1,support', `"cats, big",1,0.5,${2 / 3},2`, '"say ""hi""",0,0,0,0']);
    expect(lines(confusionCsv(names, [[3, 1], [0, 2]]))).toEqual(['actual \\ predicted,"cats, big","say ""hi"""', '"cats, big",3,1', '"say ""hi""",0,2']);
  });

  it('ends every record with CRLF', () => {
    expect(toCsv(['a'], [[1]])).toBe('a\r\n1\r\n');
  });
});
