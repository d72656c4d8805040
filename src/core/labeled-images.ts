// The one shape in which a split of images reaches the training engine: the data path produces
// it (decode pool in the browser, files in Node tests), the engine reads it in batches.

export interface LabeledImages {
  size: number;
  /** Class index of each image. */
  labels: Int32Array;
  /** A stable id per image (its path), for the feature cache. */
  ids: readonly string[];
  /** Hash of the preprocessing spec that produced the pixels. */
  specHash: string;
  sizePx: number;
  /** True when load() augments (a new random crop each time): such images are never cached. */
  augmented: boolean;
  /** Pixels of these images, [n, sizePx, sizePx, 3] channels last. */
  load(indices: readonly number[]): Promise<Float32Array>;
}
