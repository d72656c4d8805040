import { describe, expect, it } from 'vitest';
import type { InputStatistics } from '../../../../src/core/diagnostics/input-normalization';
import { detectSplitMismatch } from '../../../../src/core/diagnostics/split-consistency';
import { channelMoments, mergeChannelMoments, toChannelStatistics } from '../../../../src/core/diagnostics/statistics';
import { createPrng } from '../../../../src/core/prng';
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

describe('detectSplitMismatch with each image’s statistics (what the worker sends)', () => {
  /**
   * `count` images of 8 × 8 pixels from a varied collection: mostly light drawings on white, one
   * in five dark (brightness 60 or −90, ± 15), each with its own contrast (std 10..60). How many
   * dark ones a sample of 16 gets swings its pixel std, as on stamps6. `shift` and `scale` change
   * every image the way a different preprocessing would.
   */
  function images(count: number, seed: number, { shift = 0, scale = 1 } = {}): InputStatistics {
    const random = createPrng(seed);
    const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const perImage = Array.from({ length: count }, () => {
      const brightness = (random() < 0.2 ? -90 : 60) + 15 * gaussian();
      const contrast = 10 + 50 * random();
      const pixels = Float32Array.from({ length: 8 * 8 * 3 }, () => (brightness + contrast * gaussian()) * scale + shift);
      return channelMoments(pixels);
    });
    const all = perImage.reduce((merged, m) => mergeChannelMoments(merged, m));
    return { channelOrder: 'bgr', imageCount: count, channels: toChannelStatistics(all), perImage };
  }

  it.each([16, 48])('raises nothing above info over 20 pairs of %i-image samples of the same collection', (count) => {
    const severities = Array.from({ length: 20 }, (_, i) => detectSplitMismatch({ train: { specHash: 'h', statistics: images(count, 100 + i) }, validation: { specHash: 'h', statistics: images(count, 200 + i) } })?.severity ?? 'none');
    expect(severities.filter((s) => s !== 'none' && s !== 'info')).toEqual([]);
  });

  it('says "too few images to tell" (info) where the old pixel-std test warned: a spread ratio the sample size explains', () => {
    // Searched for: a pair whose pixel stds differ by more than 1.5× although both come from the same collection.
    const pair = Array.from({ length: 200 }, (_, i) => ({ train: images(16, 300 + i), validation: images(16, 600 + i) })).find(({ train, validation }) => {
      const ratio = Math.max(train.channels[0]!.std, validation.channels[0]!.std) / Math.min(train.channels[0]!.std, validation.channels[0]!.std);
      return ratio > 1.5;
    })!;
    expect(pair).toBeDefined();
    const withoutImages = { train: { statistics: { ...pair.train, perImage: undefined } }, validation: { statistics: { ...pair.validation, perImage: undefined } } };
    expect(detectSplitMismatch(withoutImages)?.severity).toBe('warning');
    const finding = detectSplitMismatch({ train: { statistics: pair.train }, validation: { statistics: pair.validation } })!;
    expect(finding).toMatchObject({ id: 'split/statistics-undecided', severity: 'info', fix: null });
    expect(finding.explanation).toContain('two samples of the same folder differ that much');
  });

  it('still finds validation images processed differently (48 images a split): brightened by 60 levels, or with 2.5× the contrast', () => {
    const brightened = detectSplitMismatch({ train: { specHash: 'h', statistics: images(48, 1) }, validation: { specHash: 'h', statistics: images(48, 2, { shift: 60 }) } });
    expect(brightened).toMatchObject({ id: 'split/statistics-mismatch' });
    expect(['warning', 'critical']).toContain(brightened!.severity);
    const contrast = detectSplitMismatch({ train: { specHash: 'h', statistics: images(48, 3) }, validation: { specHash: 'h', statistics: images(48, 4, { scale: 2.5 }) } });
    expect(contrast).toMatchObject({ id: 'split/statistics-mismatch', severity: 'critical' });
  });

  it('with 16 images a split, the same brightening is "too few images to tell", not silence', () => {
    // The images' means spread by ~60 here, so 16 a split give a standard error of ~21: 60 is under 4 of them.
    const finding = detectSplitMismatch({ train: { specHash: 'h', statistics: images(16, 1) }, validation: { specHash: 'h', statistics: images(16, 2, { shift: 60 }) } });
    expect(finding).toMatchObject({ id: 'split/statistics-undecided', severity: 'info' });
  });
});
