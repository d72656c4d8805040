// Decodes an image file to RGBA pixels with the browser's own decoders (worker-safe: no DOM
// canvas, only createImageBitmap and OffscreenCanvas). EXIF orientation is applied.

import { LabError } from '../core/errors';
import type { RgbaImage } from '../core/image';

/** Larger images are refused rather than risk the tab: 8192 × 8192 RGBA is already 256 MB. */
export const MAX_DECODED_PIXELS = 8192 * 8192;

export async function decodeImageBlob(blob: Blob, fileName: string): Promise<RgbaImage> {
  if (blob.size === 0) throw new LabError('image/decode-failed', `${fileName} is empty (0 bytes).`, fileName);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (error) {
    const kind = blob.type ? ` (${blob.type})` : '';
    throw new LabError('image/decode-failed', `${fileName}${kind} could not be decoded as an image: it is corrupt, truncated or in a format this browser cannot read.`, fileName, { cause: error });
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_DECODED_PIXELS) {
      throw new LabError('image/too-large', `${fileName} is ${width}×${height} pixels; the lab reads images up to ${MAX_DECODED_PIXELS / 1e6} megapixels.`, fileName);
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new LabError('image/decode-failed', `No 2D canvas to read ${fileName}'s pixels with.`, fileName);
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}
