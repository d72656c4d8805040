import { describe, expect, it } from 'vitest';
import { runDiagnostics, type DiagnosticsInput } from '../../../../src/core/diagnostics';
import { healthyHistory, healthyInput, statisticsFor } from './fixtures';

describe('runDiagnostics', () => {
  it('finds nothing above info in a healthy case: caffe input, equal specs, mild imbalance, no copies, a falling loss', () => {
    const findings = runDiagnostics(healthyInput());
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('runs only the rules whose inputs are there', () => {
    expect(runDiagnostics({})).toEqual([]);
    const onlyTraining: DiagnosticsInput = { training: { ...healthyHistory(), steps: healthyHistory().steps.map((s) => (s.step === 5 ? { ...s, loss: NaN } : s)) } };
    expect(runDiagnostics(onlyTraining).map((f) => f.id)).toEqual(['training/non-finite-loss']);
  });

  it('puts the x/255-then-caffe bug first when it also leaves the loss flat at chance', () => {
    const showcase: DiagnosticsInput = {
      ...healthyInput(),
      inputNormalization: {
        statistics: statisticsFor('div255-then-caffe'),
        currentProbe: {
          // Measured here with that bug: 'web site' (916) or 'television' (851) at 5.2–5.6%.
          predictions: [0.052, 0.056, 0.054, 0.055].map((probability, i) => ({ imageId: `train/a/${i}.jpg`, classIndex: i % 2 ? 851 : 916, probability })),
        },
      },
      // 80 steps at ln 5 ± 2%: nothing learned.
      training: {
        ...healthyHistory(),
        steps: Array.from({ length: 80 }, (_, step) => ({ step, loss: Math.log(5) * (1 + 0.02 * Math.sin(step)), learningRate: 1e-3, freezeDepth: 0 })),
        epochs: [],
      },
    };
    const findings = runDiagnostics(showcase);
    expect(findings.map((f) => f.id)).toEqual(['input/wrong-normalization', 'training/flat-loss']);
    expect(findings[0]!.fix?.kind).toBe('setNormalization');
  });
});
