// Image size and colour type read from the first bytes of a file, before anything is decoded:
// how a 20000×20000 image is refused without allocating 1.6 GB, and how the dataset summary
// knows channels cheaply.

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** 'gray', 'gray+alpha', 'rgb', 'rgba', 'palette', or null when the header does not say. */
  color: 'gray' | 'gray+alpha' | 'rgb' | 'rgba' | 'palette' | null;
  /** Bits per channel (PNG: 1–16), when the header says. */
  bitDepth: number | null;
}

/** Bytes to read from the start of a file: enough for every format here but JPEGs with large EXIF blocks. */
export const HEADER_BYTES = 64 * 1024;

const PNG_COLOR: Record<number, ImageHeader['color']> = { 0: 'gray', 2: 'rgb', 3: 'palette', 4: 'gray+alpha', 6: 'rgba' };

/** Parses the header, or returns null when the bytes are not a (complete) header of a known format. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  if (bytes.length >= 26 && bytes[0] === 0x89 && ascii(1, 3) === 'PNG' && ascii(12, 4) === 'IHDR') {
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24]!, color: PNG_COLOR[bytes[25]!] ?? null };
  }
  if (bytes.length >= 10 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) {
    return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true), bitDepth: null, color: 'palette' };
  }
  if (bytes.length >= 26 && ascii(0, 2) === 'BM') {
    const bitsPerPixel = bytes.length >= 30 ? view.getUint16(28, true) : 0;
    return {
      format: 'bmp',
      width: Math.abs(view.getInt32(18, true)),
      height: Math.abs(view.getInt32(22, true)),
      bitDepth: null,
      color: bitsPerPixel === 32 ? 'rgba' : bitsPerPixel === 24 ? 'rgb' : bitsPerPixel > 0 && bitsPerPixel <= 8 ? 'palette' : null,
    };
  }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return readWebpHeader(bytes, view, ascii);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return readJpegHeader(bytes, view);
  return null;
}

function readWebpHeader(bytes: Uint8Array, view: DataView, ascii: (at: number, length: number) => string): ImageHeader | null {
  const chunk = ascii(12, 4);
  if (chunk === 'VP8X') {
    const alpha = (bytes[20]! & 0x10) !== 0;
    const width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
    const height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
    return { format: 'webp', width, height, bitDepth: 8, color: alpha ? 'rgba' : 'rgb' };
  }
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1, bitDepth: 8, color: (bits >> 28) & 1 ? 'rgba' : 'rgb' };
  }
  if (chunk === 'VP8 ') {
    return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff, bitDepth: 8, color: 'rgb' };
  }
  return null;
}

function readJpegHeader(bytes: Uint8Array, view: DataView): ImageHeader | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = view.getUint16(at + 2);
    // SOF0–SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = bytes[at + 9]!;
      return { format: 'jpeg', height: view.getUint16(at + 5), width: view.getUint16(at + 7), bitDepth: bytes[at + 4]!, color: components === 1 ? 'gray' : 'rgb' };
    }
    at += 2 + length;
  }
  return null;
}
