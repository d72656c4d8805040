// One decoding job, as a decode worker runs it: decode, optionally a thumbnail, optionally
// preprocess (with training-only augmentation). The worker entry only forwards messages here.

import { colorSignature, differenceHash, rgbaToGray } from '../core/diagnostics';
import { serializeError, type SerializedError } from '../core/errors';
import { fnv1a64Bytes } from '../core/hash';
import type { ImageFormat } from '../core/image-header';
import { preprocessSpecHash, type PreprocessSpec } from '../core/preprocess-spec';
import { augmentationFor } from './augment';
import type { DecodedImage } from './decode-image';
import { preprocessImage } from './preprocess';

export interface DecodeRequest {
  jobId: number;
  file: Blob;
  /** The file's path in the dataset, for messages. */
  name: string;
  /** Preprocess with this spec and return the pixels; null to only read the image. */
  spec: PreprocessSpec | null;
  /** Training-only augmentation: the crop and flip for this (seed, epoch, image). */
  augment: { seed: number; epoch: number; imageIndex: number } | null;
  /** Also return a thumbnail of this size, in pixels. */
  thumbnailPx: number | null;
  /** Also return a perceptual and a content hash, for finding duplicates across splits. */
  fingerprint?: boolean;
}

export interface DecodeInfo {
  width: number;
  height: number;
  format: ImageFormat | null;
  isGray: boolean;
  hasAlpha: boolean;
  downscaled: boolean;
  /** dHash of the grey image, a hash of the decoded pixels (equal pixels, equal hash), mean colour over white. */
  fingerprint: { differenceHash: string; contentHash: string; meanColor: [number, number, number]; signature: Uint8Array } | null;
}

export type DecodeReply =
  | {
      jobId: number;
      ok: true;
      info: DecodeInfo;
      /** [sizePx, sizePx, 3], transferred. */
      pixels: Float32Array | null;
      specHash: string | null;
      thumbnail: Blob | null;
    }
  | { jobId: number; ok: false; error: SerializedError };

export interface DecodeDeps {
  decode(file: Blob, name: string): Promise<DecodedImage>;
  thumbnail(image: DecodedImage, sizePx: number): Promise<Blob>;
}

function meanColorOverWhite(data: ArrayLike<number>): [number, number, number] {
  const sums = [0, 0, 0];
  for (let p = 0; p < data.length; p += 4) {
    const alpha = data[p + 3]! / 255;
    for (let c = 0; c < 3; c++) sums[c]! += data[p + c]! * alpha + 255 * (1 - alpha);
  }
  const n = Math.max(1, data.length / 4);
  return [sums[0]! / n, sums[1]! / n, sums[2]! / n];
}

export async function runDecodeJob(request: DecodeRequest, deps: DecodeDeps): Promise<{ reply: DecodeReply; transfer: Transferable[] }> {
  const { jobId } = request;
  try {
    const image = await deps.decode(request.file, request.name);
    const info: DecodeInfo = {
      width: image.width,
      height: image.height,
      format: image.header?.format ?? null,
      isGray: image.isGray,
      hasAlpha: image.hasAlpha,
      downscaled: image.downscaled,
      fingerprint: request.fingerprint
        ? {
            differenceHash: differenceHash(rgbaToGray(image), image.width, image.height),
            contentHash: fnv1a64Bytes(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength)),
            meanColor: meanColorOverWhite(image.data),
            signature: colorSignature(image),
          }
        : null,
    };
    const augmentation = request.augment ? augmentationFor(image.width, image.height, request.augment.seed, request.augment.epoch, request.augment.imageIndex) : null;
    const pixels = request.spec ? preprocessImage(image, request.spec, augmentation) : null;
    const thumbnail = request.thumbnailPx ? await deps.thumbnail(image, request.thumbnailPx) : null;
    return {
      reply: { jobId, ok: true, info, pixels, specHash: request.spec ? preprocessSpecHash(request.spec) : null, thumbnail },
      transfer: pixels ? [pixels.buffer] : [],
    };
  } catch (error) {
    return { reply: { jobId, ok: false, error: serializeError(error) }, transfer: [] };
  }
}
