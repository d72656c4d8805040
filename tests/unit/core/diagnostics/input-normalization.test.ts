import { describe, expect, it } from 'vitest';
import {
  detectInputNormalization,
  identifyInputScaling,
  type InputScaling,
  type InputStatistics,
} from '../../../../src/core/diagnostics/input-normalization';
import type { ImageNetProbe } from '../../../../src/core/diagnostics/imagenet-probe';
import { channelMoments, toChannelStatistics } from '../../../../src/core/diagnostics/statistics';
import { CAFFE_TOP1_MEASURED, normalize, statisticsFor, syntheticPhotos } from './fixtures';

/**
 * Measured here on real photos with the x/255-then-caffe bug: every image went to 'web site' (916)
 * or 'television' (851) at 5.2–5.6%.
 */
const COLLAPSED_PROBE: ImageNetProbe = {
  predictions: [0.052, 0.054, 0.056, 0.053, 0.055, 0.052, 0.056, 0.054, 0.053, 0.055].map((probability, i) => ({
    imageId: `train/cat/${i}.jpg`,
    classIndex: i < 7 ? 916 : 851,
    label: i < 7 ? 'web site' : 'television',
    probability,
  })),
};
const CAFFE_PROBE: ImageNetProbe = {
  predictions: CAFFE_TOP1_MEASURED.map((probability, i) => ({ imageId: `train/cat/${i}.jpg`, classIndex: 281 + (i % 3), probability })),
};

describe('identifyInputScaling', () => {
  it.each<InputScaling>(['caffe', 'div255-then-caffe', 'unit', 'symmetric', 'torch', 'raw-0-255'])(
    'recognises %s from the statistics of synthetic photos preprocessed that way',
    (scaling) => {
      expect(identifyInputScaling(statisticsFor(scaling)).scaling).toBe(scaling);
    },
  );

  it("recognises the brief's hand figures: caffe means within ±30 and std 50–70; x/255-then-caffe near −103.5/−116.3/−123.2 with std < 0.5", () => {
    const caffe: InputStatistics = {
      channelOrder: 'bgr',
      imageCount: 50,
      channels: [
        { mean: -12, std: 55, min: -103.9, max: 151 },
        { mean: 3, std: 60, min: -116.8, max: 138.2 },
        { mean: 25, std: 66, min: -123.7, max: 131.3 },
      ],
    };
    expect(identifyInputScaling(caffe).scaling).toBe('caffe');
    const div255: InputStatistics = {
      channelOrder: 'bgr',
      imageCount: 50,
      channels: [
        { mean: -103.5, std: 0.22, min: -103.939, max: -102.939 },
        { mean: -116.3, std: 0.23, min: -116.779, max: -115.779 },
        { mean: -123.2, std: 0.24, min: -123.68, max: -122.68 },
      ],
    };
    expect(identifyInputScaling(div255).scaling).toBe('div255-then-caffe');
  });

  it('keeps calling caffe input caffe when the photos are all bright (no pixel below 125), which raw 0..255 could also produce', () => {
    // Under caffe these give channel minima 21, 8 and 1: feasible as raw pixels too, and closer to ImageNet's means as such.
    const bright = syntheticPhotos(16).map((v) => 125 + (v * 130) / 255);
    const statistics: InputStatistics = { channels: toChannelStatistics(channelMoments(normalize(bright, 'caffe'))), channelOrder: 'bgr', imageCount: 16 };
    expect(identifyInputScaling(statistics).scaling).toBe('caffe');
  });

  it('calls values no 0..255 image can produce under any known scaling unrecognized', () => {
    const odd: InputStatistics = {
      channelOrder: 'rgb',
      imageCount: 50,
      channels: [0, 1, 2].map(() => ({ mean: 500, std: 300, min: -900, max: 1000 })),
    };
    expect(identifyInputScaling(odd).scaling).toBe('unrecognized');
  });
});

describe('detectInputNormalization', () => {
  it('fires critical on the x/255-then-caffe bug, with the prediction collapse as evidence and caffe as the fix', () => {
    const finding = detectInputNormalization({ statistics: statisticsFor('div255-then-caffe'), currentProbe: COLLAPSED_PROBE, caffeProbe: CAFFE_PROBE })!;
    expect(finding.id).toBe('input/wrong-normalization');
    expect(finding.severity).toBe('critical');
    expect(finding.fix).toEqual({ kind: 'setNormalization', value: 'caffe', label: 'Use caffe preprocessing' });
    expect(finding.explanation).toContain('x/255 then caffe');
    expect(finding.explanation).toContain('10 of 10 of your images under web site (916) or television (851), never above 5.6% confidence');
    const numbers = finding.evidence.filter((e) => e.kind === 'numbers').flatMap((e) => e.rows);
    expect(numbers).toContainEqual({ label: 'Most frequent predictions', value: 'web site (916) ×7, television (851) ×3' });
    // Mean of CAFFE_TOP1_MEASURED is 0.94; three distinct classes.
    expect(numbers).toContainEqual({ label: 'Same images under caffe (mean top-1, distinct classes)', value: '94.0%, 3' });
    const images = finding.evidence.find((e) => e.kind === 'images');
    expect(images?.kind === 'images' && images.imageIds).toHaveLength(7);
  });

  it.each<InputScaling>(['unit', 'symmetric', 'torch', 'raw-0-255'])('fires critical on %s input', (scaling) => {
    const finding = detectInputNormalization({ statistics: statisticsFor(scaling) });
    expect(finding?.severity).toBe('critical');
    expect(finding?.fix?.kind).toBe('setNormalization');
  });

  it('stays silent on caffe input, and without enough images to judge', () => {
    expect(detectInputNormalization({ statistics: statisticsFor('caffe'), currentProbe: CAFFE_PROBE })).toBeNull();
    expect(detectInputNormalization({ statistics: statisticsFor('unit', 7) })).toBeNull();
  });

  it('names swapped channels when caffe-scaled values arrive in RGB order', () => {
    const finding = detectInputNormalization({ statistics: { ...statisticsFor('caffe'), channelOrder: 'rgb' } });
    expect(finding?.id).toBe('input/channel-order');
    expect(finding?.severity).toBe('critical');
  });
});
