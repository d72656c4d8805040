// Fine-tuning facts the rules share: where ResNet50's stages begin when blocks are counted from
// the top (TrainingConfig.freezeDepth), and the learning rates that suit pretrained weights.

import { MAX_FREEZE_DEPTH } from '../training-config';

/**
 * Freeze depths that end at a stage boundary, counting blocks from the top: res5 has 3 blocks,
 * res4 6, res3 4, res2 3, then the stem. Unfreezing whole stages keeps each stage's blocks
 * (which share a resolution) trained alike.
 */
export const STAGE_BOUNDARY_DEPTHS: readonly number[] = [0, 3, 9, 13, 16, MAX_FREEZE_DEPTH];
/** Freeze depth that trains res5 (its 3 blocks) and the head. */
export const RES5_FREEZE_DEPTH = 3;
/** Freeze depth that trains res4 and res5 (9 blocks) and the head. */
export const RES4_FREEZE_DEPTH = 9;

/** What a freeze depth at a stage boundary trains, for explanations and button labels. */
export function describeFreezeDepth(depth: number): string {
  if (depth === 0) return 'the head only';
  const stages = ['res5', 'res4', 'res3', 'res2', 'stem'];
  const index = STAGE_BOUNDARY_DEPTHS.indexOf(depth);
  return index > 0 ? `${stages.slice(0, index).join(', ')} and the head` : `the top ${depth} blocks and the head`;
}

/** The largest stage boundary below `depth`: one stage fewer to train. */
export function previousStageBoundary(depth: number): number {
  return [...STAGE_BOUNDARY_DEPTHS].reverse().find((d) => d < depth) ?? 0;
}

/**
 * Head learning rate when the backbone is unfrozen. With the default backbone multiplier of 0.1
 * the backbone then trains at 1e-5, the rate the Keras transfer-learning guide fine-tunes with.
 */
export const FINE_TUNE_HEAD_LEARNING_RATE = 1e-4;
/** The Keras transfer-learning guide's fine-tuning learning rate (Adam), for unfrozen pretrained weights. */
export const FINE_TUNE_BACKBONE_LEARNING_RATE = 1e-5;
