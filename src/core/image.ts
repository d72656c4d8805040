// Decoded pixels as they travel between decoding, preprocessing and the UI.

/** 8-bit RGBA pixels, row-major, 4 bytes a pixel (what `ImageData` and PNG decoders give). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}
