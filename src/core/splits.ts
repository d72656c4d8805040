// Splitting a labelled image list into training and validation, stratified by class and
// reproducible from a seed the user sees.

import { fnv1a64 } from './hash';
import { createPrng, shuffledIndices } from './prng';

export interface SplitOptions {
  /** Share of each class held out for validation. Default: 0.2. */
  validationFraction: number;
  /** Default: 42. */
  seed: number;
}

export const DEFAULT_SPLIT_OPTIONS: Readonly<SplitOptions> = Object.freeze({ validationFraction: 0.2, seed: 42 });

/**
 * Indices of the training and validation images. Each class gives round(n · fraction) images to
 * validation, at least one when it has two or more, and always keeps at least one for training.
 *
 * With `keys` (the images' paths), each class's images are ranked by a seeded hash of their own
 * key, so an image's split does not depend on the others: leaving one image out, or filing it
 * under another class, moves at most one other image per class it touches (where round(n ·
 * fraction) changes), instead of reshuffling the whole split. Without keys, a seeded shuffle.
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: SplitOptions = DEFAULT_SPLIT_OPTIONS, keys?: readonly string[]): { train: number[]; validation: number[] } {
  if (keys && keys.length !== labels.length) throw new Error(`stratifiedSplit: ${keys.length} keys for ${labels.length} labels`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!) ?? [];
    members.push(i);
    byClass.set(labels[i]!, members);
  }
  const random = createPrng(options.seed);
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(label)!;
    const order = keys ? rankedByKey(members, keys, options.seed) : shuffledIndices(members.length, random).map((i) => members[i]!);
    const held = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * options.validationFraction)));
    validation.push(...order.slice(0, held));
    train.push(...order.slice(held));
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/** `members` ordered by a seeded 32-bit hash of their keys (FNV-1a, then mixed by one mulberry32 round), ties by index. */
function rankedByKey(members: readonly number[], keys: readonly string[], seed: number): number[] {
  const rank = new Map(members.map((i) => [i, createPrng((Number.parseInt(fnv1a64(keys[i]!).slice(0, 8), 16) ^ seed) >>> 0)()]));
  return [...members].sort((a, b) => rank.get(a)! - rank.get(b)! || a - b);
}
