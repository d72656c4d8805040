import { describe, expect, it } from 'vitest';
import { detectInitialLoss } from '../../../../src/core/diagnostics/initial-loss';
import type { StepPoint } from '../../../../src/core/diagnostics/training-history';
import { healthyHistory } from './fixtures';

const startingAt = (losses: number[]): StepPoint[] => losses.map((loss, step) => ({ step, loss, learningRate: 1e-4, freezeDepth: 0 }));
const history = (losses: number[]) => ({ ...healthyHistory(), steps: startingAt(losses) });

describe('detectInitialLoss', () => {
  it('stays silent when a 5-class run starts near ln 5 = 1.609', () => {
    expect(detectInitialLoss(healthyHistory())).toBeNull();
    expect(detectInitialLoss(history([1.7, 1.5, 1.62]))).toBeNull();
  });

  it('warns when the start is far too high: median 6.0 is 3.7× ln 5', () => {
    const finding = detectInitialLoss(history([6.2, 5.9, 6.0, 1.0]))!;
    expect(finding.id).toBe('training/initial-loss');
    expect(finding.severity).toBe('warning');
    expect(finding.title).toMatch(/too high/);
    expect(finding.explanation).toContain('ln 5 = 1.61: 3.7× that');
    expect(finding.fix).toBeNull();
  });

  it('warns when the start is suspiciously low: 0.3 is 0.19× ln 5', () => {
    expect(detectInitialLoss(history([0.3, 0.31, 0.29]))?.title).toMatch(/suspiciously low/);
  });

  it('cannot judge a history that does not begin at step 0', () => {
    expect(detectInitialLoss({ ...healthyHistory(), steps: startingAt([6, 6, 6]).map((s) => ({ ...s, step: s.step + 100 })) })).toBeNull();
  });
});
