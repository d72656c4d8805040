// Orders findings so that the most likely cause of a stalled run comes first: by severity, then
// by how far upstream the rule's cause sits (a wrong input explains a flat loss, not the reverse).

import type { Finding, Severity } from './types';

const SEVERITY_RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };

/**
 * Priority of each rule within a severity, higher first. Upstream causes rank above their
 * symptoms: what the network is fed, then whether the run is numerically sane, then the data,
 * then the schedule, then the labels. Rules not listed rank last.
 */
export const RULE_PRIORITY: Readonly<Record<string, number>> = Object.freeze({
  'input/wrong-normalization': 100,
  'input/channel-order': 98,
  'split/spec-mismatch': 95,
  'training/bn-drift-frozen': 90,
  'training/non-finite-loss': 88,
  'training/diverging-loss': 85,
  'split/statistics-mismatch': 80,
  'training/unfreeze-high-lr': 75,
  'data/class-imbalance': 70,
  'training/flat-loss': 65,
  'training/head-short-of-probe': 62,
  'training/initial-loss': 60,
  'data/stretched-images': 57,
  'data/unlike-imagenet': 55,
  'data/features-short': 54,
  'training/overfitting': 50,
  'data/split-leakage': 45,
  'labels/likely-mislabeled': 40,
});

/** A new array: critical > warning > info, then by RULE_PRIORITY; equal ones keep their order. */
export function rankFindings(findings: readonly Finding[]): Finding[] {
  const priority = (f: Finding) => RULE_PRIORITY[f.id] ?? 0;
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || priority(b) - priority(a));
}
