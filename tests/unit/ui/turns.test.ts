// The heavy renders take turns: one per task, lower order first, a cancelled turn never runs, and
// a turn that throws does not stop the ones after it.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { takeTurn } from '../../../src/ui/turns';

describe('takeTurn', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    // The queue lives in the module: drain it, so a failed test cannot leave turns behind.
    vi.runAllTimers();
    vi.useRealTimers();
  });

  it('runs one turn per task, lowest order first, in arrival order within an order', () => {
    const ran: string[] = [];
    takeTurn(2, () => ran.push('c'));
    takeTurn(0, () => ran.push('a'));
    takeTurn(2, () => ran.push('d'));
    takeTurn(1, () => ran.push('b'));
    expect(ran).toEqual([]);
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['a']);
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['a', 'b']);
    vi.runAllTimers();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  it('skips a cancelled turn and keeps going after one that throws', () => {
    const ran: string[] = [];
    const cancel = takeTurn(0, () => ran.push('cancelled'));
    takeTurn(0, () => {
      throw new Error('render failed');
    });
    takeTurn(1, () => ran.push('after'));
    cancel();
    expect(() => vi.advanceTimersToNextTimer()).toThrow('render failed');
    vi.runAllTimers();
    expect(ran).toEqual(['after']);
  });

  it('a turn queued by a running turn waits for a later task', () => {
    const ran: string[] = [];
    takeTurn(0, () => {
      ran.push('first');
      takeTurn(0, () => ran.push('queued meanwhile'));
    });
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['first']);
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['first', 'queued meanwhile']);
  });
});
