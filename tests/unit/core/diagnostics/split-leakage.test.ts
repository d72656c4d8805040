import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../../src/core/prng';
import { hammingDistance } from '../../../../src/core/diagnostics/perceptual-hash';
import { detectSplitLeakage, findCrossSplitDuplicates, type ImageFingerprint } from '../../../../src/core/diagnostics/split-leakage';

/** A hash with the given bits (0 = most significant) flipped. */
function flip(hash: string, bits: readonly number[]): string {
  let value = BigInt(`0x${hash}`);
  for (const bit of bits) value ^= 1n << BigInt(63 - bit);
  return value.toString(16).padStart(16, '0');
}

const BASE = 'a3c96e1f5b2d8470';

describe('findCrossSplitDuplicates', () => {
  it('finds byte-identical copies, and the same picture within 4 bits, only across splits', () => {
    const images: ImageFingerprint[] = [
      { id: 'train/cat/1.jpg', split: 'train', differenceHash: BASE, contentHash: 'c1', classIndex: 0 },
      { id: 'train/cat/2.jpg', split: 'train', differenceHash: flip(BASE, [0]), contentHash: 'c2', classIndex: 0 },
      { id: 'val/cat/1.jpg', split: 'validation', differenceHash: BASE, contentHash: 'c1', classIndex: 0 },
      { id: 'val/dog/7.png', split: 'validation', differenceHash: flip(BASE, [10, 20, 30, 40]), contentHash: 'c3', classIndex: 1 },
      { id: 'val/dog/8.png', split: 'validation', differenceHash: flip(BASE, [10, 20, 30, 40, 50, 60]), contentHash: 'c4', classIndex: 1 },
    ];
    const pairs = findCrossSplitDuplicates(images);
    expect(pairs.map((p) => [p.copy.id, p.original.id, p.distance, p.exact])).toEqual([
      ['val/cat/1.jpg', 'train/cat/1.jpg', 0, true],
      ['val/dog/7.png', 'train/cat/1.jpg', 4, false],
    ]);
  });

  it('never matches flat images (all-zero hash) by their hash, only by their bytes', () => {
    const flat = '0000000000000000';
    const images: ImageFingerprint[] = [
      { id: 'train/a/black.png', split: 'train', differenceHash: flat, contentHash: 'black' },
      { id: 'val/a/white.png', split: 'validation', differenceHash: flat, contentHash: 'white' },
      { id: 'test/a/black.png', split: 'test', differenceHash: flat, contentHash: 'black' },
    ];
    expect(findCrossSplitDuplicates(images).map((p) => p.copy.id)).toEqual(['test/a/black.png']);
  });

  it('reports a test copy of a validation image as the test one', () => {
    const images: ImageFingerprint[] = [
      { id: 'val/a/1.png', split: 'validation', differenceHash: BASE },
      { id: 'test/a/1.png', split: 'test', differenceHash: flip(BASE, [5]) },
    ];
    expect(findCrossSplitDuplicates(images).map((p) => [p.copy.id, p.original.id])).toEqual([['test/a/1.png', 'val/a/1.png']]);
  });

  it.each([4, 8, 20])('finds exactly what comparing every pair finds (maxBits %i)', (maxBits) => {
    const random = createPrng(maxBits);
    const randomHash = () => Array.from({ length: 16 }, () => Math.floor(random() * 16).toString(16)).join('');
    const train = Array.from({ length: 150 }, (_, i) => ({ id: `train/${i}`, split: 'train' as const, differenceHash: randomHash() }));
    // Half the validation images are planted copies 0..maxBits+2 bits away from a training image.
    const validation = Array.from({ length: 150 }, (_, i) => {
      const source = train[Math.floor(random() * train.length)]!.differenceHash;
      const bits = Array.from({ length: i % (maxBits + 3) }, () => Math.floor(random() * 64));
      return { id: `val/${i}`, split: 'validation' as const, differenceHash: i % 2 === 0 ? flip(source, bits) : randomHash() };
    });
    const bruteForce = validation
      .map((v) => ({ id: v.id, best: Math.min(...train.map((t) => hammingDistance(v.differenceHash, t.differenceHash))) }))
      .filter((v) => v.best <= maxBits);
    const found = findCrossSplitDuplicates([...train, ...validation], maxBits);
    expect(found.map((p) => [p.copy.id, p.distance])).toEqual(bruteForce.map((v) => [v.id, v.best]));
    expect(found.length).toBeGreaterThan(20);
  });
});

describe('detectSplitLeakage', () => {
  it('warns about copies across splits, counts label conflicts and offers to drop the held-out copies', () => {
    const finding = detectSplitLeakage({
      images: [
        { id: 'train/cat/1.jpg', split: 'train', differenceHash: BASE, contentHash: 'c1', classIndex: 0 },
        { id: 'val/cat/1.jpg', split: 'validation', differenceHash: BASE, contentHash: 'c1', classIndex: 0 },
        { id: 'val/dog/1.jpg', split: 'validation', differenceHash: flip(BASE, [3, 9]), contentHash: 'c9', classIndex: 1 },
        { id: 'val/dog/2.jpg', split: 'validation', differenceHash: 'ffff0000ffff0000', contentHash: 'c8', classIndex: 1 },
      ],
    })!;
    expect(finding.id).toBe('data/split-leakage');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('2 (66.7%) are copies');
    expect(finding.explanation).toContain('1 of them is filed under a different class');
    expect(finding.fix).toEqual({ kind: 'dropImages', imageIds: ['val/cat/1.jpg', 'val/dog/1.jpg'], label: 'Drop 2 copies from validation and test' });
  });

  it('stays silent without copies across splits, even with copies inside one split', () => {
    expect(
      detectSplitLeakage({
        images: [
          { id: 'train/a/1.jpg', split: 'train', differenceHash: BASE, contentHash: 'x' },
          { id: 'train/a/2.jpg', split: 'train', differenceHash: BASE, contentHash: 'x' },
          { id: 'val/a/3.jpg', split: 'validation', differenceHash: flip(BASE, [1, 2, 3, 4, 5, 6, 7]), contentHash: 'y' },
        ],
      }),
    ).toBeNull();
  });
});

describe('near duplicates and colour', () => {
  it('does not take a recoloured drawing for a copy: same dHash, means 40 levels apart', () => {
    const hash = '0f0f0f0f0f0f0f0f';
    const images = [
      { id: 'train/blue_fedora.png', split: 'train' as const, differenceHash: hash, meanColor: [90, 110, 200] as const },
      { id: 'val/green_fedora.png', split: 'validation' as const, differenceHash: hash, meanColor: [90, 150, 95] as const },
    ];
    expect(findCrossSplitDuplicates(images)).toEqual([]);
    const resaved = [images[0]!, { ...images[1]!, meanColor: [91, 111, 198] as const }];
    expect(findCrossSplitDuplicates(resaved)).toHaveLength(1);
  });
});

describe('near duplicates and shape', () => {
  it('does not take two different tools with close hashes for copies when their shapes differ (stamps6 hammer 129×127, wrench 100×78)', () => {
    const images = [
      { id: 'tools/wrench.png', split: 'train' as const, differenceHash: '010103060c3860c0', aspectRatio: 100 / 78 },
      { id: 'tools/hammer.png', split: 'validation' as const, differenceHash: '030102061c3860c0', aspectRatio: 129 / 127 },
    ];
    expect(findCrossSplitDuplicates(images)).toEqual([]);
    expect(findCrossSplitDuplicates([images[0]!, { ...images[1]!, aspectRatio: 99 / 78 }])).toHaveLength(1);
  });
});

describe('near duplicates, cell by cell', () => {
  // 12 × 12 × 3 colour signatures: white, with one coloured region where the two drawings differ.
  const signature = (lamp: [number, number, number]) => {
    const cells = new Uint8Array(12 * 12 * 3).fill(255);
    for (const cell of [14, 15, 26, 27]) cells.set(lamp, cell * 3);
    return cells;
  };
  const red = signature([230, 40, 30]);
  const green = signature([40, 200, 60]);

  it('does not merge two drawings with the same dHash that differ in one coloured region (the stamps6 stoplights, 167 levels apart there)', () => {
    const images: ImageFingerprint[] = [
      { id: 'signs/stoplight_01_red.png', split: 'train', differenceHash: BASE, signature: red },
      { id: 'signs/stoplight_03_green.png', split: 'validation', differenceHash: BASE, signature: green },
    ];
    expect(findCrossSplitDuplicates(images)).toEqual([]);
  });

  it('still finds a resized copy, whose cells move by up to 56 levels (the worst half-size resize on stamps6)', () => {
    const resized = Uint8Array.from(red, (v, i) => (i % 7 === 0 ? Math.max(0, v - 56) : v));
    const images: ImageFingerprint[] = [
      { id: 'signs/stoplight_01_red.png', split: 'train', differenceHash: BASE, signature: red },
      { id: 'signs/stoplight_01_red_small.png', split: 'validation', differenceHash: flip(BASE, [3]), signature: resized },
    ];
    expect(findCrossSplitDuplicates(images).map((p) => p.copy.id)).toEqual(['signs/stoplight_01_red_small.png']);
  });
});

describe('leakage severity', () => {
  it('is info for one near duplicate among 22 held-out images (under 5%), a warning for a byte-identical copy', () => {
    const hash = (i: number) => i.toString(16).padStart(16, '0').replace(/^0/, 'f');
    const held = Array.from({ length: 22 }, (_, i) => ({ id: `val/${i}.png`, split: 'validation' as const, differenceHash: hash(i * 7919 + 1) }));
    const original = { id: 'train/stoplight_01.png', split: 'train' as const, differenceHash: held[0]!.differenceHash };
    expect(detectSplitLeakage({ images: [original, ...held] })?.severity).toBe('info');
    const copies = [{ ...original, contentHash: 'same' }, { ...held[0]!, contentHash: 'same' }, ...held.slice(1)];
    expect(detectSplitLeakage({ images: copies })?.severity).toBe('warning');
  });
});
