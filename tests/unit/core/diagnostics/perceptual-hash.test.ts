import { describe, expect, it } from 'vitest';
import { differenceHash, hammingDistance, rgbaToGray } from '../../../../src/core/diagnostics/perceptual-hash';

/** A 9 × 8 image whose row r rises (bit 1) or falls (bit 0) between neighbours as byte r says, MSB first. */
function imageFromBytes(bytes: readonly number[]): Float32Array {
  const gray = new Float32Array(9 * 8);
  bytes.forEach((byte, row) => {
    gray[row * 9] = 100;
    for (let col = 0; col < 8; col++) {
      const rises = (byte >> (7 - col)) & 1;
      gray[row * 9 + col + 1] = gray[row * 9 + col]! + (rises ? 5 : -5);
    }
  });
  return gray;
}

/** Every pixel repeated k × k times: area averaging must undo it exactly. */
function upscale(gray: Float32Array, width: number, height: number, k: number): Float32Array {
  const out = new Float32Array(width * k * height * k);
  for (let y = 0; y < height * k; y++) for (let x = 0; x < width * k; x++) out[y * width * k + x] = gray[Math.floor(y / k) * width + Math.floor(x / k)]!;
  return out;
}

/** A smooth "scene" sampled at any resolution, so two sizes show the same picture. */
function scene(width: number, height: number, f: (u: number, v: number) => number): Float32Array {
  return Float32Array.from({ length: width * height }, (_, i) => f(((i % width) + 0.5) / width, (Math.floor(i / width) + 0.5) / height));
}
const hills = (u: number, v: number) => 128 + 60 * Math.sin(u * 9) * Math.cos(v * 7) + 30 * u;
const stripes = (u: number, v: number) => 128 + 90 * Math.sin((u + v) * 23);

describe('differenceHash', () => {
  const PATTERN = [0xaa, 0x55, 0xf0, 0x0f, 0x00, 0xff, 0x81, 0x7e];

  it('sets a bit where the right neighbour is brighter, row-major, first bit most significant (by hand)', () => {
    expect(differenceHash(imageFromBytes(PATTERN), 9, 8)).toBe('aa55f00f00ff817e');
    expect(differenceHash(imageFromBytes(new Array(8).fill(0xff)), 9, 8)).toBe('ffffffffffffffff');
    expect(differenceHash(new Float32Array(9 * 8).fill(42), 9, 8)).toBe('0000000000000000');
  });

  it('averages areas: a 2× or 3× pixel-replicated copy hashes the same, and so does a uint8 copy', () => {
    const small = imageFromBytes(PATTERN);
    expect(differenceHash(upscale(small, 9, 8, 2), 18, 16)).toBe('aa55f00f00ff817e');
    expect(differenceHash(upscale(small, 9, 8, 3), 27, 24)).toBe('aa55f00f00ff817e');
    expect(differenceHash(Uint8Array.from(small), 9, 8)).toBe('aa55f00f00ff817e');
  });

  it('gives the same picture at another size or brightness a near-identical hash, and another picture a distant one', () => {
    const original = differenceHash(scene(640, 480, hills), 640, 480);
    const smaller = differenceHash(scene(301, 217, hills), 301, 217);
    const brighter = differenceHash(scene(640, 480, (u, v) => hills(u, v) + 20), 640, 480);
    const other = differenceHash(scene(640, 480, stripes), 640, 480);
    expect(hammingDistance(original, smaller)).toBeLessThanOrEqual(4);
    expect(hammingDistance(original, brighter)).toBe(0);
    expect(hammingDistance(original, other)).toBeGreaterThan(10);
  });

  it('works on images smaller than the 9 × 8 thumbnail and refuses data that does not match its size', () => {
    expect(differenceHash(new Float32Array([0, 10, 20, 30]), 4, 1)).toMatch(/^[0-9a-f]{16}$/);
    expect(() => differenceHash(new Float32Array(10), 9, 8)).toThrow(/does not match/);
  });
});

describe('hammingDistance', () => {
  it('counts differing bits', () => {
    expect(hammingDistance('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(hammingDistance('aa55f00f00ff817e', 'aa55f00f00ff817e')).toBe(0);
    expect(() => hammingDistance('abc', '0000000000000000')).toThrow(/16 hex digits/);
  });
});

describe('rgbaToGray', () => {
  it('uses BT.601 luma and composites transparency onto white', () => {
    const data = new Uint8Array([255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128]);
    const gray = rgbaToGray({ width: 3, height: 1, data });
    expect(gray[0]).toBeCloseTo(0.299 * 255, 4); // pure red: 76.245
    expect(gray[1]).toBe(255); // fully transparent: the background
    expect(gray[2]).toBeCloseTo(255 * (1 - 128 / 255), 4); // half-transparent black on white: 127
    expect(rgbaToGray({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 0]) }, 0)[0]).toBe(0);
  });
});
