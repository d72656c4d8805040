// Splitting a labelled image list into training and validation, stratified by class and
// reproducible from a seed the user sees.

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
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: SplitOptions = DEFAULT_SPLIT_OPTIONS): { train: number[]; validation: number[] } {
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
    const order = shuffledIndices(members.length, random).map((i) => members[i]!);
    const held = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * options.validationFraction)));
    validation.push(...order.slice(0, held));
    train.push(...order.slice(held));
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}
