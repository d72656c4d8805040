// A kernel helper thread for Node tests: a worker_threads Worker running the browser worker's own
// serveKernelThread, behind the parts of a Worker that kernel-threads.ts uses.

import { Worker } from 'node:worker_threads';
import type { KernelThreadWorker } from '../../src/ml/kernels/kernel-threads';

export function nodeKernelThread(): KernelThreadWorker {
  const worker = new Worker(new URL('./node-kernel-thread.worker.mjs', import.meta.url));
  const handle: KernelThreadWorker = {
    onerror: null,
    postMessage: (message) => worker.postMessage(message),
    terminate: () => void worker.terminate(),
  };
  worker.on('error', (error: Error) => handle.onerror?.({ message: error.message } as ErrorEvent));
  return handle;
}
