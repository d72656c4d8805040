import { describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, validatePreprocessSpec } from '../../../src/core/preprocess-spec';
import { canonicalJson, fnv1a64 } from '../../../src/core/hash';

describe('preprocess spec', () => {
  it('defaults to what the pretrained weights expect', () => {
    expect(DEFAULT_PREPROCESS_SPEC).toEqual({ sizePx: 224, resize: 'stretch', normalization: 'caffe', background: [255, 255, 255] });
  });

  it('hashes equal specs equally, whatever the key order, and different specs differently', () => {
    const a = preprocessSpecHash(DEFAULT_PREPROCESS_SPEC);
    const reordered = { background: [255, 255, 255] as const, normalization: 'caffe' as const, resize: 'stretch' as const, sizePx: 224 };
    expect(preprocessSpecHash(reordered)).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    const variants = [
      { ...DEFAULT_PREPROCESS_SPEC, sizePx: 112 },
      { ...DEFAULT_PREPROCESS_SPEC, resize: 'center-crop' as const },
      { ...DEFAULT_PREPROCESS_SPEC, normalization: 'div255-then-caffe' as const },
      { ...DEFAULT_PREPROCESS_SPEC, background: [0, 0, 0] as const },
    ];
    const hashes = new Set([a, ...variants.map(preprocessSpecHash)]);
    expect(hashes.size).toBe(5);
  });

  it('keeps its hash stable across releases (a changed value would invalidate every cache)', () => {
    // Recorded from this implementation on 2026-11-29; change it only together with the spec's version field.
    expect(preprocessSpecHash(DEFAULT_PREPROCESS_SPEC)).toBe('37fd83f22aa88818');
    expect(fnv1a64('')).toBe('811c9dc5cbf29ce4'); // both lanes start at their offsets
  });

  it('validates', () => {
    expect(() => validatePreprocessSpec({ ...DEFAULT_PREPROCESS_SPEC, sizePx: 1000 })).toThrow(/sizePx/);
    expect(() => validatePreprocessSpec({ ...DEFAULT_PREPROCESS_SPEC, normalization: 'bgr' as never })).toThrow(/normalization/);
    expect(() => validatePreprocessSpec({ ...DEFAULT_PREPROCESS_SPEC, background: [0, 0, 300] })).toThrow(/background/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":1,"f":2}]},"b":1}');
  });
});
