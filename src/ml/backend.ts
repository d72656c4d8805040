// Chooses the tfjs backend: WebGPU first, then WebGL, then WASM, then CPU, or the one the user
// forces. tfjs quietly falls back when a backend fails to initialise, so what is reported is
// always what `tf.getBackend()` says we actually got, with the reason each better one was skipped.

import * as tf from '@tensorflow/tfjs';
import { BACKEND_PREFERENCE, type BackendName } from '../core/backends';
import { LabError } from '../core/errors';
import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter';


export interface BackendOptions {
  /** Use only this backend; fail if it does not start. Default: try them in BACKEND_PREFERENCE order. */
  force?: BackendName;
  /** Where the tfjs-backend-wasm binaries are served, by file name (a bundler's asset URLs). Default: next to the module (Node). */
  wasmPaths?: Partial<Record<WasmBinaryName, string>>;
  /** Threads for the wasm backend when the page is cross-origin isolated. Default: the core count. */
  wasmThreads?: number;
}

export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface BackendReport {
  /** What tfjs runs on, read back from `tf.getBackend()`. */
  name: BackendName;
  /** Better backends that did not start, and why. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: threads the backend reports it uses. */
  wasmThreads?: number;
}

async function register(name: BackendName, options: BackendOptions): Promise<void> {
  if (name === 'webgpu') {
    const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
    if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    if (!(await gpu.requestAdapter())) throw new Error('no WebGPU adapter');
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'webgl') {
    if (typeof OffscreenCanvas === 'undefined' && !('document' in globalThis)) {
      throw new Error('no canvas to create a WebGL context on');
    }
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths, true);
    const threads = options.wasmThreads ?? globalThis.navigator?.hardwareConcurrency;
    if (threads) wasm.setThreadsCount(threads);
    // tfjs-backend-wasm has no filter gradient: without ours no conv layer could train on it.
    registerWasmConv2DBackpropFilter();
  }
}

async function tryBackend(name: BackendName, options: BackendOptions): Promise<string | null> {
  try {
    await register(name, options);
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return 'tfjs could not initialise it';
    await tf.ready();
    // A backend can start and still fail on the first kernel (a lost device, a shader that does not compile).
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Starts the forced backend, or the best one that works here, and reports what it got. */
export async function initBackend(options: BackendOptions = {}): Promise<BackendReport> {
  const candidates = options.force ? [options.force] : BACKEND_PREFERENCE;
  const skipped: BackendReport['skipped'] = [];
  for (const name of candidates) {
    const reason = await tryBackend(name, options);
    if (reason === null) {
      const report: BackendReport = { name, skipped };
      if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        report.wasmThreads = wasm.getThreadsCount();
      }
      return report;
    }
    skipped.push({ name, reason });
  }
  const tried = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new LabError('backend/unavailable', `No TensorFlow.js backend could start (${tried}).`);
}
