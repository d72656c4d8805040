// How the training views write numbers and the marks of mid-run changes.

import { describe, expect, it } from 'vitest';
import { changeLabel, changeMarks, formatBytes, formatCount, formatDuration, formatMs } from '../../../../src/ui/training/format';

describe('format', () => {
  it('writes counts and durations the way the progress line shows them', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(4_480_000)).toBe('4.48 M');
    expect(formatCount(23_500_000)).toBe('23.5 M');
    expect(formatDuration(7_400)).toBe('7 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(Infinity)).toBe('—');
  });

  it('writes file sizes in decimal units, as the export buttons show them', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2_345)).toBe('2.3 kB');
    expect(formatBytes(94_123_456)).toBe('94.1 MB');
    expect(formatMs(340.4)).toBe('340 ms');
    expect(formatMs(2_460)).toBe('2.5 s');
  });

  it('labels a change by its kind and value', () => {
    expect(changeLabel('freezeDepth', 1)).toBe('k=1');
    expect(changeLabel('learningRate', 0.0003)).toBe('lr=3e-4');
    expect(changeLabel('classWeighting', 'off')).toBe('weights=off');
  });
});

describe('changeMarks', () => {
  // ChangeRecords as the worker sends them (trainableParams does not matter to the marks).
  const change = (step: number, kind: 'freezeDepth' | 'classWeighting' | 'learningRate' | 'batchNormPolicy', value: number | string) => ({ step, change: { kind, value }, trainableParams: 0 });

  it('gives changes at the same step one mark with both labels, so they never print over each other', () => {
    const marks = changeMarks([change(4, 'freezeDepth', 1), change(4, 'classWeighting', 'off'), change(9, 'learningRate', 0.001)], (c) => c.step);
    expect(marks).toEqual([
      { x: 4, label: 'k=1 · weights=off' },
      { x: 9, label: 'lr=1e-3' },
    ]);
  });

  it('keeps the last value of a kind changed twice at one step, and maps positions (steps to epochs)', () => {
    const marks = changeMarks([change(6, 'freezeDepth', 3), change(6, 'freezeDepth', 2)], (c) => c.step / 4);
    expect(marks).toEqual([{ x: 1.5, label: 'k=2' }]);
  });
});
