import { describe, expect, it } from 'vitest';
import { formatNumber, formatPercent, plural } from '../../../../src/core/diagnostics/format';
import {
  channelMoments,
  mean,
  median,
  mergeChannelMoments,
  normalizedEntropy,
  thinSeries,
  toChannelStatistics,
} from '../../../../src/core/diagnostics/statistics';

describe('median and mean', () => {
  it('match hand values, and are NaN for nothing', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mean([1, 2, 6])).toBe(3);
    expect(median([])).toBeNaN();
    expect(mean([])).toBeNaN();
  });
});

describe('channel statistics', () => {
  it('gives each channel of channels-last pixels its mean, population std, min and max (by hand)', () => {
    // Two pixels, RGB: (0, 10, 100) and (2, 10, 50).
    const [r, g, b] = toChannelStatistics(channelMoments(new Float32Array([0, 10, 100, 2, 10, 50])));
    expect(r).toEqual({ mean: 1, std: 1, min: 0, max: 2 });
    expect(g).toEqual({ mean: 10, std: 0, min: 10, max: 10 });
    expect(b).toEqual({ mean: 75, std: 25, min: 50, max: 100 });
  });

  it('merges batches into exactly the statistics of the whole', () => {
    const whole = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -5, 0, 5]);
    const merged = mergeChannelMoments(channelMoments(whole.subarray(0, 6)), channelMoments(whole.subarray(6)));
    const direct = channelMoments(whole);
    merged.forEach((m, c) => {
      expect(m.count).toBe(direct[c]!.count);
      expect(m.mean).toBeCloseTo(direct[c]!.mean, 12);
      expect(m.m2).toBeCloseTo(direct[c]!.m2, 9);
      expect([m.min, m.max]).toEqual([direct[c]!.min, direct[c]!.max]);
    });
  });

  it('keeps the tiny spread of x/255-then-caffe inputs exact (mean −103.5, std 0.225)', () => {
    // Alternating −103.5 ± 0.225: population std exactly 0.225, by construction.
    const values = Float64Array.from({ length: 3 * 10_000 }, (_, i) => -103.5 + (Math.floor(i / 3) % 2 === 0 ? 0.225 : -0.225));
    const [first] = toChannelStatistics(channelMoments(values));
    expect(first!.mean).toBeCloseTo(-103.5, 9);
    expect(first!.std).toBeCloseTo(0.225, 9);
  });
});

describe('normalizedEntropy', () => {
  it('is 0 when certain, 1 when uniform, ln 2 / ln 4 = 0.5 for two of four classes', () => {
    expect(normalizedEntropy([1, 0, 0, 0])).toBe(0);
    expect(normalizedEntropy(new Float32Array(1000).fill(0.001))).toBeCloseTo(1, 5);
    expect(normalizedEntropy([0.5, 0.5, 0, 0])).toBeCloseTo(0.5, 12);
  });
});

describe('thinSeries and formatting', () => {
  it('keeps evenly spaced points and always the last', () => {
    expect(thinSeries([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([0, 3, 6, 9]);
    expect(thinSeries([1, 2], 4)).toEqual([1, 2]);
  });
  it('formats numbers for people', () => {
    expect(formatNumber(-103.939)).toBe('-104');
    expect(formatNumber(0.0001)).toBe('0.0001');
    expect(formatNumber(1.3862943)).toBe('1.39');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatPercent(0.052)).toBe('5.2%');
    expect(plural(1, 'copy', 'copies')).toBe('1 copy');
    expect(plural(2, 'image')).toBe('2 images');
  });
});
