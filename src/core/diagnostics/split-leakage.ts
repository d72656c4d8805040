// Rule: the same picture sits in training and in validation (or test). The model is then graded
// on images it has memorised, so validation numbers flatter it, and copies filed under different
// classes teach it contradictions.

import type { SplitName } from '../dataset';
import { formatPercent, plural } from './format';
import { DIFFERENCE_HASH_BITS, hammingDistance, maxSignatureDifference } from './perceptual-hash';
import type { Evidence, Finding } from './types';

export interface ImageFingerprint {
  /** Dataset path. */
  id: string;
  split: SplitName;
  /** differenceHash() of the decoded image. */
  differenceHash: string;
  /** A hash of the file's bytes (any algorithm, the same for every image), when computed: equal means byte-identical. */
  contentHash?: string;
  /** The image's class, to spot copies filed under different classes. */
  classIndex?: number;
  /** Mean R, G, B (0..255) over white: dHash sees only grey-level structure, so a recoloured drawing matches it. */
  meanColor?: readonly [number, number, number];
  /** Width / height of the decoded image: dHash squeezes every image to 9×8, whatever its shape. */
  aspectRatio?: number;
  /** colorSignature() of the decoded image: a 12 × 12 colour grid, to check a dHash match cell by cell. */
  signature?: ArrayLike<number>;
}

export interface SplitLeakageInput {
  images: readonly ImageFingerprint[];
  /** Largest dHash distance that still counts as the same picture. Default: NEAR_DUPLICATE_MAX_BITS. */
  nearDuplicateMaxBits?: number;
}

/**
 * At most 4 of 64 dHash bits apart = the same picture (re-encoded, resized, slightly brightened).
 * Hand rule on the conservative side: Krawetz calls 1–10 bits "a variation" of one image, and
 * beyond ~5 bits different photos of similar scenes start to match. Distance 0 with the same
 * bytes is an exact copy; distance 0 with other bytes is the same picture saved differently.
 */
export const NEAR_DUPLICATE_MAX_BITS = 4;

/**
 * A near duplicate must also have about the same colours: at most this far apart on any mean
 * channel (0..255). Re-encoding or resizing moves the means by a level or two; stamps6's blue and
 * green fedora, the same drawing recoloured, are ~40 apart and are different pictures.
 */
export const NEAR_DUPLICATE_MAX_COLOR_DIFFERENCE = 12;

/**
 * And about the same shape: resizing or re-encoding keeps the aspect ratio to a pixel or two. On
 * stamps6, hammer.png (129×127) and wrench.png (100×78), two diagonal tools on white, are 3 bits
 * apart in dHash but 25% apart in aspect ratio.
 */
export const NEAR_DUPLICATE_MAX_ASPECT_CHANGE = 0.05;

/**
 * Near duplicates below this share of the held-out images are reported as info: on stamps6 the
 * one pair (two stoplight drawings that differ only in the lit lamp, 1 of 22 validation images)
 * moves validation accuracy by at most 4.5 points. Any byte-identical copy is a warning.
 */
export const LEAKAGE_WARNING_SHARE = 0.05;

/**
 * And the same picture everywhere: no cell of the 12 × 12 colour grid more than this apart (0..255).
 * Measured on stamps6's 112 images: a JPEG re-encode (quality 75) moves a cell by at most 10, a
 * half-size resize by at most 56 (edges cross cell borders); the three stoplights (0 bits apart
 * in dHash, one lamp lit each) differ by 167, mallet and wrench (3 bits) by 224.
 */
export const NEAR_DUPLICATE_MAX_CELL_DIFFERENCE = 96;

function samePicture(a: ImageFingerprint, b: ImageFingerprint): boolean {
  const colors = !a.meanColor || !b.meanColor || a.meanColor.every((value, c) => Math.abs(value - b.meanColor![c]!) <= NEAR_DUPLICATE_MAX_COLOR_DIFFERENCE);
  const shape = !a.aspectRatio || !b.aspectRatio || Math.abs(Math.log(a.aspectRatio / b.aspectRatio)) <= NEAR_DUPLICATE_MAX_ASPECT_CHANGE;
  const cells = !a.signature || !b.signature || maxSignatureDifference(a.signature, b.signature) <= NEAR_DUPLICATE_MAX_CELL_DIFFERENCE;
  return colors && shape && cells;
}

/** The hash of a flat image (every neighbour pair equal): it says nothing, and every flat image shares it. */
const UNINFORMATIVE_HASH = '0'.repeat(DIFFERENCE_HASH_BITS / 4);

const SPLIT_ORDER: Record<SplitName, number> = { train: 0, validation: 1, test: 2 };
const MAX_IMAGE_IDS = 24;

export interface DuplicatePair {
  /** The image in the later split (validation before test): the one to drop. */
  copy: ImageFingerprint;
  /** Its closest match in an earlier split. */
  original: ImageFingerprint;
  /** dHash distance in bits. */
  distance: number;
  /** Byte-identical files. */
  exact: boolean;
}

/**
 * For every validation or test image, its closest copy in an earlier split (train, then
 * validation), if any: byte-identical files first, then the nearest dHash within `maxBits`.
 */
export function findCrossSplitDuplicates(images: readonly ImageFingerprint[], maxBits = NEAR_DUPLICATE_MAX_BITS): DuplicatePair[] {
  const byContent = groupBy(images, (im) => im.contentHash);
  const bands = nibbleBands(maxBits);
  const byBand = new Map<string, ImageFingerprint[]>();
  for (const image of images) {
    if (image.differenceHash === UNINFORMATIVE_HASH) continue;
    for (const key of bandKeys(image.differenceHash, bands)) pushTo(byBand, key, image);
  }

  const pairs: DuplicatePair[] = [];
  for (const copy of images) {
    if (SPLIT_ORDER[copy.split] === 0) continue;
    const earlier = (other: ImageFingerprint) => SPLIT_ORDER[other.split] < SPLIT_ORDER[copy.split];
    const exact = (copy.contentHash !== undefined ? byContent.get(copy.contentHash) ?? [] : []).find(earlier);
    if (exact) {
      pairs.push({ copy, original: exact, distance: hammingDistance(copy.differenceHash, exact.differenceHash), exact: true });
      continue;
    }
    if (copy.differenceHash === UNINFORMATIVE_HASH) continue;
    const near = nearest(copy, bandKeys(copy.differenceHash, bands).flatMap((key) => byBand.get(key) ?? []).filter((other) => earlier(other) && samePicture(copy, other)));
    if (near && near.distance <= maxBits) pairs.push({ copy, original: near.image, distance: near.distance, exact: false });
  }
  return pairs;
}

export function detectSplitLeakage(input: SplitLeakageInput): Finding | null {
  const maxBits = input.nearDuplicateMaxBits ?? NEAR_DUPLICATE_MAX_BITS;
  const pairs = findCrossSplitDuplicates(input.images, maxBits);
  if (pairs.length === 0) return null;

  const exact = pairs.filter((p) => p.exact).length;
  const conflicting = pairs.filter((p) => p.copy.classIndex !== undefined && p.original.classIndex !== undefined && p.copy.classIndex !== p.original.classIndex).length;
  const heldOut = input.images.filter((im) => SPLIT_ORDER[im.split] > 0).length;
  const conflict =
    conflicting > 0
      ? ` ${conflicting} of them ${conflicting === 1 ? 'is' : 'are'} filed under a different class than the original, which also teaches the model contradictory labels.`
      : '';
  return {
    id: 'data/split-leakage',
    severity: exact > 0 || pairs.length / Math.max(1, heldOut) >= LEAKAGE_WARNING_SHARE ? 'warning' : 'info',
    title: 'Validation images also appear in training',
    explanation:
      `Of your validation and test images, ${pairs.length} (${formatPercent(pairs.length / heldOut)}) are copies of images in an earlier split: ${exact} byte-identical, ${pairs.length - exact} the same picture saved differently. ` +
      `The model is graded on pictures it has already seen, so its validation scores look better than they will be on new images.${conflict}`,
    evidence: evidenceOf(pairs, exact, conflicting, maxBits),
    fix: { kind: 'dropImages', imageIds: pairs.map((p) => p.copy.id), label: `Drop ${plural(pairs.length, 'copy', 'copies')} from validation and test` },
  };
}

function evidenceOf(pairs: readonly DuplicatePair[], exact: number, conflicting: number, maxBits: number): Evidence[] {
  const shown = pairs.slice(0, MAX_IMAGE_IDS);
  return [
    {
      kind: 'numbers',
      rows: [
        { label: 'Byte-identical copies', value: String(exact) },
        { label: `Near-identical (≤ ${maxBits} of ${DIFFERENCE_HASH_BITS} hash bits differ)`, value: String(pairs.length - exact) },
        { label: 'Copies under a different class', value: String(conflicting) },
      ],
    },
    { kind: 'images', label: 'Copies in validation or test', imageIds: shown.map((p) => p.copy.id) },
    { kind: 'images', label: 'Their originals, in the same order', imageIds: shown.map((p) => p.original.id) },
  ];
}

function nearest(copy: ImageFingerprint, candidates: readonly ImageFingerprint[]): { image: ImageFingerprint; distance: number } | null {
  let best: { image: ImageFingerprint; distance: number } | null = null;
  for (const image of candidates) {
    const distance = hammingDistance(copy.differenceHash, image.differenceHash);
    if (!best || distance < best.distance) best = { image, distance };
  }
  return best;
}

/**
 * Splits the 16 hex digits into maxBits + 1 disjoint bands. Two hashes at most maxBits apart
 * differ in at most maxBits bands, so they agree exactly on at least one (pigeonhole): looking up
 * bands finds every near duplicate without comparing every pair (multi-index hashing, Norouzi et
 * al. 2012). Past 15 bits there are not enough digits, and one empty band compares all pairs.
 */
function nibbleBands(maxBits: number): [number, number][] {
  const digits = DIFFERENCE_HASH_BITS / 4;
  const count = maxBits + 1;
  if (count > digits) return [[0, 0]];
  return Array.from({ length: count }, (_, i) => [Math.floor((i * digits) / count), Math.floor(((i + 1) * digits) / count)]);
}

function bandKeys(hash: string, bands: readonly [number, number][]): string[] {
  return bands.map(([start, end], i) => `${i}:${hash.slice(start, end)}`);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) pushTo(groups, k, item);
  }
  return groups;
}

function pushTo<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}
