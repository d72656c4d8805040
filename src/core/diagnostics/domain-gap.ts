// Rule: the user's images are unlike ImageNet (grayscale scans, tiny crops, things the pretrained
// network has never seen). Its frozen features then separate the classes poorly, and training
// only the head plateaus; unfreezing the top of the backbone at a low learning rate adapts them.

import { describeFreezeDepth, FINE_TUNE_HEAD_LEARNING_RATE, RES4_FREEZE_DEPTH, RES5_FREEZE_DEPTH } from './fine-tuning';
import { Z_95 } from '../intervals';
import { formatNumber, formatPercent } from './format';
import { summarizeProbe, type ImageNetProbe } from './imagenet-probe';
import { standardErrorOfMean } from './statistics';
import type { Evidence, Finding, Fix } from './types';

/** What the data path knows about one image of the dataset. */
export interface ImageProfile {
  /** Dataset path. */
  id: string;
  /** Decoded size in pixels, before preprocessing. */
  width: number;
  height: number;
  /** True when every pixel has R = G = B (a gray image stored as colour counts). */
  grayscale: boolean;
}

export interface DomainGapInput {
  images: readonly ImageProfile[];
  /**
   * The ImageNet head on a sample of the images under caffe preprocessing, whatever the run's
   * spec: measured under a wrong normalization, every dataset would look unfamiliar.
   */
  caffeProbe?: ImageNetProbe;
  /** The run's current freeze depth (TrainingConfig.freezeDepth), if a run is set up. */
  currentFreezeDepth?: number;
  /** The run's current head learning rate (TrainingConfig.learningRate), if a run is set up. */
  currentLearningRate?: number;
  /** The latest validation accuracy, once an epoch has ended. */
  validationAccuracy?: number;
}

/**
 * From this validation accuracy the features evidently separate the classes, however unfamiliar
 * the images look to the ImageNet head: the gap is mentioned (info), with no advice to unfreeze.
 * The demo set reaches 100% head-only and used to be told to unfreeze res5. Hand rule.
 */
export const SEPARATED_VALIDATION_ACCURACY = 0.95;

/**
 * An image whose short side is below this is "tiny": upsampled to 224 px it carries little of the
 * detail the pretrained filters look for. Hand rule; 64 px is the largest of the downsampled
 * ImageNet sizes (Chrabaszcz et al. 2017: 8, 16, 32, 64 px), on which networks stay well below
 * full-resolution accuracy.
 */
export const TINY_IMAGE_SIDE_PX = 64;
/** From this share of grayscale or tiny images, the dataset's look differs from ImageNet's. Hand rule. */
export const UNUSUAL_IMAGE_SHARE = 0.5;

/**
 * The ImageNet head's mean top-1 probability and mean normalised entropy on the user's images.
 * Measured here on real photos under caffe: 87–99% top-1. Back-of-envelope for the entropy over
 * 1000 classes: top-1 0.9 gives ~0.15, top-1 0.3 with the rest over ~50 classes ~0.48, top-1 0.1
 * over ~200 classes ~0.74. "Moderately unlike" below 50% or above 0.45; "very unlike" below 25%
 * or above 0.65. Hand rules built on those numbers.
 */
export const MODERATE_MAX_TOP1 = 0.5;
export const MODERATE_MIN_ENTROPY = 0.45;
export const STRONG_MAX_TOP1 = 0.25;
export const STRONG_MIN_ENTROPY = 0.65;

/**
 * Blocks to unfreeze, at stage boundaries (blocks are counted from the top: res5 has 3, res4 6).
 * Moderately unlike: res5 only (3 blocks), the classic fine-tuning step. Very unlike: res4 and
 * res5 (9 blocks); lower stages hold edges and textures that transfer to almost any image
 * (Yosinski et al. 2014, "How transferable are features in deep neural networks?").
 */
export const MODERATE_FREEZE_DEPTH = RES5_FREEZE_DEPTH;
export const STRONG_FREEZE_DEPTH = RES4_FREEZE_DEPTH;

const MAX_IMAGE_IDS = 12;

type GapLevel = 'moderate' | 'strong';

/** One way the images differ from ImageNet. */
interface Signal {
  level: GapLevel;
  reason: string;
}

export function detectDomainGap(input: DomainGapInput): Finding | null {
  const signals = [grayscaleSignal(input.images), tinySignal(input.images), confidenceSignal(input.caffeProbe)].filter((s): s is Signal => s !== null);
  const level = overallLevel(signals);
  if (!level) return null;
  const depth = level === 'strong' ? STRONG_FREEZE_DEPTH : MODERATE_FREEZE_DEPTH;
  const separated = input.validationAccuracy !== undefined && input.validationAccuracy >= SEPARATED_VALIDATION_ACCURACY;
  const fix = separated ? null : freezeFix(depth, input);
  const advice = separated
    ? ` Still, the run reaches ${formatPercent(input.validationAccuracy!)} validation accuracy: the features separate your classes well enough, and there is nothing to change for it.`
    : fix
      ? ` Features made for ImageNet separate such images poorly, so training the head alone plateaus early; training ${describeFreezeDepth(depth)} at a lower learning rate lets them adapt.`
      : ' The run already unfreezes enough of the backbone to adapt to it.';
  return {
    id: 'data/unlike-imagenet',
    severity: level === 'strong' && !separated ? 'warning' : 'info',
    title: level === 'strong' ? 'Your images are very unlike ImageNet' : 'Your images are somewhat unlike ImageNet',
    explanation: `${capitalize(signals.map((s) => s.reason).join('; '))}.${advice}`,
    evidence: evidenceOf(input),
    fix,
  };
}

/** Any strong signal, or two moderate ones together (say grayscale and unsure), make a strong gap. */
function overallLevel(signals: readonly Signal[]): GapLevel | null {
  if (signals.some((s) => s.level === 'strong') || signals.length >= 2) return 'strong';
  return signals.length === 1 ? 'moderate' : null;
}

function grayscaleSignal(images: readonly ImageProfile[]): Signal | null {
  const share = shareOf(images, (im) => im.grayscale);
  return share >= UNUSUAL_IMAGE_SHARE ? { level: 'moderate', reason: `${formatPercent(share)} of your images are grayscale` } : null;
}

function tinySignal(images: readonly ImageProfile[]): Signal | null {
  const share = shareOf(images, isTiny);
  return share >= UNUSUAL_IMAGE_SHARE ? { level: 'moderate', reason: `${formatPercent(share)} of your images are smaller than ${TINY_IMAGE_SIDE_PX} px on their short side` } : null;
}

function confidenceSignal(probe: ImageNetProbe | undefined): Signal | null {
  const meanTop1 = probe && probe.predictions.length > 0 ? summarizeProbe(probe).meanTop1 : null;
  const entropy = probe?.meanNormalizedEntropy ?? null;
  // Both means are of a sample: the confidence counts as below a limit only when its 95% upper
  // bound is, the entropy as above one only when its 95% lower bound is (when the images'
  // entropies are known; else the mean as it is).
  const upperTop1 = meanTop1 !== null ? meanTop1 + Z_95 * standardErrorOfMean(probe!.predictions.map((p) => p.probability)) : null;
  const entropies = probe?.predictions.map((p) => p.normalizedEntropy) ?? [];
  const measured = entropies.length > 0 && entropies.every((e) => e !== undefined);
  const lowerEntropy = entropy !== null ? entropy - (measured ? Z_95 * standardErrorOfMean(entropies as number[]) : 0) : null;
  const below = (limit: number) => upperTop1 !== null && upperTop1 < limit;
  const above = (limit: number) => lowerEntropy !== null && lowerEntropy > limit;
  const level: GapLevel | null = below(STRONG_MAX_TOP1) || above(STRONG_MIN_ENTROPY) ? 'strong' : below(MODERATE_MAX_TOP1) || above(MODERATE_MIN_ENTROPY) ? 'moderate' : null;
  if (!level) return null;
  const figures = [meanTop1 !== null ? `${formatPercent(meanTop1)} mean confidence` : null, entropy !== null ? `entropy ${formatNumber(entropy, 2)} of the maximum` : null];
  return { level, reason: `the pretrained network is unsure what your images show (${figures.filter(Boolean).join(', ')}; on real photos it is 87–99% sure)` };
}

function isTiny(image: ImageProfile): boolean {
  return Math.min(image.width, image.height) < TINY_IMAGE_SIDE_PX;
}

function shareOf<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  return items.length > 0 ? items.filter(predicate).length / items.length : 0;
}

/** Unfreeze to `depth` unless the run already trains that much; never raise the learning rate. */
function freezeFix(depth: number, input: DomainGapInput): Fix | null {
  if (input.currentFreezeDepth !== undefined && input.currentFreezeDepth >= depth) return null;
  const learningRate = Math.min(input.currentLearningRate ?? FINE_TUNE_HEAD_LEARNING_RATE, FINE_TUNE_HEAD_LEARNING_RATE);
  return { kind: 'setFreezeDepth', value: depth, learningRate, label: `Train ${describeFreezeDepth(depth)} at learning rate ${formatNumber(learningRate)}` };
}

function evidenceOf(input: DomainGapInput): Evidence[] {
  const { images, caffeProbe } = input;
  const grayscale = images.filter((im) => im.grayscale);
  const tiny = images.filter(isTiny);
  const rows = [
    { label: 'Grayscale images', value: `${grayscale.length} of ${images.length}` },
    { label: `Images under ${TINY_IMAGE_SIDE_PX} px (short side)`, value: `${tiny.length} of ${images.length}` },
  ];
  const predictions = caffeProbe?.predictions ?? [];
  if (predictions.length > 0) rows.push({ label: 'ImageNet head: mean top-1 probability (caffe)', value: formatPercent(summarizeProbe(caffeProbe!).meanTop1) });
  if (caffeProbe?.meanNormalizedEntropy !== undefined) rows.push({ label: 'ImageNet head: mean entropy (0 = sure, 1 = uniform)', value: formatNumber(caffeProbe.meanNormalizedEntropy, 2) });

  const evidence: Evidence[] = [{ kind: 'numbers', rows }];
  const leastFamiliar = [...predictions].sort((a, b) => a.probability - b.probability).map((p) => p.imageId);
  const imageSets: [string, string[]][] = [
    ['Least familiar to the pretrained network', leastFamiliar],
    ['Grayscale images', grayscale.map((im) => im.id)],
    ['Tiny images', tiny.map((im) => im.id)],
  ];
  for (const [label, ids] of imageSets) if (ids.length > 0) evidence.push({ kind: 'images', label, imageIds: ids.slice(0, MAX_IMAGE_IDS) });
  return evidence;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
