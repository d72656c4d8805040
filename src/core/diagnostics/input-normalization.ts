// Rule: the network is fed something other than what its ImageNet weights were trained on. The
// Keras ResNet50 weights expect "caffe" input (BGR, 0..255, ImageNet mean subtracted); feeding
// x/255 first, [0, 1], [-1, 1] or PyTorch-style standardised pixels makes every image look alike
// to it, and fine-tuning then starts from features that carry almost nothing.

import type { ChannelMoments } from './statistics';
import { CAFFE_MEAN_BGR, TORCH_MEAN_RGB, TORCH_STD_RGB, type NormalizationMode } from '../preprocess-spec';
import { formatNumber, formatPercent } from './format';
import { describeClass, summarizeProbe, type ImageNetProbe, type ProbeSummary } from './imagenet-probe';
import type { ChannelStatistics } from './statistics';
import type { Evidence, Finding } from './types';

export type ChannelOrder = 'rgb' | 'bgr';

/** Statistics of preprocessed network inputs, as fed. */
export interface InputStatistics {
  /** One entry per channel, in the order the network receives them, over every pixel of the sample. */
  channels: readonly ChannelStatistics[];
  /** What channels 0, 1, 2 hold as fed: 'bgr' for caffe and x/255-then-caffe, 'rgb' otherwise. */
  channelOrder: ChannelOrder;
  /** Images the statistics were computed over. */
  imageCount: number;
  /**
   * Per image, per channel: what a comparison of two samples needs for its sampling error (the
   * image is the unit that varies between samples, not the pixel).
   */
  perImage?: readonly (readonly ChannelMoments[])[];
}

export interface InputNormalizationInput {
  statistics: InputStatistics;
  /** The ImageNet head on a sample of the user's images under the current preprocessing, if run. */
  currentProbe?: ImageNetProbe;
  /** The same images under caffe preprocessing, if run: shows what the fix would give. */
  caffeProbe?: ImageNetProbe;
}

/** Every scaling the rule can recognise: the lab's modes, and raw 0..255 RGB (no preprocessing at all). */
export type InputScaling = NormalizationMode | 'raw-0-255';

export interface ScalingVerdict {
  /** The closest known scaling, or 'unrecognized' when none fits. */
  scaling: InputScaling | 'unrecognized';
  /** Mean over channels of |mean offset| in ImageNet std units + |ln std ratio|; 0 = exactly ImageNet-like. */
  distance: number;
}

/** ImageNet's pixel statistics in RGB order, 0..255 (torchvision's constants × 255). */
const IMAGENET_MEAN_RGB = TORCH_MEAN_RGB.map((m) => m * 255);
const IMAGENET_STD_RGB = TORCH_STD_RGB.map((s) => s * 255);

/**
 * Below this many images the statistics can be one odd photo (a black frame looks like anything
 * with zero spread): no verdict. Hand rule.
 */
export const MIN_IMAGES_FOR_VERDICT = 8;

/**
 * A scaling is ruled out when the sample's min or max maps back to a pixel value outside 0..255 by
 * more than this (resamplers other than ours may overshoot a little before clamping). Hand rule.
 */
const PIXEL_SLACK_LEVELS = 4;

/**
 * A non-caffe scaling farther than this from ImageNet-like pixels is called unrecognised: 3 is a
 * dataset whose pixel means sit ~2 ImageNet standard deviations off and whose contrast is ~e×
 * off at the same time, beyond any photo collection. Hand rule.
 */
const UNRECOGNIZED_DISTANCE = 3;

/**
 * Collapse: the pretrained head files at least this share of the images under at most
 * COLLAPSE_MAX_CLASSES classes, none above COLLAPSE_MAX_PROBABILITY. Measured here: with the
 * x/255-then-caffe bug every real photo went to 'web site' (916) or 'television' (851) at
 * 5.2–5.6%; with caffe the same photos got their correct classes at 87–99%.
 */
const COLLAPSE_SHARE = 0.8;
const COLLAPSE_MAX_CLASSES = 3;
const COLLAPSE_MAX_PROBABILITY = 0.1;

const MAX_IMAGE_IDS = 12;

/** Each scaling as an affine map from pixel value p (0..255) to fed value, per fed channel: v = p · scale + offset. */
interface ScalingSignature {
  scaling: InputScaling;
  order: ChannelOrder;
  scale: readonly number[];
  offset: readonly number[];
}

const CAFFE_SIGNATURE: ScalingSignature = { scaling: 'caffe', order: 'bgr', scale: [1, 1, 1], offset: CAFFE_MEAN_BGR.map((m) => -m) };

const SIGNATURES: readonly ScalingSignature[] = [
  CAFFE_SIGNATURE,
  { scaling: 'div255-then-caffe', order: 'bgr', scale: [1 / 255, 1 / 255, 1 / 255], offset: CAFFE_MEAN_BGR.map((m) => -m) },
  { scaling: 'unit', order: 'rgb', scale: [1 / 255, 1 / 255, 1 / 255], offset: [0, 0, 0] },
  { scaling: 'symmetric', order: 'rgb', scale: [1 / 127.5, 1 / 127.5, 1 / 127.5], offset: [-1, -1, -1] },
  { scaling: 'torch', order: 'rgb', scale: TORCH_STD_RGB.map((s) => 1 / (255 * s)), offset: TORCH_MEAN_RGB.map((m, c) => -m / TORCH_STD_RGB[c]!) },
  { scaling: 'raw-0-255', order: 'rgb', scale: [1, 1, 1], offset: [0, 0, 0] },
];

const SCALING_NAME: Record<InputScaling | 'unrecognized', string> = {
  caffe: 'caffe',
  'div255-then-caffe': 'x/255 then caffe',
  unit: '[0, 1] scaling',
  symmetric: '[−1, 1] scaling',
  torch: 'PyTorch standardisation',
  'raw-0-255': 'raw 0..255 RGB',
  unrecognized: 'no known preprocessing',
};

/** What each wrong scaling does to what the network sees. */
const CONSEQUENCE: Record<Exclude<InputScaling, 'caffe'> | 'unrecognized', string> = {
  'div255-then-caffe': 'Dividing by 255 before subtracting the caffe mean leaves every image a near-constant, so the network sees the same black picture every time.',
  unit: 'In 0..1 the network sees nearly black images without contrast.',
  symmetric: 'In −1..1 the network sees nearly flat grey images.',
  torch: "PyTorch's standardisation leaves about 60 times too little contrast for these Keras weights.",
  'raw-0-255': 'Without the mean subtracted, and with red and blue swapped, every image looks too bright and off-colour to the network.',
  unrecognized: 'No 0..255 image gives these values under caffe preprocessing.',
};

/**
 * Which preprocessing the statistics look like: the feasible signature closest to ImageNet-like
 * pixels. Raw 0..255 is the one exception: it differs from caffe only by a shift of ~2 ImageNet
 * standard deviations, which a bright dataset (no pixel darker than ~120) also produces under
 * caffe, so it is named only when caffe cannot produce the values at all.
 */
export function identifyInputScaling(statistics: InputStatistics): ScalingVerdict {
  const caffeFeasible = Number.isFinite(signatureDistance(statistics.channels, CAFFE_SIGNATURE));
  let best: ScalingVerdict = { scaling: 'unrecognized', distance: Infinity };
  for (const signature of SIGNATURES) {
    if (signature.scaling === 'raw-0-255' && caffeFeasible) continue;
    const distance = signatureDistance(statistics.channels, signature);
    if (distance < best.distance) best = { scaling: signature.scaling, distance };
  }
  // Odd data under the right scaling is the domain rule's business, not this one's.
  if (best.scaling !== 'caffe' && !(best.distance <= UNRECOGNIZED_DISTANCE)) return { scaling: 'unrecognized', distance: best.distance };
  return best;
}

/** Infinity when the sample cannot come from 0..255 pixels under this scaling. */
function signatureDistance(channels: readonly ChannelStatistics[], signature: ScalingSignature): number {
  if (channels.length !== 3) return Infinity;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    const { mean, std, min, max } = channels[c]!;
    const scale = signature.scale[c]!;
    const offset = signature.offset[c]!;
    const toPixel = (v: number) => (v - offset) / scale;
    if (toPixel(min) < -PIXEL_SLACK_LEVELS || toPixel(max) > 255 + PIXEL_SLACK_LEVELS) return Infinity;
    const source = signature.order === 'bgr' ? 2 - c : c;
    const meanOffset = Math.abs(toPixel(mean) - IMAGENET_MEAN_RGB[source]!) / IMAGENET_STD_RGB[source]!;
    // A constant channel (std 0) is as far from ImageNet's contrast as a float can say.
    const contrast = Math.abs(Math.log(Math.max(std / scale, Number.MIN_VALUE) / IMAGENET_STD_RGB[source]!));
    total += meanOffset + contrast;
  }
  return total / 3;
}

export function detectInputNormalization(input: InputNormalizationInput): Finding | null {
  const { statistics } = input;
  if (statistics.imageCount < MIN_IMAGES_FOR_VERDICT) return null;
  const verdict = identifyInputScaling(statistics);
  if (verdict.scaling === 'caffe') return statistics.channelOrder === 'bgr' ? null : channelOrderFinding(input);

  const probe = input.currentProbe ? probeSentence(summarizeProbe(input.currentProbe)) : '';
  const means = statistics.channels.map((c) => formatNumber(c.mean, 4)).join(', ');
  const spreads = statistics.channels.map((c) => formatNumber(c.std, 2)).join(', ');
  return {
    id: 'input/wrong-normalization',
    severity: 'critical',
    title: 'Images are not scaled the way the pretrained weights expect',
    explanation:
      `Your network inputs look like ${SCALING_NAME[verdict.scaling]}: channel means ${means}, spreads ${spreads}. ` +
      `The pretrained ResNet50 expects caffe preprocessing (BGR, 0..255 minus the ImageNet mean: means within ±30, spreads 50–70). ${CONSEQUENCE[verdict.scaling]}${probe}`,
    evidence: [channelEvidence(statistics, verdict), ...probeEvidence(input)],
    fix: { kind: 'setNormalization', value: 'caffe', label: 'Use caffe preprocessing' },
  };
}

function channelOrderFinding(input: InputNormalizationInput): Finding {
  return {
    id: 'input/channel-order',
    severity: 'critical',
    title: 'Red and blue channels are swapped',
    explanation:
      'Your inputs have caffe scaling but arrive in RGB order; the pretrained ResNet50 was trained on BGR, so it sees red things as blue and blue things as red.',
    evidence: [channelEvidence(input.statistics, { scaling: 'caffe', distance: NaN }), ...probeEvidence(input)],
    fix: { kind: 'setNormalization', value: 'caffe', label: 'Use caffe preprocessing (BGR)' },
  };
}

function channelEvidence(statistics: InputStatistics, verdict: ScalingVerdict): Evidence {
  const names = statistics.channelOrder === 'bgr' ? ['B', 'G', 'R'] : ['R', 'G', 'B'];
  const rows = statistics.channels.map((ch, c) => ({
    label: `Channel ${c} (${names[c]}) mean ± std, range`,
    value: `${formatNumber(ch.mean, 4)} ± ${formatNumber(ch.std, 3)}, ${formatNumber(ch.min, 4)}..${formatNumber(ch.max, 4)}`,
  }));
  return {
    kind: 'numbers',
    rows: [
      ...rows,
      { label: 'Expected (caffe)', value: 'means −30..+30, std 50–70, range about −124..+151' },
      { label: 'Looks like', value: SCALING_NAME[verdict.scaling] },
      { label: 'Images measured', value: String(statistics.imageCount) },
    ],
  };
}

/** The leading predicted classes when a few classes take almost every image, else null. */
function collapsedClasses(summary: ProbeSummary) {
  let covered = 0;
  for (let k = 0; k < Math.min(COLLAPSE_MAX_CLASSES, summary.classes.length); k++) {
    covered += summary.classes[k]!.count;
    if (covered >= COLLAPSE_SHARE * summary.imageCount) {
      return summary.maxTop1 <= COLLAPSE_MAX_PROBABILITY ? { classes: summary.classes.slice(0, k + 1), covered } : null;
    }
  }
  return null;
}

function probeSentence(summary: ProbeSummary): string {
  if (summary.imageCount === 0) return '';
  const collapse = collapsedClasses(summary);
  if (!collapse) return ` On your images the pretrained network's mean confidence is ${formatPercent(summary.meanTop1)}.`;
  const which = collapse.classes.map(describeClass).join(' or ');
  return ` As a result the pretrained network files ${collapse.covered} of ${summary.imageCount} of your images under ${which}, never above ${formatPercent(summary.maxTop1)} confidence.`;
}

function probeEvidence(input: InputNormalizationInput): Evidence[] {
  if (!input.currentProbe || input.currentProbe.predictions.length === 0) return [];
  const current = summarizeProbe(input.currentProbe);
  const rows = [
    { label: 'Images classified by the ImageNet head', value: String(current.imageCount) },
    { label: 'Most frequent predictions', value: current.classes.slice(0, 3).map((c) => `${describeClass(c)} ×${c.count}`).join(', ') },
    { label: 'Top-1 probability (mean, highest)', value: `${formatPercent(current.meanTop1)}, ${formatPercent(current.maxTop1)}` },
  ];
  if (input.caffeProbe && input.caffeProbe.predictions.length > 0) {
    const caffe = summarizeProbe(input.caffeProbe);
    rows.push({ label: 'Same images under caffe (mean top-1, distinct classes)', value: `${formatPercent(caffe.meanTop1)}, ${caffe.classes.length}` });
  }
  const top = current.classes[0]!;
  const imageIds = input.currentProbe.predictions.filter((p) => p.classIndex === top.classIndex).map((p) => p.imageId);
  return [
    { kind: 'numbers', rows },
    { kind: 'images', label: `Images the pretrained network calls ${describeClass(top)}`, imageIds: imageIds.slice(0, MAX_IMAGE_IDS) },
  ];
}
