// The step chart follows a run a few times a second: values pushed faster are dropped, except the
// last, which always arrives.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from '../../../src/core/throttle';

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the first value on at once, then at most one per interval, ending with the last', () => {
    const emitted: number[] = [];
    const t = throttle<number>(200, (v) => emitted.push(v));
    t.push(1);
    vi.advanceTimersByTime(0);
    expect(emitted).toEqual([1]);
    for (let v = 2; v <= 100; v++) {
      t.push(v);
      vi.advanceTimersByTime(2); // a step every 2 ms, as a cached run goes
    }
    vi.advanceTimersByTime(1000);
    // 198 ms of pushes after the first, all within one interval: the next emission, at 200 ms, is the last value.
    expect(emitted).toEqual([1, 100]);
  });

  it('at a steady 2 ms a value, emits about 5 a second', () => {
    const emitted: number[] = [];
    const t = throttle<number>(200, (v) => emitted.push(v));
    for (let v = 1; v <= 500; v++) {
      t.push(v);
      vi.advanceTimersByTime(2);
    }
    vi.runAllTimers();
    expect(emitted.length).toBeGreaterThanOrEqual(5);
    expect(emitted.length).toBeLessThanOrEqual(7);
    expect(emitted.at(-1)).toBe(500);
  });

  it('emits nothing after cancel', () => {
    const emitted: number[] = [];
    const t = throttle<number>(200, (v) => emitted.push(v));
    t.push(1);
    t.cancel();
    vi.runAllTimers();
    expect(emitted).toEqual([]);
  });
});
