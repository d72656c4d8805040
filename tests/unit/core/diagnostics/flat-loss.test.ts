import { describe, expect, it } from 'vitest';
import { detectFlatLoss } from '../../../../src/core/diagnostics/flat-loss';
import type { StepPoint } from '../../../../src/core/diagnostics/training-history';
import { healthyHistory } from './fixtures';

/** `count` steps whose loss wobbles ±2% around `level` (5 classes: ln 5 = 1.609). */
const flatSteps = (level: number, learningRate: number, freezeDepth = 0, count = 80): StepPoint[] =>
  Array.from({ length: count }, (_, step) => ({ step, loss: level * (1 + 0.02 * Math.sin(step)), learningRate, freezeDepth }));
const history = (steps: StepPoint[]) => ({ ...healthyHistory(), steps });

describe('detectFlatLoss', () => {
  it('stays silent while the loss falls, and once it has converged low', () => {
    expect(detectFlatLoss(healthyHistory())).toBeNull();
    expect(detectFlatLoss(history(flatSteps(0.2, 1e-3)))).toBeNull();
    expect(detectFlatLoss(history(flatSteps(1.6, 1e-3, 0, 40)))).toBeNull(); // too short to judge
    expect(detectFlatLoss(history(flatSteps(1.6, 1e-3).filter((s) => s.step % 5 === 0)))).toBeNull(); // too thin: 10 records in the span
  });

  it('fires critical at chance (1.6 ≈ ln 5) with a sane learning rate and only the head training: no one-click fix', () => {
    const finding = detectFlatLoss(history(flatSteps(1.6, 1e-3)))!;
    expect(finding.id).toBe('training/flat-loss');
    expect(finding.severity).toBe('critical');
    expect(finding.explanation).toMatch(/inputs carry no information/);
    expect(finding.fix).toBeNull();
  });

  it('blames a learning rate of 1e-6 and offers the default 1e-3', () => {
    const finding = detectFlatLoss(history(flatSteps(1.6, 1e-6)))!;
    expect(finding.explanation).toMatch(/too small to move the weights/);
    expect(finding.fix).toEqual({ kind: 'setLearningRate', value: 1e-3, label: 'Raise the learning rate to 0.001' });
  });

  it('suggests training res5 when a head-only run plateaus above half of ln 5 (1.0 of 1.609)', () => {
    const finding = detectFlatLoss(history(flatSteps(1.0, 1e-3)))!;
    expect(finding.severity).toBe('warning');
    expect(finding.fix).toEqual({ kind: 'setFreezeDepth', value: 3, learningRate: 1e-4, label: 'Train res5 and the head at learning rate 0.0001' });
  });

  it('calls a plateau with blocks already training a plateau, without a fix', () => {
    const finding = detectFlatLoss(history(flatSteps(1.0, 1e-4, 3)))!;
    expect(finding.explanation).toMatch(/res5 and the head training at learning rate 0.0001 the run has reached a plateau/);
    expect(finding.fix).toBeNull();
  });
});
