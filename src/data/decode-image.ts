// Decodes an image file to RGBA pixels with the browser's own decoders (worker-safe: no DOM
// canvas, only createImageBitmap and OffscreenCanvas). EXIF orientation is applied. The header is
// read first, so a huge image is refused or decoded at reduced size instead of crashing the tab.

import { LabError } from '../core/errors';
import type { RgbaImage } from '../core/image';
import { HEADER_BYTES, readImageHeader, type ImageHeader } from '../core/image-header';

/** Larger images are refused: 100 MP of RGBA is 400 MB before any copy. */
export const MAX_SOURCE_PIXELS = 100_000_000;
/** Longer sides are decoded down to this (the network sees 224 px; 4096 leaves room for crops). */
export const MAX_DECODED_SIDE_PX = 4096;

export interface DecodedImage extends RgbaImage {
  /** What the file's header says, or null for formats the header reader does not know. */
  header: ImageHeader | null;
  /** Every pixel has R = G = B. */
  isGray: boolean;
  /** Some pixel is not fully opaque. */
  hasAlpha: boolean;
  /** The image was decoded at reduced size because it is larger than MAX_DECODED_SIDE_PX. */
  downscaled: boolean;
}

function pixelKinds(data: Uint8ClampedArray): { isGray: boolean; hasAlpha: boolean } {
  let isGray = true;
  let hasAlpha = false;
  for (let p = 0; p < data.length && (isGray || !hasAlpha); p += 4) {
    if (isGray && (data[p] !== data[p + 1] || data[p] !== data[p + 2])) isGray = false;
    if (!hasAlpha && data[p + 3] !== 255) hasAlpha = true;
  }
  return { isGray, hasAlpha };
}

export async function decodeImageBlob(blob: Blob, fileName: string): Promise<DecodedImage> {
  if (blob.size === 0) throw new LabError('image/decode-failed', `${fileName} is empty (0 bytes).`, fileName);
  const header = readImageHeader(new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer()));
  if (header && header.width * header.height > MAX_SOURCE_PIXELS) {
    const megapixels = Math.round((header.width * header.height) / 1e6);
    throw new LabError(
      'image/too-large',
      `${fileName} is ${header.width}×${header.height} pixels (${megapixels} MP); the lab decodes images up to ${MAX_SOURCE_PIXELS / 1e6} MP. Shrink it first.`,
      fileName,
    );
  }
  const longSide = header ? Math.max(header.width, header.height) : 0;
  const scale = longSide > MAX_DECODED_SIDE_PX ? MAX_DECODED_SIDE_PX / longSide : 1;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
      ...(scale < 1 && header
        ? { resizeWidth: Math.max(1, Math.round(header.width * scale)), resizeHeight: Math.max(1, Math.round(header.height * scale)), resizeQuality: 'high' as const }
        : {}),
    });
  } catch (error) {
    const what = header ? `a ${header.format.toUpperCase()} that is corrupt or truncated` : 'not an image this browser can read (corrupt, truncated or an unsupported format)';
    throw new LabError('image/decode-failed', `${fileName} could not be decoded: ${what}.`, fileName, { cause: error });
  }
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new LabError('image/decode-failed', `No 2D canvas to read ${fileName}'s pixels with.`, fileName);
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { width, height, data, header, ...pixelKinds(data), downscaled: scale < 1 };
  } finally {
    bitmap.close();
  }
}
