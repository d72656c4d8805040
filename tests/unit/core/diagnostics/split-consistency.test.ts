import { describe, expect, it } from 'vitest';
import type { InputStatistics } from '../../../../src/core/diagnostics/input-normalization';
import { detectSplitMismatch } from '../../../../src/core/diagnostics/split-consistency';
import { statisticsFor } from './fixtures';

/** Caffe-like statistics with every channel at the given mean, std 57 (ImageNet's pixel std). */
const caffeLike = (mean: number, imageCount: number, std = 57): InputStatistics => ({
  channelOrder: 'bgr',
  imageCount,
  channels: [0, 1, 2].map(() => ({ mean, std, min: -120, max: 150 })),
});

describe('detectSplitMismatch', () => {
  it('fires critical when the splits were made by different specs, and offers to align them', () => {
    const finding = detectSplitMismatch({ train: { specHash: 'aaaa' }, validation: { specHash: 'bbbb' } })!;
    expect(finding.id).toBe('split/spec-mismatch');
    expect(finding.severity).toBe('critical');
    expect(finding.fix?.kind).toBe('alignValidationSpec');
  });

  it('fires critical on equal hashes but a scale no photo collection explains ([0, 1] vs caffe), without a fix the spec cannot give', () => {
    const finding = detectSplitMismatch({
      train: { specHash: 'same', statistics: statisticsFor('caffe') },
      validation: { specHash: 'same', statistics: { ...statisticsFor('unit', 20), channelOrder: 'bgr' } },
    })!;
    expect(finding.id).toBe('split/statistics-mismatch');
    expect(finding.severity).toBe('critical');
    expect(finding.fix).toBeNull();
  });

  it('warns on a small but significant shift, offering to align specs when the hashes are unknown', () => {
    // SE = 57 · √(1/2000 + 1/500) = 2.85, so a shift of 20 is z = 7.0 and d = 20 / 57 = 0.35.
    const finding = detectSplitMismatch({ train: { statistics: caffeLike(0, 2000) }, validation: { statistics: caffeLike(20, 500) } })!;
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('7.02 standard errors');
    expect(finding.fix?.kind).toBe('alignValidationSpec');
  });

  it('treats channels in a different order as a spec mismatch', () => {
    const finding = detectSplitMismatch({ train: { statistics: caffeLike(0, 100) }, validation: { statistics: { ...caffeLike(0, 100), channelOrder: 'rgb' } } });
    expect(finding?.id).toBe('split/spec-mismatch');
  });

  it('stays silent on equal specs and statistics the image counts explain', () => {
    // SE = 57 · √(1/100 + 1/20) = 13.96: a shift of 10 is z = 0.72, chance.
    expect(detectSplitMismatch({ train: { specHash: 'h', statistics: caffeLike(0, 100) }, validation: { specHash: 'h', statistics: caffeLike(10, 20) } })).toBeNull();
    // Two samples of the same synthetic photos (different seeds).
    expect(detectSplitMismatch({ train: { statistics: statisticsFor('caffe', 40, 1) }, validation: { statistics: statisticsFor('caffe', 20, 2) } })).toBeNull();
    // A significant shift that is negligible in size: z = 10 / (57 · √(2/100000)) = 39, but d = 0.18 < 0.2.
    expect(detectSplitMismatch({ train: { statistics: caffeLike(0, 100_000) }, validation: { statistics: caffeLike(10, 100_000) } })).toBeNull();
    expect(detectSplitMismatch({ train: { specHash: 'h' }, validation: {} })).toBeNull();
  });
});
