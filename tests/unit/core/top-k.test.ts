import { describe, expect, it } from 'vitest';
import { topK } from '../../../src/core/top-k';

describe('topK', () => {
  it('returns the k largest, largest first, lower index first on ties', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5, 0.05], 3)).toEqual([
      { index: 1, probability: 0.5 },
      { index: 3, probability: 0.5 },
      { index: 2, probability: 0.2 },
    ]);
  });
  it('handles k larger than the input', () => {
    expect(topK(new Float32Array([0.25, 0.75]), 5).map((r) => r.index)).toEqual([1, 0]);
  });
});
