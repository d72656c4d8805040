import { describe, expect, it } from 'vitest';
import { detectClassImbalance } from '../../../../src/core/diagnostics/class-imbalance';

const classNames = ['cats', 'dogs', 'birds'];
/** Validation: 90 cats, 6 dogs, 4 birds; the model answers "cats" for all but one dog. */
const COLLAPSED = [
  [90, 0, 0],
  [5, 1, 0],
  [4, 0, 0],
];

describe('detectClassImbalance', () => {
  it('fires critical when a 30× imbalance has collapsed the model onto the big class and weighting is off', () => {
    const finding = detectClassImbalance({ classNames, trainCounts: [900, 60, 30], classWeighting: 'off', validationConfusion: COLLAPSED })!;
    expect(finding.id).toBe('data/class-imbalance');
    expect(finding.severity).toBe('critical');
    expect(finding.fix).toEqual({ kind: 'setClassWeighting', value: 'balanced', label: 'Turn on balanced class weighting' });
    // Accuracy 91/100; always answering cats: 90/100; birds recalled 0 of 4 (dogs at 1/6 = 16.7% are not "never").
    expect(finding.explanation).toContain('scores 91.0% on validation against 90.0%');
    expect(finding.explanation).toContain('birds (0.0%)');
    expect(finding.explanation).not.toContain('dogs (');
    const series = finding.evidence.find((e) => e.kind === 'series');
    expect(series?.kind === 'series' && series.points).toEqual([
      { x: 0, y: 900 },
      { x: 1, y: 60 },
      { x: 2, y: 30 },
    ]);
  });

  it('scales the severity with the ratio when there is no collapse: info from 3×, warning from 10×', () => {
    expect(detectClassImbalance({ classNames, trainCounts: [120, 60, 40], classWeighting: 'off' })?.severity).toBe('info');
    expect(detectClassImbalance({ classNames, trainCounts: [400, 60, 40], classWeighting: 'off' })?.severity).toBe('warning');
  });

  it('offers no fix once weighting is balanced, and keeps a collapse despite it at warning', () => {
    const weighted = detectClassImbalance({ classNames, trainCounts: [400, 60, 40], classWeighting: 'balanced' })!;
    expect(weighted.severity).toBe('info');
    expect(weighted.fix).toBeNull();
    expect(detectClassImbalance({ classNames, trainCounts: [900, 60, 30], classWeighting: 'balanced', validationConfusion: COLLAPSED })?.severity).toBe('warning');
  });

  it('stays silent on balanced enough data, even with a poor model', () => {
    expect(detectClassImbalance({ classNames, trainCounts: [50, 40, 30], classWeighting: 'off', validationConfusion: COLLAPSED })).toBeNull();
    expect(detectClassImbalance({ classNames, trainCounts: [50, 0, 0], classWeighting: 'off' })).toBeNull();
  });
});
