import { describe, expect, it } from 'vitest';
import { detectDomainGap, type ImageProfile } from '../../../../src/core/diagnostics/domain-gap';
import type { ImageNetProbe } from '../../../../src/core/diagnostics/imagenet-probe';
import { CAFFE_TOP1_MEASURED } from './fixtures';

const photos = (n: number, grayscale: number, tiny: number): ImageProfile[] =>
  Array.from({ length: n }, (_, i) => ({ id: `train/x/${i}.png`, width: i < tiny ? 48 : 640, height: i < tiny ? 40 : 480, grayscale: i < grayscale }));
const probe = (top1: readonly number[], meanNormalizedEntropy?: number): ImageNetProbe => ({
  predictions: top1.map((probability, i) => ({ imageId: `train/x/${i}.png`, classIndex: i, probability })),
  ...(meanNormalizedEntropy === undefined ? {} : { meanNormalizedEntropy }),
});

describe('detectDomainGap', () => {
  it('stays silent on colour photos the pretrained network recognises at 87–99% (measured here)', () => {
    expect(detectDomainGap({ images: photos(20, 1, 0), caffeProbe: probe(CAFFE_TOP1_MEASURED, 0.12) })).toBeNull();
    expect(detectDomainGap({ images: photos(20, 0, 0) })).toBeNull();
  });

  it('only mentions the gap, with no advice to unfreeze, once the run separates the classes (95% or more on validation)', () => {
    const finding = detectDomainGap({ images: photos(10, 8, 6), currentFreezeDepth: 0, currentLearningRate: 1e-3, validationAccuracy: 1 })!;
    expect(finding).toMatchObject({ id: 'data/unlike-imagenet', severity: 'info', fix: null });
    expect(finding.explanation).toContain('the run reaches 100.0% validation accuracy');
    expect(detectDomainGap({ images: photos(10, 8, 6), currentFreezeDepth: 0, currentLearningRate: 1e-3, validationAccuracy: 0.8 })?.severity).toBe('warning');
  });

  it('calls mostly grayscale, mostly tiny images very unlike ImageNet and suggests res4 + res5 at 1e-4', () => {
    const finding = detectDomainGap({ images: photos(10, 8, 6), currentFreezeDepth: 0, currentLearningRate: 1e-3 })!;
    expect(finding.id).toBe('data/unlike-imagenet');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('80.0% of your images are grayscale');
    expect(finding.fix).toEqual({ kind: 'setFreezeDepth', value: 9, learningRate: 1e-4, label: 'Train res5, res4 and the head at learning rate 0.0001' });
  });

  it('calls an unsure pretrained head (mean top-1 35%, entropy 0.5) moderately unlike: info, res5 only', () => {
    const finding = detectDomainGap({ images: photos(10, 0, 0), caffeProbe: probe([0.3, 0.4, 0.35], 0.5), currentLearningRate: 5e-5 })!;
    expect(finding.severity).toBe('info');
    expect(finding.explanation).toContain('35.0% mean confidence');
    // Never raises the learning rate: 5e-5 is already below 1e-4.
    expect(finding.fix).toMatchObject({ kind: 'setFreezeDepth', value: 3, learningRate: 5e-5 });
    const images = finding.evidence.find((e) => e.kind === 'images');
    expect(images?.kind === 'images' && images.imageIds[0]).toBe('train/x/0.png');
  });

  it('judges the mean confidence with its sampling error: 45% on four images spread 5%–95% cannot tell, on many alike it can', () => {
    // Mean 0.45, standard error 0.21: the upper bound (0.86) is far above 50%.
    expect(detectDomainGap({ images: photos(10, 0, 0), caffeProbe: probe([0.05, 0.3, 0.5, 0.95]) })).toBeNull();
    expect(detectDomainGap({ images: photos(10, 0, 0), caffeProbe: probe(Array.from({ length: 40 }, (_, i) => 0.4 + (i % 2) * 0.1)) })?.severity).toBe('info');
  });

  it('calls a very unsure head (mean top-1 12%) very unlike, and offers no fix when the run already trains enough', () => {
    const finding = detectDomainGap({ images: photos(10, 0, 0), caffeProbe: probe([0.1, 0.12, 0.14]), currentFreezeDepth: 13 })!;
    expect(finding.severity).toBe('warning');
    expect(finding.fix).toBeNull();
  });

  it('judges the mean entropy with its sampling error when each image has one: 0.7 on three images spread 0.3–0.99 cannot tell, on many alike it can', () => {
    const sure = 0.9;
    const withEntropies = (entropies: readonly number[]): ImageNetProbe => ({
      predictions: entropies.map((normalizedEntropy, i) => ({ imageId: `train/x/${i}.png`, classIndex: i, probability: sure, normalizedEntropy })),
      meanNormalizedEntropy: entropies.reduce((a, b) => a + b, 0) / entropies.length,
    });
    // Mean 0.70, standard error 0.20: the lower bound (0.31) is below even the moderate limit.
    expect(detectDomainGap({ images: photos(10, 0, 0), caffeProbe: withEntropies([0.3, 0.81, 0.99]) })).toBeNull();
    // Mean 0.70 over 40 images within ±0.02: above the strong limit (0.65).
    expect(detectDomainGap({ images: photos(10, 0, 0), caffeProbe: withEntropies(Array.from({ length: 40 }, (_, i) => 0.68 + (i % 2) * 0.04)) })?.severity).toBe('warning');
  });
});
