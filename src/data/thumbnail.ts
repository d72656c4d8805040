// Small previews for the dataset panel, made in the decode worker so the page never touches
// full-size pixels.

import type { RgbaImage } from '../core/image';

export async function makeThumbnail(image: RgbaImage, sizePx: number): Promise<Blob> {
  const source = new OffscreenCanvas(image.width, image.height);
  const pixels = new Uint8ClampedArray(image.data.length);
  pixels.set(image.data);
  source.getContext('2d')!.putImageData(new ImageData(pixels, image.width, image.height), 0, 0);
  const scale = Math.min(1, sizePx / Math.max(image.width, image.height));
  const target = new OffscreenCanvas(Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)));
  const context = target.getContext('2d')!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, target.width, target.height);
  return target.convertToBlob({ type: 'image/png' });
}
