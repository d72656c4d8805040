import { describe, expect, it } from 'vitest';
import { detectHeadShortOfProbe, type HeadVsProbeInput } from '../../../../src/core/diagnostics/head-vs-probe';
import { crossValidateProbe } from '../../../../src/core/linear-probe';

const FIVE = ['a', 'b', 'c', 'd', 'e'];
const TEN = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * A head at validation macro-F1 0.6 on 200 images against a probe at 0.85 ± 0.03 over 5 folds.
 * Noise by hand: the run's Agresti–Coull p̃ = (0.6·200 + 2)/204 = 0.598, its error
 * √(p̃(1 − p̃)/204) = 0.0343; the probe's 0.03/√5 = 0.0134; 1.96·√(0.0343² + 0.0134²) = 0.0722.
 */
function input(overrides: Partial<HeadVsProbeInput> = {}): HeadVsProbeInput {
  return {
    runMacroF1: 0.6,
    runAccuracy: 0.62,
    validationCount: 200,
    probe: { macroF1Mean: 0.85, macroF1Std: 0.03, accuracyMean: 0.86, folds: 5 },
    classNames: FIVE,
    freezeDepth: 0,
    epochsTrained: 5,
    dropout: 0.2,
    learningRate: 1e-4,
    ...overrides,
  };
}

describe('detectHeadShortOfProbe', () => {
  it('warns when the head is 0.25 below the probe, beyond the ±0.0722 noise, and raises a low head learning rate', () => {
    const finding = detectHeadShortOfProbe(input())!;
    expect(finding.id).toBe('training/head-short-of-probe');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain("the run's head reaches macro-F1 0.6 (accuracy 62.0%), while a logistic regression on the same features reaches 0.85 ± 0.03 across 5 folds (accuracy 86.0%)");
    expect(finding.explanation).toContain("The gap, 0.25, is more than this many images' noise (±0.0722)");
    expect(finding.explanation).toContain('its learning rate, 0.0001, is below the 0.001 a new head usually trains at; it trained for 5 epochs only; the learning-rate schedule');
    expect(finding.fix).toEqual({ kind: 'setLearningRate', value: 1e-3, label: 'Raise the learning rate to 0.001' });
    const rows = finding.evidence.flatMap((e) => (e.kind === 'numbers' ? e.rows : []));
    expect(rows).toContainEqual({ label: 'Noise of that difference at 95%', value: '±0.0722' });
    expect(rows).toContainEqual({ label: 'Linear probe, cross-validated macro-F1', value: '0.85 ± 0.03 (5 folds)' });
  });

  it('picks its fix from what the run did: the head alone again, a lower rate, or none', () => {
    expect(detectHeadShortOfProbe(input({ freezeDepth: 3 }))!.fix).toEqual({ kind: 'setFreezeDepth', value: 0, learningRate: 1e-3, label: 'Train the head only at learning rate 0.001' });
    expect(detectHeadShortOfProbe(input({ learningRate: 0.05 }))!.fix).toEqual({ kind: 'setLearningRate', value: 1e-3, label: 'Lower the learning rate to 0.001' });
    const noClick = detectHeadShortOfProbe(input({ learningRate: 1e-3, epochsTrained: 20 }))!;
    expect(noClick.fix).toBeNull();
    expect(noClick.explanation).toContain('Likely: the learning-rate schedule (a cosine decay spends the last epochs near 0). More epochs, or less dropout');
    expect(detectHeadShortOfProbe(input({ dropout: 0.6 }))!.explanation).toContain('dropout hides 60.0% of the features at every step');
  });

  it('says "too few images to tell" (info, never a warning) when a 0.1 gap is within the ±0.208 noise of 20 images, and warns on the same gap with 2000', () => {
    // 20 images: p̃ = 16/24, error √(0.222/24) = 0.0962; probe 0.1/√5 = 0.0447; 1.96·0.1061 = 0.208.
    const few = input({ runMacroF1: 0.7, validationCount: 20, probe: { macroF1Mean: 0.8, macroF1Std: 0.1, accuracyMean: 0.8, folds: 5 } });
    const finding = detectHeadShortOfProbe(few)!;
    expect(finding.id).toBe('training/probe-inconclusive');
    expect(finding.severity).toBe('info');
    expect(finding.fix).toBeNull();
    expect(finding.explanation).toContain("too few images to tell, as the head's shortfall (0.1) is within what this few images move a score by (±0.208 at 95%)");
    // 2000 images and a tight probe: the noise is ±0.0219 and the same gap counts.
    const many = detectHeadShortOfProbe({ ...few, validationCount: 2000, probe: { ...few.probe, macroF1Std: 0.01 } })!;
    expect(many.id).toBe('training/head-short-of-probe');
    expect(many.explanation).toContain('(±0.0219)');
  });

  it('shows the probe as a baseline (info, no fix) when the head is within 0.05 of it, or above it', () => {
    for (const runMacroF1 of [0.82, 0.95]) {
      const finding = detectHeadShortOfProbe(input({ runMacroF1 }))!;
      expect(finding).toMatchObject({ id: 'training/probe-baseline', severity: 'info', fix: null });
      expect(finding.explanation).toContain(`the run's head ${runMacroF1}`);
    }
    expect(detectHeadShortOfProbe(input({ validationCount: 0 }))).toBeNull();
    expect(detectHeadShortOfProbe(input({ runMacroF1: NaN }))).toBeNull();
  });

  it('points at the features when the probe (0.35, at most 0.385) and the head (0.33) are both below 0.55 for 10 classes, and unfreezes res5', () => {
    // Chance 1/10; halfway to perfect 0.1 + 0.5·0.9 = 0.55. Probe upper bound 0.35 + 1.96·0.04/√5 = 0.385.
    const low = input({ classNames: TEN, runMacroF1: 0.33, runAccuracy: 0.34, validationCount: 500, learningRate: 1e-3, probe: { macroF1Mean: 0.35, macroF1Std: 0.04, accuracyMean: 0.36, folds: 5 } });
    const finding = detectHeadShortOfProbe(low)!;
    expect(finding.id).toBe('data/features-short');
    expect(finding.severity).toBe('warning');
    expect(finding.explanation).toContain('with 10 classes chance is 0.1, and 0.55 would be halfway from there to perfect');
    expect(finding.fix).toEqual({ kind: 'setFreezeDepth', value: 3, learningRate: 1e-4, label: 'Train res5 and the head at learning rate 0.0001' });
    // Already training res5: the next stage; everything: no fix.
    expect(detectHeadShortOfProbe({ ...low, freezeDepth: 3, learningRate: 1e-4 })!.fix).toEqual({
      kind: 'setFreezeDepth',
      value: 9,
      learningRate: 1e-4,
      label: 'Train res5, res4 and the head at learning rate 0.0001',
    });
    const all = detectHeadShortOfProbe({ ...low, freezeDepth: 17 })!;
    expect(all.fix).toBeNull();
    expect(all.explanation).toContain('Every block trains already');
  });

  it('does not blame the features when the probe is low but could reach the bar (0.5 ± 0.2 over 3 folds, up to 0.726 > 0.625)', () => {
    // 4 classes: bar 0.25 + 0.5·0.75 = 0.625; upper bound 0.5 + 1.96·0.2/√3 = 0.726.
    const finding = detectHeadShortOfProbe(
      input({ classNames: ['a', 'b', 'c', 'd'], runMacroF1: 0.5, validationCount: 24, probe: { macroF1Mean: 0.5, macroF1Std: 0.2, accuracyMean: 0.5, folds: 3 } }),
    )!;
    expect(finding.id).toBe('training/probe-inconclusive');
    expect(finding.severity).toBe('info');
    expect(finding.explanation).toContain('could be as high as 0.726');
  });

  it('when the head is short and the probe low as well, warns about the head and says the features come next', () => {
    const finding = detectHeadShortOfProbe(input({ classNames: TEN, runMacroF1: 0.2, validationCount: 500, probe: { macroF1Mean: 0.45, macroF1Std: 0.03, accuracyMean: 0.46, folds: 5 } }))!;
    expect(finding.id).toBe('training/head-short-of-probe');
    expect(finding.explanation).toContain('The probe itself is low too (below 0.55, halfway from chance to perfect)');
  });

  it('is inconclusive when the probe could not be cross-validated', () => {
    const finding = detectHeadShortOfProbe(input({ probe: { macroF1Mean: 0.85, macroF1Std: 0, accuracyMean: 0.86, folds: 1 } }))!;
    expect(finding.severity).toBe('info');
    expect(finding.explanation).toContain('the probe could not be cross-validated');
  });

  it("takes crossValidateProbe's result as its probe", () => {
    const labels = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const features = Float32Array.from({ length: 40 }, (_, j) => (j % 2 === 0 ? labels[j >> 1]! * 4 : 0) + ((j * 7919) % 13) / 13);
    const probe = crossValidateProbe(features, labels, 2, { seed: 1 });
    const finding = detectHeadShortOfProbe(input({ classNames: ['x', 'y'], runMacroF1: 0.3, validationCount: 100, probe }))!;
    expect(probe.macroF1Mean).toBe(1);
    expect(finding.id).toBe('training/head-short-of-probe');
    // Each class's recall with its Wilson interval: 10 of 10 right is 100% (95%: 72.2%–100%).
    const recall = finding.evidence.flatMap((e) => (e.kind === 'numbers' ? e.rows : [])).filter((r) => r.label.startsWith('Probe recall'));
    expect(recall).toEqual([
      { label: 'Probe recall, x', value: '100.0% (95%: 72.2%–100.0%, 10 images)' },
      { label: 'Probe recall, y', value: '100.0% (95%: 72.2%–100.0%, 10 images)' },
    ]);
  });
});
