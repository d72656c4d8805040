// A small seeded PRNG, so splits, shuffles and initial weights are reproducible from a shown seed.

/** mulberry32: 32-bit state, good enough for shuffling and initialisation. Returns [0, 1). */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of 0..n-1. */
export function shuffledIndices(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * `count` indices of a labelled set, as evenly spread over its classes as they allow: each class's
 * images in a seeded random order, taken one class after another in turn. The first images in file
 * order are often one or two classes, and two splits sampled that way compare different classes.
 */
export function stratifiedSample(labels: ArrayLike<number>, count: number, seed: number): number[] {
  const random = createPrng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!byClass.has(label)) byClass.set(label, []);
    byClass.get(label)!.push(i);
  }
  const queues = [...byClass.keys()].sort((a, b) => a - b).map((label) => {
    const members = byClass.get(label)!;
    return shuffledIndices(members.length, random).map((j) => members[j]!);
  });
  const picked: number[] = [];
  for (let round = 0; picked.length < Math.min(count, labels.length); round++) {
    for (const queue of queues) if (round < queue.length && picked.length < count) picked.push(queue[round]!);
  }
  return picked;
}
