import { describe, expect, it } from 'vitest';
import { detectBatchNormDrift } from '../../../../src/core/diagnostics/batchnorm-drift';
import type { BatchNormDrift } from '../../../../src/core/run-records';

const block = (name: string, frozen: boolean, change: number): BatchNormDrift => ({ name, frozen, meanRelativeChange: change, varianceRelativeChange: change / 2 });

describe('detectBatchNormDrift', () => {
  it('stays silent when frozen blocks are bit-identical, and unfrozen ones drift under the "train" policy', () => {
    expect(detectBatchNormDrift({ batchNormPolicy: 'train', blocks: [block('res4f', true, 0), block('res5a', false, 0.03)] })).toBeNull();
  });

  it('fires critical when a frozen block changed at all (1% = one training-mode step at momentum 0.99)', () => {
    const finding = detectBatchNormDrift({ batchNormPolicy: 'train', blocks: [block('res2a', true, 0.01), block('res3a', true, 0.04), block('res5c', false, 0.1)] })!;
    expect(finding.id).toBe('training/bn-drift-frozen');
    expect(finding.severity).toBe('critical');
    expect(finding.explanation).toContain('2 frozen blocks have changed since training started (up to 4.0% in res3a)');
    expect(finding.fix).toEqual({ kind: 'setBatchNormPolicy', value: 'frozen', label: 'Keep BatchNorm frozen' });
    const series = finding.evidence.find((e) => e.kind === 'series');
    expect(series?.kind === 'series' && series.points.map((p) => p.y)).toEqual([1, 4, 10]);
  });

  it('calls drift under the "frozen" policy a bug, with no fix the policy could give', () => {
    const finding = detectBatchNormDrift({ batchNormPolicy: 'frozen', blocks: [block('res5c', false, 0.02)] })!;
    expect(finding.explanation).toMatch(/bug in the training loop/);
    expect(finding.fix).toBeNull();
  });
});
