// The worker pool with stand-in workers: order, concurrency, idle shutdown, a crash.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorkerPool, type PoolWorker } from '../../../src/data/worker-pool';

interface Req {
  jobId: number;
  value: number;
}
interface Res {
  jobId: number;
  doubled: number;
}

/** A worker that answers each message after `delayMs`, or crashes on value < 0. */
class FakeWorker implements PoolWorker {
  static live = 0;
  static maxBusy = 0;
  static busy = 0;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  terminated = false;
  constructor(private readonly delayMs: number) {
    FakeWorker.live += 1;
  }
  postMessage(message: unknown): void {
    const { jobId, value } = message as Req;
    FakeWorker.busy += 1;
    FakeWorker.maxBusy = Math.max(FakeWorker.maxBusy, FakeWorker.busy);
    setTimeout(() => {
      FakeWorker.busy -= 1;
      if (this.terminated) return;
      if (value < 0) this.onerror?.({ message: 'boom', preventDefault() {} } as ErrorEvent);
      else this.onmessage?.({ data: { jobId, doubled: value * 2 } } as MessageEvent);
    }, this.delayMs);
  }
  terminate(): void {
    if (!this.terminated) FakeWorker.live -= 1;
    this.terminated = true;
  }
}

afterEach(() => {
  FakeWorker.live = 0;
  FakeWorker.maxBusy = 0;
  FakeWorker.busy = 0;
  vi.useRealTimers();
});

describe('createWorkerPool', () => {
  it('answers every job, never runs more at once than its size', async () => {
    const pool = createWorkerPool<Req, Res>({ create: () => new FakeWorker(5), size: 3 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run({ value: i })));
    expect(results.map((r) => r.doubled)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(FakeWorker.maxBusy).toBe(3);
    expect(pool.alive).toBe(3);
    pool.destroy();
    expect(FakeWorker.live).toBe(0);
  });

  it('shuts idle workers down', async () => {
    vi.useFakeTimers();
    const pool = createWorkerPool<Req, Res>({ create: () => new FakeWorker(1), size: 2, idleMs: 100 });
    const done = pool.run({ value: 1 });
    await vi.advanceTimersByTimeAsync(2);
    await done;
    expect(pool.alive).toBe(1);
    await vi.advanceTimersByTimeAsync(150);
    expect(pool.alive).toBe(0);
    pool.destroy();
  });

  it('rejects the job of a worker that dies, replaces it, and keeps serving', async () => {
    const pool = createWorkerPool<Req, Res>({ create: () => new FakeWorker(2), size: 1 });
    const crashed = pool.run({ value: -1 });
    const after = pool.run({ value: 4 });
    await expect(crashed).rejects.toThrow(/crashed: boom/);
    expect((await after).doubled).toBe(8);
    pool.destroy();
    await expect(pool.run({ value: 1 })).rejects.toThrow(/shut down/);
  });
});
