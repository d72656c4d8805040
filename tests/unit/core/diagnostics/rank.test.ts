import { describe, expect, it } from 'vitest';
import { rankFindings } from '../../../../src/core/diagnostics/rank';
import type { Finding, Severity } from '../../../../src/core/diagnostics/types';

const finding = (id: string, severity: Severity): Finding => ({ id, severity, title: id, explanation: '', evidence: [], fix: null });

describe('rankFindings', () => {
  it('orders by severity, then upstream causes before their symptoms, and keeps unknown rules last', () => {
    const ranked = rankFindings([
      finding('labels/likely-mislabeled', 'info'),
      finding('training/flat-loss', 'critical'),
      finding('custom/rule', 'critical'),
      finding('data/split-leakage', 'warning'),
      finding('input/wrong-normalization', 'critical'),
    ]);
    expect(ranked.map((f) => f.id)).toEqual(['input/wrong-normalization', 'training/flat-loss', 'custom/rule', 'data/split-leakage', 'labels/likely-mislabeled']);
  });

  it('returns a new array and keeps the order of equals', () => {
    const input = [finding('x/a', 'info'), finding('x/b', 'info')];
    const ranked = rankFindings(input);
    expect(ranked).not.toBe(input);
    expect(ranked.map((f) => f.id)).toEqual(['x/a', 'x/b']);
  });
});
