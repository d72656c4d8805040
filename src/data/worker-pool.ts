// A typed pool of workers: run(request, transfer) resolves with the worker's reply. One job per
// worker at a time, jobs queue in order, idle workers shut down, and a worker that dies rejects
// the job it had and is replaced.

export interface PoolRequest {
  jobId: number;
}

export interface PoolReply {
  jobId: number;
}

/** The parts of a Worker the pool uses (a real one, or a stand-in in Node tests). */
export interface PoolWorker {
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
}

export interface WorkerPoolOptions {
  create: () => PoolWorker;
  /** Workers at most. Default: navigator.hardwareConcurrency − 1, at least 1. */
  size?: number;
  /** A worker idle this long is shut down. Default: 10 000 ms. */
  idleMs?: number;
}

export interface WorkerPool<Req, Res> {
  run(request: Omit<Req, 'jobId'>, transfer?: Transferable[]): Promise<Res>;
  readonly size: number;
  /** Workers alive right now. */
  readonly alive: number;
  destroy(): void;
}

interface Slot {
  worker: PoolWorker;
  busy: boolean;
  idleTimer: ReturnType<typeof setTimeout> | null;
  pending: { jobId: number; resolve: (value: unknown) => void; reject: (error: Error) => void } | null;
}

export const DEFAULT_IDLE_MS = 10_000;

export function defaultPoolSize(): number {
  return Math.max(1, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1);
}

export function createWorkerPool<Req extends PoolRequest, Res extends PoolReply>(options: WorkerPoolOptions): WorkerPool<Req, Res> {
  const size = Math.max(1, options.size ?? defaultPoolSize());
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const slots: Slot[] = [];
  const queue: { message: Omit<Req, 'jobId'>; transfer: Transferable[]; resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  let nextJobId = 1;
  let destroyed = false;

  const retire = (slot: Slot) => {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.worker.terminate();
    slots.splice(slots.indexOf(slot), 1);
  };

  const spawn = (): Slot => {
    const slot: Slot = { worker: options.create(), busy: false, idleTimer: null, pending: null };
    slot.worker.onmessage = (event: MessageEvent) => {
      const reply = event.data as Res;
      const pending = slot.pending;
      if (!pending || reply.jobId !== pending.jobId) return;
      slot.pending = null;
      slot.busy = false;
      pending.resolve(reply);
      pump();
    };
    slot.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      const pending = slot.pending;
      retire(slot);
      pending?.reject(new Error(`A decoding worker crashed: ${event.message || 'no message'}.`));
      pump();
    };
    slots.push(slot);
    return slot;
  };

  function pump(): void {
    while (queue.length > 0) {
      const slot = slots.find((s) => !s.busy) ?? (slots.length < size ? spawn() : null);
      if (!slot) return;
      const job = queue.shift()!;
      const jobId = nextJobId++;
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
      slot.busy = true;
      slot.pending = { jobId, resolve: job.resolve, reject: job.reject };
      slot.worker.postMessage({ ...job.message, jobId }, job.transfer);
    }
    for (const slot of slots) {
      if (!slot.busy && !slot.idleTimer) slot.idleTimer = setTimeout(() => retire(slot), idleMs);
    }
  }

  return {
    size,
    get alive() {
      return slots.length;
    },
    run(message, transfer = []) {
      if (destroyed) return Promise.reject(new Error('The worker pool was shut down.'));
      return new Promise<Res>((resolve, reject) => {
        queue.push({ message, transfer, resolve: resolve as (value: unknown) => void, reject });
        pump();
      });
    },
    destroy() {
      destroyed = true;
      for (const job of queue.splice(0)) job.reject(new Error('The worker pool was shut down.'));
      for (const slot of [...slots]) {
        slot.pending?.reject(new Error('The worker pool was shut down.'));
        retire(slot);
      }
    },
  };
}
