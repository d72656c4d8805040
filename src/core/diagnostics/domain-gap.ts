// Rule: the user's images are unlike ImageNet (grayscale scans, tiny crops, things the pretrained
// network has never seen). Its frozen features then separate the classes poorly, and training
// only the head plateaus; unfreezing the top of the backbone at a low learning rate adapts them.

import { describeFreezeDepth, FINE_TUNE_HEAD_LEARNING_RATE, RES4_FREEZE_DEPTH, RES5_FREEZE_DEPTH } from './fine-tuning';
import { formatNumber, formatPercent } from './format';
import { summarizeProbe, type ImageNetProbe } from './imagenet-probe';
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
}

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

interface Signals {
  grayscale: ImageProfile[];
  tiny: ImageProfile[];
  meanTop1: number | null;
  meanEntropy: number | null;
  reasons: string[];
  level: GapLevel | null;
}

export function detectDomainGap(input: DomainGapInput): Finding | null {
  const signals = measure(input);
  if (!signals.level) return null;
  const depth = signals.level === 'strong' ? STRONG_FREEZE_DEPTH : MODERATE_FREEZE_DEPTH;
  const fix = freezeFix(depth, input);
  const advice = fix
    ? ` Features made for ImageNet separate such images poorly, so training the head alone plateaus early; training ${describeFreezeDepth(depth)} at a lower learning rate lets them adapt.`
    : ' The run already unfreezes enough of the backbone to adapt to it.';
  return {
    id: 'data/unlike-imagenet',
    severity: signals.level === 'strong' ? 'warning' : 'info',
    title: signals.level === 'strong' ? 'Your images are very unlike ImageNet' : 'Your images are somewhat unlike ImageNet',
    explanation: `${capitalize(signals.reasons.join('; '))}.${advice}`,
    evidence: evidenceOf(input, signals),
    fix,
  };
}

function measure(input: DomainGapInput): Signals {
  const { images } = input;
  const grayscale = images.filter((im) => im.grayscale);
  const tiny = images.filter((im) => Math.min(im.width, im.height) < TINY_IMAGE_SIDE_PX);
  const probe = input.caffeProbe && input.caffeProbe.predictions.length > 0 ? summarizeProbe(input.caffeProbe) : null;
  const meanTop1 = probe ? probe.meanTop1 : null;
  const meanEntropy = input.caffeProbe?.meanNormalizedEntropy ?? null;

  const reasons: string[] = [];
  let moderate = 0;
  let strong = 0;
  const share = (n: number) => (images.length > 0 ? n / images.length : 0);
  if (share(grayscale.length) >= UNUSUAL_IMAGE_SHARE) {
    moderate++;
    reasons.push(`${formatPercent(share(grayscale.length))} of your images are grayscale`);
  }
  if (share(tiny.length) >= UNUSUAL_IMAGE_SHARE) {
    moderate++;
    reasons.push(`${formatPercent(share(tiny.length))} of your images are smaller than ${TINY_IMAGE_SIDE_PX} px on their short side`);
  }
  const veryUnsure = (meanTop1 !== null && meanTop1 < STRONG_MAX_TOP1) || (meanEntropy !== null && meanEntropy > STRONG_MIN_ENTROPY);
  const unsure = (meanTop1 !== null && meanTop1 < MODERATE_MAX_TOP1) || (meanEntropy !== null && meanEntropy > MODERATE_MIN_ENTROPY);
  if (veryUnsure) strong++;
  else if (unsure) moderate++;
  if (veryUnsure || unsure) {
    const parts = [meanTop1 !== null ? `${formatPercent(meanTop1)} mean confidence` : '', meanEntropy !== null ? `entropy ${formatNumber(meanEntropy, 2)} of the maximum` : ''];
    reasons.push(`the pretrained network is unsure what your images show (${parts.filter(Boolean).join(', ')}; on real photos it is 87–99% sure)`);
  }
  // Two independent moderate signals (say grayscale and unsure) add up to a strong one.
  const level: GapLevel | null = strong > 0 || moderate >= 2 ? 'strong' : moderate === 1 ? 'moderate' : null;
  return { grayscale, tiny, meanTop1, meanEntropy, reasons, level };
}

/** Unfreeze to `depth` unless the run already trains that much; never raise the learning rate. */
function freezeFix(depth: number, input: DomainGapInput): Fix | null {
  if (input.currentFreezeDepth !== undefined && input.currentFreezeDepth >= depth) return null;
  const learningRate = Math.min(input.currentLearningRate ?? FINE_TUNE_HEAD_LEARNING_RATE, FINE_TUNE_HEAD_LEARNING_RATE);
  return { kind: 'setFreezeDepth', value: depth, learningRate, label: `Train ${describeFreezeDepth(depth)} at learning rate ${formatNumber(learningRate)}` };
}

function evidenceOf(input: DomainGapInput, signals: Signals): Evidence[] {
  const n = input.images.length;
  const rows = [
    { label: 'Grayscale images', value: `${signals.grayscale.length} of ${n}` },
    { label: `Images under ${TINY_IMAGE_SIDE_PX} px (short side)`, value: `${signals.tiny.length} of ${n}` },
  ];
  if (signals.meanTop1 !== null) rows.push({ label: 'ImageNet head: mean top-1 probability (caffe)', value: formatPercent(signals.meanTop1) });
  if (signals.meanEntropy !== null) rows.push({ label: 'ImageNet head: mean entropy (0 = sure, 1 = uniform)', value: formatNumber(signals.meanEntropy, 2) });
  const evidence: Evidence[] = [{ kind: 'numbers', rows }];
  const leastFamiliar = input.caffeProbe ? [...input.caffeProbe.predictions].sort((a, b) => a.probability - b.probability) : [];
  if (leastFamiliar.length > 0) evidence.push({ kind: 'images', label: 'Least familiar to the pretrained network', imageIds: leastFamiliar.slice(0, MAX_IMAGE_IDS).map((p) => p.imageId) });
  if (signals.grayscale.length > 0) evidence.push({ kind: 'images', label: 'Grayscale images', imageIds: signals.grayscale.slice(0, MAX_IMAGE_IDS).map((im) => im.id) });
  if (signals.tiny.length > 0) evidence.push({ kind: 'images', label: 'Tiny images', imageIds: signals.tiny.slice(0, MAX_IMAGE_IDS).map((im) => im.id) });
  return evidence;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
