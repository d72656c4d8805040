import { describe, expect, it } from 'vitest';
import { detectLossDivergence } from '../../../../src/core/diagnostics/loss-divergence';
import type { StepPoint } from '../../../../src/core/diagnostics/training-history';
import { HEALTHY_CLASSES, healthyHistory, healthySteps } from './fixtures';

const history = (steps: StepPoint[]) => ({ ...healthyHistory(), steps });

describe('detectLossDivergence', () => {
  it('stays silent while the loss falls', () => {
    expect(detectLossDivergence(healthyHistory())).toBeNull();
  });

  it('fires critical at the first NaN, and proposes a tenth of the peak learning rate (1e-3 → 1e-4)', () => {
    const steps = healthySteps(60).map((s) => (s.step === 42 ? { ...s, loss: NaN } : s));
    const finding = detectLossDivergence(history(steps))!;
    expect(finding.id).toBe('training/non-finite-loss');
    expect(finding.severity).toBe('critical');
    expect(finding.explanation).toContain('At step 42 the loss became NaN');
    expect(finding.fix).toMatchObject({ kind: 'setLearningRate' });
    expect(finding.fix?.kind === 'setLearningRate' && finding.fix.value).toBeCloseTo(1e-4, 12);
  });

  it('fires critical when the loss climbs back up: best window 0.4, latest 2.0, a rise of 1.6 ≥ ¼ ln 5', () => {
    const losses = [...new Array<number>(30).fill(1.2), ...new Array<number>(30).fill(0.4), ...new Array<number>(20).fill(1.0), ...new Array<number>(10).fill(2.0)];
    const steps = losses.map((loss, step) => ({ step, loss, learningRate: 0.05, freezeDepth: 0 }));
    const finding = detectLossDivergence(history(steps))!;
    expect(finding.id).toBe('training/diverging-loss');
    // Windows of 10 steps: the first at 0.4 ends at step 39, the last at step 89.
    expect(finding.explanation).toContain('from 0.4 (around step 39) to 2 (around step 89), 5× its best');
    expect(finding.fix).toEqual({ kind: 'setLearningRate', value: 0.005, label: 'Lower the learning rate to 0.005' });
  });

  it('ignores a tiny loss wobbling up near convergence (0.01 → 0.03 is 3×, but far below ¼ ln 5 = 0.4)', () => {
    const losses = [...new Array<number>(20).fill(0.01), ...new Array<number>(10).fill(0.03)];
    const steps = losses.map((loss, step) => ({ step, loss, learningRate: 1e-3, freezeDepth: 0 }));
    expect(HEALTHY_CLASSES).toBe(5);
    expect(detectLossDivergence(history(steps))).toBeNull();
  });
});
