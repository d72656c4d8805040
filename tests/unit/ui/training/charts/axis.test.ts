// The loss and fraction axes: from 0 to a nice number on a linear scale, nice powers on a log one,
// ticks written short, and an axis as wide as its longest tick.

import { describe, expect, it } from 'vitest';
import { axisWidthPx, formatPercentTick, formatTick, linearAxis, logAxis, lossAxis } from '../../../../../src/ui/training/charts/axis';

describe('linearAxis', () => {
  it('starts at 0 and ends at the first nice step at or above the largest value', () => {
    // 2.3 / 5 = 0.46 → step 0.5 (nice steps 1, 2, 2.5, 5 × 10^k), top ⌈2.3 / 0.5⌉ · 0.5 = 2.5.
    expect(linearAxis(2.3)).toEqual({ domain: [0, 2.5], ticks: [0, 0.5, 1, 1.5, 2, 2.5] });
    // 0.785 (the value whose label was cut): 0.157 → step 0.2, top 0.8.
    expect(linearAxis(0.785)).toEqual({ domain: [0, 0.8], ticks: [0, 0.2, 0.4, 0.6, 0.8] });
    // 1.1: 0.22 → step 0.25, no 0.30000000000000004 among the ticks.
    expect(linearAxis(1.1).ticks).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(linearAxis(0.3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    expect(linearAxis(1).domain).toEqual([0, 1]);
  });

  it('falls back to 0–1 without a positive finite value', () => {
    expect(linearAxis(0).domain).toEqual([0, 1]);
    expect(linearAxis(NaN).domain).toEqual([0, 1]);
  });
});

describe('logAxis', () => {
  it('spans a few decades with 1, 2, 5 × 10^k from the nice number below the smallest value to the one above the largest', () => {
    expect(logAxis(0.03, 2.3)).toEqual({ domain: [0.02, 5], ticks: [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5] });
    expect(logAxis(0.1, 1)).toEqual({ domain: [0.1, 1], ticks: [0.1, 0.2, 0.5, 1] });
  });

  it('keeps powers of ten over more than three decades, and at most 8 ticks, the top one kept', () => {
    expect(logAxis(2e-4, 3)).toEqual({ domain: [1e-4, 10], ticks: [1e-4, 1e-3, 0.01, 0.1, 1, 10] });
    const wide = logAxis(1e-20, 2);
    expect(wide.domain).toEqual([1e-20, 10]);
    expect(wide.ticks.length).toBeLessThanOrEqual(8);
    expect(wide.ticks.at(-1)).toBe(10);
  });

  it('gives a flat loss an axis around it', () => {
    expect(logAxis(0.5, 0.5).domain).toEqual([0.5, 1]);
  });
});

describe('lossAxis', () => {
  it('ignores non-finite values, and zeros on a log scale', () => {
    expect(lossAxis([0.4, NaN, Infinity, null, 1.9], 'linear').domain).toEqual([0, 2]);
    expect(lossAxis([0, 0.4, 1.9], 'log').domain).toEqual([0.2, 2]);
  });
});

describe('tick labels', () => {
  it('writes at most 3 significant digits, tiny and huge values as powers', () => {
    expect([0, 0.25, 2.5, 0.001, 1e-4, 2.5e-5, 12_000, 1 / 3].map(formatTick)).toEqual(['0', '0.25', '2.5', '0.001', '1e-4', '2.5e-5', '1.2e4', '0.333']);
    expect([0, 0.25, 1].map(formatPercentTick)).toEqual(['0%', '25%', '100%']);
  });

  it('widens the axis for its longest label: "0.785" needs more than "0.8"', () => {
    expect(axisWidthPx(['0', '0.785'])).toBeGreaterThan(axisWidthPx(['0', '0.8']));
    // 5 characters at 11 px × 0.62 = 34.1 → 35, plus 14 for the tick line and air.
    expect(axisWidthPx(['0.785'])).toBe(49);
  });
});
