// Runs a kernel of ours on more than one thread. Helper workers instantiate the same module on the
// backend's shared memory; each call hands every ready helper its arguments through a small
// shared control block and runs the caller's own share meanwhile. Between calls a helper blocks in
// Atomics.wait, so a call costs a store, a notify and a wait: no message, no copy.

import { LabError } from '../../core/errors';

/** The parts of a Worker the threads use (a real one, or a Node worker_threads stand-in in tests). */
export interface KernelThreadWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror: ((event: ErrorEvent) => void) | null;
}

/** The one message a helper gets; it marks itself ready in the control block once it can take work. */
export interface KernelThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The control block: Int32 [state, export index, arguments…]. */
  control: SharedArrayBuffer;
  /** The module's exports a call can run, by index. */
  exportNames: readonly string[];
}


/** i32 arguments a call passes at most. */
export const MAX_ARGUMENTS = 16;

const STATE = 0;
const EXPORT_INDEX = 1;
const FIRST_ARGUMENT = 2;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const FAILED = 3;
const STOPPED = 4;
/** Until the helper has instantiated the module: read without a message, since the caller's
 * thread may be computing for seconds and not take one (a bench step, a long synchronous call). */
const STARTING = 5;

/**
 * A helper's wait for its share. One call takes milliseconds to seconds; a helper that has not
 * answered after this long is taken for dead (a crashed or killed worker never notifies).
 */
const HELPER_TIMEOUT_MS = 60_000;

/** The helper's side, shared by the browser's worker entry and Node's: returns once stopped. */
export function serveKernelThread(init: KernelThreadInit): void {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const functions = init.exportNames.map((name) => instance.exports[name] as (...args: number[]) => void);
  const control = new Int32Array(init.control);
  Atomics.compareExchange(control, STATE, STARTING, IDLE);
  for (;;) {
    let state = Atomics.load(control, STATE);
    while (state !== POSTED && state !== STOPPED) {
      Atomics.wait(control, STATE, state);
      state = Atomics.load(control, STATE);
    }
    if (state === STOPPED) return;
    try {
      functions[control[EXPORT_INDEX]!]!(...control.subarray(FIRST_ARGUMENT, FIRST_ARGUMENT + MAX_ARGUMENTS));
      Atomics.store(control, STATE, DONE);
    } catch {
      Atomics.store(control, STATE, FAILED);
    }
    Atomics.notify(control, STATE);
  }
}

export interface KernelThreads {
  /** Helpers that can take a share now: 0 until they have started, and after one failed. */
  readonly ready: number;
  /**
   * Runs the export `exportName` with `shares[i]` as its arguments on helper i while `own` runs
   * here, and returns when all are done. Takes up to `ready` shares (helpers past them stay idle:
   * one may have become ready since the caller counted); throws if a helper fails or does not answer.
   */
  run(exportName: string, shares: readonly (readonly number[])[], own: () => void): void;
  destroy(): void;
}

interface Helper {
  worker: KernelThreadWorker;
  control: Int32Array;
  /** False once the worker has reported an error (it failed to start, or died). */
  alive: boolean;
}

export interface KernelThreadsOptions {
  module: WebAssembly.Module;
  /** Shared: the helpers see it as it is, growth included. */
  memory: WebAssembly.Memory;
  exportNames: readonly string[];
  count: number;
  spawn: () => KernelThreadWorker;
}

/** Starts `count` helpers; calls can run on the ones ready so far while the others start. */
export function startKernelThreads({ module, memory, exportNames, count, spawn }: KernelThreadsOptions): KernelThreads {
  const helpers: Helper[] = [];
  let broken = false;
  for (let i = 0; i < count; i++) {
    const control = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (FIRST_ARGUMENT + MAX_ARGUMENTS));
    const helper: Helper = { worker: spawn(), control: new Int32Array(control), alive: true };
    Atomics.store(helper.control, STATE, STARTING);
    helper.worker.onerror = () => {
      helper.alive = false;
    };
    const init: KernelThreadInit = { module, memory, control, exportNames };
    helper.worker.postMessage(init);
    helpers.push(helper);
  }
  const readyHelpers = () => (broken ? [] : helpers.filter((h) => h.alive && Atomics.load(h.control, STATE) !== STARTING));

  return {
    get ready() {
      return readyHelpers().length;
    },
    run(exportName, shares, own) {
      const ready = readyHelpers();
      const index = exportNames.indexOf(exportName);
      if (index < 0) throw new Error(`kernel threads: no export '${exportName}'`);
      if (shares.length > ready.length) throw new Error(`kernel threads: ${shares.length} shares for ${ready.length} ready helpers`);
      const taking = ready.slice(0, shares.length);
      taking.forEach((helper, i) => {
        helper.control[EXPORT_INDEX] = index;
        helper.control.set(shares[i]!, FIRST_ARGUMENT);
        Atomics.store(helper.control, STATE, POSTED);
        Atomics.notify(helper.control, STATE);
      });
      let ownError: unknown = null;
      try {
        own();
      } catch (error) {
        ownError = error;
      }
      // Every helper is waited for, even after a failure, so that none is still writing when this
      // returns (but one that never answers).
      let failure: LabError | null = null;
      for (const helper of taking) {
        const answered = Atomics.wait(helper.control, STATE, POSTED, HELPER_TIMEOUT_MS) !== 'timed-out' || Atomics.load(helper.control, STATE) !== POSTED;
        if (answered && Atomics.load(helper.control, STATE) === DONE) {
          Atomics.store(helper.control, STATE, IDLE);
          continue;
        }
        // Its share is unknown, and it may still be writing: no later call uses any helper.
        broken = true;
        failure ??= new LabError('worker/died', answered ? 'A kernel thread failed while computing its share of a convolution or gradient.' : `A kernel thread did not answer within ${HELPER_TIMEOUT_MS / 1000} s.`);
      }
      if (ownError) throw ownError;
      if (failure) throw failure;
    },
    destroy() {
      broken = true;
      for (const helper of helpers) {
        Atomics.store(helper.control, STATE, STOPPED);
        Atomics.notify(helper.control, STATE);
        helper.worker.terminate();
      }
    },
  };
}
