// The worker_threads entry of nodeKernelThread (node-kernel-thread.ts). Plain JavaScript, because
// a worker's entry file is loaded before any loader applies; it registers tsx, then runs the
// browser worker's own serveKernelThread.

import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serveKernelThread } = await import('../../src/ml/kernels/kernel-threads.ts');
parentPort.once('message', (init) => serveKernelThread(init));
