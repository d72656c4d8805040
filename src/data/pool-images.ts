// A split of the open dataset as the training engine reads it: images decoded and preprocessed
// by the decode pool, in batches, augmented (training split only) when asked.

import type { DatasetEntry } from '../core/dataset';
import type { LabeledImages } from '../core/labeled-images';
import { LabError } from '../core/errors';
import { preprocessSpecHash, type PreprocessSpec } from '../core/preprocess-spec';
import type { DecodeReply, DecodeRequest } from './decode-job';
import type { WorkerPool } from './worker-pool';

export type PooledImages = LabeledImages;

export interface PooledImagesOptions {
  pool: WorkerPool<DecodeRequest, DecodeReply>;
  entries: readonly DatasetEntry[];
  files: readonly (File | null)[];
  spec: PreprocessSpec;
  /** Random resized crop + flip with this seed, a new draw each epoch; null: never. */
  augment: { seed: number; epochOf: () => number } | null;
}

export function pooledImages({ pool, entries, files, spec, augment }: PooledImagesOptions): PooledImages {
  const perImage = spec.sizePx * spec.sizePx * 3;
  return {
    size: entries.length,
    labels: Int32Array.from(entries, (e) => e.classIndex),
    ids: entries.map((e) => e.path),
    specHash: preprocessSpecHash(spec),
    sizePx: spec.sizePx,
    augmented: augment !== null,
    async load(indices) {
      const batch = new Float32Array(indices.length * perImage);
      const epoch = augment?.epochOf() ?? 0;
      await Promise.all(
        indices.map(async (index, j) => {
          const entry = entries[index]!;
          const reply = await pool.run({
            file: files[entry.fileIndex]!,
            name: entry.path,
            spec,
            augment: augment ? { seed: augment.seed, epoch, imageIndex: index } : null,
            thumbnailPx: null,
          });
          if (!reply.ok) throw new LabError(reply.error.code, reply.error.message, entry.path);
          batch.set(reply.pixels!, j * perImage);
        }),
      );
      return batch;
    },
  };
}
