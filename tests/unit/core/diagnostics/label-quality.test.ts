import { describe, expect, it } from 'vitest';
import { detectLabelIssues, findLabelIssues, perClassThresholds, topLosses, type OutOfSamplePrediction } from '../../../../src/core/diagnostics/label-quality';

const p = (id: string, label: number, probabilities: number[]): OutOfSamplePrediction => ({ id, label, probabilities });

/**
 * Three cats and three dogs. Thresholds by hand: cat = mean p(cat | labelled cat) =
 * (0.9 + 0.8 + 0.1) / 3 = 0.6; dog = (0.9 + 0.7 + 0.8) / 3 = 0.8. cat/3 has p(cat) 0.1 < 0.6 and
 * p(dog) 0.9 ≥ 0.8: likely a dog. dog/2 has p(dog) 0.7 < 0.8 but p(cat) 0.3 < 0.6: just unsure.
 */
const PETS = [
  p('cat/1', 0, [0.9, 0.1]),
  p('cat/2', 0, [0.8, 0.2]),
  p('cat/3', 0, [0.1, 0.9]),
  p('dog/1', 1, [0.1, 0.9]),
  p('dog/2', 1, [0.3, 0.7]),
  p('dog/3', 1, [0.2, 0.8]),
];

describe('confident learning', () => {
  it('computes per-class thresholds and flags only images another class claims confidently', () => {
    const thresholds = perClassThresholds(PETS, 2);
    expect(thresholds[0]).toBeCloseTo(0.6, 12);
    expect(thresholds[1]).toBeCloseTo(0.8, 12);
    expect(findLabelIssues(PETS, 2)).toEqual([{ id: 'cat/3', givenLabel: 0, suggestedLabel: 1, selfConfidence: 0.1, suggestedProbability: 0.9 }]);
  });

  it('never flags an image the model gives its own class more than any other, whatever the bars say', () => {
    // Bars by hand: a = (0.98 + 0.45) / 2 = 0.715, b = 0.99, c = (0.5 + 0.1) / 2 = 0.3. a/2 is below
    // its bar (0.45 < 0.715) and c clears its own (0.40 ≥ 0.3), but the model still prefers a.
    const images = [
      p('a/1', 0, [0.98, 0.01, 0.01]),
      p('a/2', 0, [0.45, 0.15, 0.4]),
      p('b/1', 1, [0.005, 0.99, 0.005]),
      p('c/1', 2, [0.3, 0.2, 0.5]),
      p('c/2', 2, [0.5, 0.4, 0.1]),
    ];
    const thresholds = perClassThresholds(images, 3);
    expect(thresholds[0]).toBeCloseTo(0.715, 12);
    expect(thresholds[2]).toBeCloseTo(0.3, 12);
    expect(findLabelIssues(images, 3).map((i) => i.id)).toEqual([]);
  });

  it('lists the highest losses first: −ln 0.1 = 2.30, −ln 0.7 = 0.357, −ln 0.8 = 0.223', () => {
    const losses = topLosses(PETS, 3);
    expect(losses.map((l) => l.id)).toEqual(['cat/3', 'dog/2', 'cat/2']);
    expect(losses[0]!.loss).toBeCloseTo(2.302585, 5);
  });
});

describe('detectLabelIssues', () => {
  it('reports 1 suspect of 6 (16.7%) as info only: too few to tell from the model’s own mistakes', () => {
    const finding = detectLabelIssues({ classNames: ['cat', 'dog'], predictions: PETS })!;
    expect(finding.id).toBe('labels/likely-mislabeled');
    expect(finding.severity).toBe('info');
    expect(finding.fix).toBeNull();
    expect(finding.evidence[0]).toEqual({
      kind: 'suspects',
      label: 'Likely in the wrong class, most suspicious first',
      images: [{ id: 'cat/3', given: 'cat', suggested: 'dog', givenProbability: 0.1, suggestedProbability: 0.9, loss: expect.closeTo(2.302585, 5) as number }],
    });
  });

  it('warns with four suspects or more, at least 15% of the images with 95% confidence (5 of 10: Wilson 23.7%–76.3%)', () => {
    const swapped = ['cat/a', 'cat/b', 'cat/c', 'cat/d'].map((id) => p(id, 0, [0.1, 0.9]));
    const finding = detectLabelIssues({ classNames: ['cat', 'dog'], predictions: [...PETS, ...swapped] })!;
    expect(finding.severity).toBe('warning');
    // From a model still training: info until the run's end checks again.
    expect(detectLabelIssues({ classNames: ['cat', 'dog'], predictions: [...PETS, ...swapped], provisional: true })!.severity).toBe('info');
  });

  it('is only info when the suspects may be under 15% (1 of 26; and 4 of 22, whose Wilson interval starts at 7.3%)', () => {
    const many = [...PETS, ...Array.from({ length: 20 }, (_, i) => p(`dog/extra${i}`, 1, [0.2, 0.8]))];
    expect(detectLabelIssues({ classNames: ['cat', 'dog'], predictions: many })?.severity).toBe('info');
    const fourOf22 = [...many.slice(0, 19), ...['cat/a', 'cat/b', 'cat/c'].map((id) => p(id, 0, [0.1, 0.9]))];
    expect(fourOf22).toHaveLength(22);
    expect(detectLabelIssues({ classNames: ['cat', 'dog'], predictions: fourOf22 })?.severity).toBe('info');
  });

  it('stays silent when every image is closest to its own class', () => {
    const clean = [p('cat/1', 0, [0.9, 0.1]), p('cat/2', 0, [0.7, 0.3]), p('dog/1', 1, [0.2, 0.8]), p('dog/2', 1, [0.4, 0.6])];
    expect(detectLabelIssues({ classNames: ['cat', 'dog'], predictions: clean })).toBeNull();
  });
});
