// The pretrained network's own ImageNet head run on a sample of the user's images: how sure it is
// and how varied its answers are tell whether the input is what it was trained on.

/** The ImageNet head's top class for one image. */
export interface ImageNetTop1 {
  /** Dataset path of the image. */
  imageId: string;
  /** ImageNet class index, 0..999. */
  classIndex: number;
  /** Its softmax probability, 0..1. */
  probability: number;
  /** Human-readable class name (assets/labels.json), when known. */
  label?: string;
  /** The entropy of its 1000-way softmax divided by ln(1000), when measured. */
  normalizedEntropy?: number;
}

export interface ImageNetProbe {
  /** One per sampled image. */
  predictions: ImageNetTop1[];
  /** Mean over the images of the entropy of the 1000-way softmax divided by ln(1000) (see normalizedEntropy). */
  meanNormalizedEntropy?: number;
}

export interface ProbeClassCount {
  classIndex: number;
  label: string;
  count: number;
}

export interface ProbeSummary {
  imageCount: number;
  meanTop1: number;
  maxTop1: number;
  /** Predicted classes, most frequent first (ties: lower class index first). */
  classes: ProbeClassCount[];
}

export function summarizeProbe(probe: ImageNetProbe): ProbeSummary {
  const byClass = new Map<number, ProbeClassCount>();
  let sum = 0;
  let maxTop1 = 0;
  for (const p of probe.predictions) {
    const entry = byClass.get(p.classIndex) ?? { classIndex: p.classIndex, label: p.label ?? `class ${p.classIndex}`, count: 0 };
    entry.count += 1;
    byClass.set(p.classIndex, entry);
    sum += p.probability;
    maxTop1 = Math.max(maxTop1, p.probability);
  }
  const n = probe.predictions.length;
  return {
    imageCount: n,
    meanTop1: n > 0 ? sum / n : NaN,
    maxTop1,
    classes: [...byClass.values()].sort((a, b) => b.count - a.count || a.classIndex - b.classIndex),
  };
}

/** 'web site (916)'. */
export function describeClass(entry: ProbeClassCount): string {
  return `${entry.label} (${entry.classIndex})`;
}
