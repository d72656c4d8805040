import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../../src/core/image-header';
import { hasShared, PHOTOS_DIR, STAMPS_DIR } from '../../helpers/paths';

function png(width: number, height: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16 = 8): Uint8Array {
  const image = new PNG({ width, height, colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
  return PNG.sync.write(image, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
}

describe('readImageHeader', () => {
  it('reads PNG size, colour type and bit depth', () => {
    expect(readImageHeader(png(300, 200, 6))).toEqual({ format: 'png', width: 300, height: 200, bitDepth: 8, color: 'rgba' });
    expect(readImageHeader(png(7, 9, 0, 16))).toMatchObject({ width: 7, height: 9, bitDepth: 16, color: 'gray' });
    expect(readImageHeader(png(5, 5, 4))).toMatchObject({ color: 'gray+alpha' });
  });

  it('reads JPEG frame size and component count', () => {
    const rgb = jpeg.encode({ width: 123, height: 45, data: new Uint8Array(123 * 45 * 4) }, 90).data;
    expect(readImageHeader(new Uint8Array(rgb))).toEqual({ format: 'jpeg', width: 123, height: 45, bitDepth: 8, color: 'rgb' });
  });

  it('reads GIF and BMP sizes from hand-built headers', () => {
    const gif = new Uint8Array([...'GIF89a'].map((c) => c.charCodeAt(0)).concat([0x20, 0x4e, 0x10, 0x00]));
    expect(readImageHeader(gif)).toMatchObject({ format: 'gif', width: 20000, height: 16 });
    const bmp = new Uint8Array(30);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setInt32(18, 640, true);
    new DataView(bmp.buffer).setInt32(22, -480, true); // top-down BMPs store a negative height
    new DataView(bmp.buffer).setUint16(28, 24, true);
    expect(readImageHeader(bmp)).toEqual({ format: 'bmp', width: 640, height: 480, bitDepth: null, color: 'rgb' });
  });

  it('returns null for non-images and truncated headers', () => {
    expect(readImageHeader(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(readImageHeader(png(10, 10, 2).subarray(0, 20))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
  });

  it.skipIf(!hasShared())('agrees with the decoder on the shared photos and stamps (needs ../shared)', () => {
    const files = [path.join(PHOTOS_DIR, 'rocket.jpg'), path.join(PHOTOS_DIR, 'horse.png'), path.join(STAMPS_DIR, 'space/voyager2.png')];
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const header = readImageHeader(bytes)!;
      const decoded = file.endsWith('.jpg') ? jpeg.decode(bytes) : PNG.sync.read(bytes);
      expect([header.width, header.height], file).toEqual([decoded.width, decoded.height]);
    }
  });
});
