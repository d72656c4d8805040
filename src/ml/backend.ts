// Chooses the tfjs backend: WebGPU first, then WebGL, then WASM, then CPU, or the one the user
// forces. tfjs quietly falls back when a backend fails to initialise, so what is reported is
// always what `tf.getBackend()` says we actually got, with the reason each better one was skipped.

import * as tf from '@tensorflow/tfjs';
import { BACKEND_PREFERENCE, type BackendName } from '../core/backends';
import { LabError } from '../core/errors';
import { registerWasmChannelScale } from './channel-scale';
import { registerWasmChannelSums } from './channel-sums';
import { registerWasmReluBackprop } from './relu-gradient';
import { registerWasmAdam } from './wasm-adam';
import type { KernelThreadWorker } from './kernels/kernel-threads';
import { registerWasmConv2D } from './wasm-conv2d';
import { registerWasmConv2DGradients } from './wasm-conv2d-gradients';
import { runningWasmKernels, startWasmKernelThreads } from './wasm-tensors';
import { registerWasmSharedIdentity } from './wasm-identity';


export interface BackendOptions {
  /** Use only this backend; fail if it does not start. Default: try them in BACKEND_PREFERENCE order. */
  force?: BackendName;
  /** Where the tfjs-backend-wasm binaries are served, by file name (a bundler's asset URLs). Default: next to the module (Node). */
  wasmPaths?: Partial<Record<WasmBinaryName, string>>;
  /** Threads for our wasm kernels when the page is cross-origin isolated. Default: every logical core (8 at most). */
  wasmThreads?: number;
  /**
   * Starts a helper thread for our own wasm kernels (workers/kernel.worker.ts); with it, they use
   * `wasmThreads` threads. Only from a worker: the kernels' callers then block on them.
   * Default: none (our kernels run on the calling thread alone).
   */
  kernelThread?: () => KernelThreadWorker;
}

export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface BackendReport {
  /** What tfjs runs on, read back from `tf.getBackend()`. */
  name: BackendName;
  /** Better backends that did not start, and why. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: threads our kernels (the convolutions and their gradients, Adam…) run on. */
  wasmThreads?: number;
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; architecture?: string; description?: string };
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software/i;

/**
 * A software GPU (SwiftShader, llvmpipe) runs ResNet50 ~25× slower than WASM on the same CPU
 * (measured here: ~17 s against ~0.3 s per 224² image), so the automatic choice passes it over;
 * forcing the backend still uses it.
 */
async function checkWebGpu(allowSoftware: boolean): Promise<void> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const software = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  if (software && !allowSoftware) {
    throw new Error(`only a software adapter (${adapter.info?.architecture || 'fallback'}), slower than WASM on this machine`);
  }
}

function checkWebGl(allowSoftware: boolean): void {
  if (typeof OffscreenCanvas === 'undefined') throw new Error('no OffscreenCanvas to create a WebGL context on');
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) throw new Error('WebGL 2 is not available');
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  if (SOFTWARE_RENDERER.test(renderer) && !allowSoftware) throw new Error(`only a software renderer (${renderer}), slower than WASM on this machine`);
}

async function register(name: BackendName, options: BackendOptions): Promise<void> {
  const allowSoftware = options.force === name;
  if (name === 'webgpu') {
    await checkWebGpu(allowSoftware);
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'webgl') {
    checkWebGl(allowSoftware);
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths, true);
    // tfjs-wasm's own pool runs only what our kernels do not (the residual adds, ReLU, pooling, the
    // head), on one thread: our kernels take the cores (initBackend). Its pool's workers spin for a
    // while after every op they run; with one per core they took cores from our kernels' threads
    // (Chromium, 2 cores, two runs of each: k=0 241/247 ms a step against 267/260, k=16 batch 4
    // 761/760 against 791/817). The threaded build still loads: tfjs picks the binary by what the
    // page supports, not by the count, so its memory is shared and our helpers work on it.
    wasm.setThreadsCount(1);
    // tfjs-backend-wasm has no filter gradient and a scalar-loop input gradient (wasm-conv2d-gradients.ts),
    // and its XNNPACK convolution has no fused multiply-add (wasm-conv2d.ts).
    registerWasmConv2D();
    registerWasmConv2DGradients();
    registerWasmChannelSums();
    registerWasmChannelScale();
    registerWasmReluBackprop();
    registerWasmAdam();
    registerWasmSharedIdentity();
  }
}

/** Threads our kernels split a call over at most: tfjs-wasm's own ceiling, kept (only 2 cores measured here). */
const WASM_MAX_THREADS = 8;

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
        // Every logical core (or what was asked), when the memory is shared (a cross-origin
        // isolated page) and there is a way to start helpers; else the calling thread alone.
        const asked = Math.min(options.wasmThreads ?? globalThis.navigator?.hardwareConcurrency ?? 1, WASM_MAX_THREADS);
        const threads = options.kernelThread && runningWasmKernels()?.sharedMemory ? Math.max(1, asked) : 1;
        report.wasmThreads = threads;
        if (threads > 1) startWasmKernelThreads(threads - 1, options.kernelThread!);
      }
      return report;
    }
    skipped.push({ name, reason });
  }
  const tried = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new LabError('backend/unavailable', `No TensorFlow.js backend could start (${tried}).`);
}

/**
 * Calls `listener` once if the WebGPU device tfjs runs on is lost (a driver reset, a GPU process
 * crash, the device destroyed). Everything on it is gone: its tensors read back as zeros from then
 * on, and asynchronous reads reject. No-op on the other backends.
 */
export function onDeviceLost(listener: (message: string) => void): void {
  if (tf.getBackend() !== 'webgpu') return;
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ reason?: string; message?: string }> } }).device;
  void device?.lost?.then((info) => listener(info.message || info.reason || 'no reason given'));
}
