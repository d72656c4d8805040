// Rule: many images are far from square and the spec stretches them to one. Every object then
// reaches the network squeezed along the image's long side (a 2:1 photo's contents at half their
// width), unlike anything in ImageNet, whose examples keep their proportions; padding to a square
// on the background keeps them.

import type { ResizeRule } from '../preprocess-spec';
import { formatNumber, formatPercent } from './format';
import { median } from './statistics';
import type { Finding } from './types';

export interface AspectRatioInput {
  images: readonly { id: string; width: number; height: number }[];
  /** The run's resize rule (PreprocessSpec.resize). */
  resize: ResizeRule;
}

/**
 * From a median long-to-short side ratio of 1.5 (half the images 3:2 or more) stretching
 * distorts enough to mention (info), from 2 enough to cost accuracy (warning). Hand rule; the
 * issue that asked for it proposed 1.5:1.
 */
export const STRETCH_INFO_RATIO = 1.5;
export const STRETCH_WARNING_RATIO = 2;
const MAX_IMAGE_IDS = 12;

export function detectStretchedImages(input: AspectRatioInput): Finding | null {
  if (input.resize !== 'stretch') return null;
  const shaped = input.images.filter((im) => im.width > 0 && im.height > 0).map((im) => ({ id: im.id, ratio: Math.max(im.width, im.height) / Math.min(im.width, im.height) }));
  if (shaped.length === 0) return null;
  const typical = median(shaped.map((s) => s.ratio));
  if (!(typical >= STRETCH_INFO_RATIO)) return null;
  const beyond = (limit: number) => shaped.filter((s) => s.ratio >= limit).length / shaped.length;
  return {
    id: 'data/stretched-images',
    severity: typical >= STRETCH_WARNING_RATIO ? 'warning' : 'info',
    title: 'Stretching squeezes your images out of shape',
    explanation:
      `Half of your images are at least ${formatNumber(typical, 2)}:1, and the "stretch" rule squeezes each into a square, so what they show reaches the network ` +
      `${formatNumber(typical, 2)}× narrower along the long side than it is, unlike the photos the weights learnt from. Padding to a square on the background keeps the shapes (at the cost of some empty border).`,
    evidence: [
      {
        kind: 'numbers',
        rows: [
          { label: 'Median long : short side', value: `${formatNumber(typical, 2)} : 1` },
          { label: `Images ${STRETCH_INFO_RATIO}:1 or more`, value: formatPercent(beyond(STRETCH_INFO_RATIO)) },
          { label: `Images ${STRETCH_WARNING_RATIO}:1 or more`, value: formatPercent(beyond(STRETCH_WARNING_RATIO)) },
        ],
      },
      { kind: 'images', label: 'The most elongated', imageIds: [...shaped].sort((a, b) => b.ratio - a.ratio).slice(0, MAX_IMAGE_IDS).map((s) => s.id) },
    ],
    fix: { kind: 'setResize', value: 'pad', label: 'Pad images to a square' },
  };
}
