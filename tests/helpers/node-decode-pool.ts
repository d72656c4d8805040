// A decode pool for Node tests: each job runs the decode workers' own runDecodeJob in-process,
// with pngjs and jpeg-js standing in for the browser's decoders, and tiny images made to order.

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { LabError } from '../../src/core/errors';
import { HEADER_BYTES, readImageHeader } from '../../src/core/image-header';
import type { DecodedImage } from '../../src/data/decode-image';
import { runDecodeJob, type DecodeDeps, type DecodeReply, type DecodeRequest } from '../../src/data/decode-job';
import type { WorkerPool } from '../../src/data/worker-pool';

/** A colour of each pixel from its position: RGBA, 0..255. */
export type Paint = (x: number, y: number) => [number, number, number, number];

/** An RGB gradient, so that images differ and no channel is flat. */
export const GRADIENT: Paint = (x, y) => [(x * 37) % 256, (y * 53) % 256, ((x + y) * 19) % 256, 255];

function rgba(width: number, height: number, paint: Paint): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 4);
  return data;
}

export function pngBytes(width: number, height: number, paint: Paint = GRADIENT): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width, height });
  rgba(width, height, paint).copy(png.data);
  return new Uint8Array(PNG.sync.write(png));
}

export function jpegBytes(width: number, height: number, paint: Paint = GRADIENT): Uint8Array<ArrayBuffer> {
  return new Uint8Array(jpeg.encode({ data: rgba(width, height, paint), width, height }, 90).data);
}

/** What decodeImageBlob (src/data/decode-image.ts) returns, from pngjs or jpeg-js, with its error messages. */
export async function decodeInNode(blob: Blob, fileName: string): Promise<DecodedImage> {
  if (blob.size === 0) throw new LabError('image/decode-failed', `${fileName} is empty (0 bytes).`, fileName);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const header = readImageHeader(bytes.subarray(0, HEADER_BYTES));
  let width: number;
  let height: number;
  let data: Uint8Array;
  try {
    if (header?.format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes)); // always 8-bit RGBA
      ({ width, height } = png);
      data = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length);
    } else if (header?.format === 'jpeg') {
      ({ width, height, data } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true }));
    } else {
      throw new Error('no decoder');
    }
  } catch (error) {
    const what = header ? `a ${header.format.toUpperCase()} that is corrupt or truncated` : 'not an image this browser can read (corrupt, truncated or an unsupported format)';
    throw new LabError('image/decode-failed', `${fileName} could not be decoded: ${what}.`, fileName, { cause: error });
  }
  let isGray = true;
  let hasAlpha = false;
  for (let p = 0; p < data.length; p += 4) {
    if (data[p] !== data[p + 1] || data[p] !== data[p + 2]) isGray = false;
    if (data[p + 3] !== 255) hasAlpha = true;
  }
  return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), header, isGray, hasAlpha, downscaled: false };
}

/**
 * The image itself as a PNG: the test images are smaller than any thumbnail asked for, and
 * makeThumbnail never scales up (its scale is min(1, size / long side)).
 */
async function thumbnailInNode(image: DecodedImage, sizePx: number): Promise<Blob> {
  if (Math.max(image.width, image.height) > sizePx) throw new Error(`The Node thumbnail stand-in does not scale down (${image.width}×${image.height} > ${sizePx} px).`);
  const png = new PNG({ width: image.width, height: image.height });
  Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length).copy(png.data);
  return new Blob([new Uint8Array(PNG.sync.write(png))], { type: 'image/png' });
}

export const NODE_DECODE_DEPS: DecodeDeps = { decode: decodeInNode, thumbnail: thumbnailInNode };

export interface StandInPoolOptions {
  /** Every job waits for this before it runs (to hold a scan in progress). */
  hold?: Promise<void>;
  /** Jobs for these dataset paths reject, as the pool does when a worker dies. */
  crashOn?: ReadonlySet<string>;
}

export interface StandInPool extends WorkerPool<DecodeRequest, DecodeReply> {
  /** Dataset paths of the jobs asked for so far, in order. */
  readonly asked: string[];
}

export function createStandInPool(options: StandInPoolOptions = {}, size = 1): StandInPool {
  let nextJobId = 1;
  const asked: string[] = [];
  return {
    size,
    alive: 0,
    asked,
    async run(request) {
      const jobId = nextJobId++;
      asked.push(request.name);
      await options.hold;
      if (options.crashOn?.has(request.name)) throw new Error('A decoding worker crashed: boom.');
      return (await runDecodeJob({ ...request, jobId }, NODE_DECODE_DEPS)).reply;
    },
    destroy() {},
  };
}
