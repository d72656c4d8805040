// What our wasm kernels need of tfjs-backend-wasm: the scratch tensors a call makes, the other
// registered kernels it runs, the heap behind a tensor and its address, and our own kernels
// (kernels/wasm-kernels.ts) bound to the backend's memory.

import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { bindWasmKernels, fillPixelAddresses, fillWinogradTables, winogradTiles, type ConvGeometry, type WasmKernels } from './kernels/wasm-kernels';

export const WASM_BACKEND = 'wasm';

/**
 * The TensorInfos a kernel call makes along the way. Each one is disposed exactly once (reshapes
 * share data by reference count), whether the call finishes or throws.
 */
export class Scratch {
  private readonly live = new Set<tf.TensorInfo>();

  constructor(private readonly backend: BackendWasm) {}

  keep(info: tf.TensorInfo): tf.TensorInfo {
    this.live.add(info);
    return info;
  }

  release(info: tf.TensorInfo): void {
    if (this.live.delete(info)) this.backend.disposeData(info.dataId);
  }

  /** Hands `info` to the caller: it is no longer released here. */
  give(info: tf.TensorInfo): tf.TensorInfo {
    this.live.delete(info);
    return info;
  }

  releaseAll(): void {
    for (const info of this.live) this.backend.disposeData(info.dataId);
    this.live.clear();
  }
}

/** Runs another registered wasm kernel on the same backend; the caller owns the result. */
export function runKernel(backend: BackendWasm, name: string, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo {
  const kernel = tf.getKernel(name, WASM_BACKEND);
  // Only present once '@tensorflow/tfjs-backend-wasm' has been imported.
  if (!kernel) throw new Error(`Our wasm kernels need the wasm kernel ${name}, which is not registered.`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** A float32 view of the tensor's data; views are taken after every allocation (growing the memory detaches older ones). */
export function heap(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Where the backend's tensor data starts, as a byte address in its memory. */
export function addressOf(backend: BackendWasm, info: tf.TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/**
 * The kernels' table of x's pixel addresses for `conv` ([taps, rowStride] int32, fillPixelAddresses)
 * and the zero row it points at in the padding, both kept in `scratch` until the call ends.
 */
export function pixelAddressTable(backend: BackendWasm, scratch: Scratch, x: tf.TensorInfo, conv: ConvGeometry, rowStride: number): tf.TensorInfo {
  const zeroRow = scratch.keep(backend.makeOutput([conv.inChannels], 'float32'));
  const table = scratch.keep(backend.makeOutput([conv.filterHeight * conv.filterWidth * rowStride], 'int32'));
  // Views are taken after every allocation: growing the wasm memory detaches older ones.
  heap(backend, zeroRow).fill(0);
  fillPixelAddresses(backend.typedArrayFromHeap(table) as Int32Array, conv, addressOf(backend, x), addressOf(backend, zeroRow), rowStride);
  return table;
}

/** Addresses of the Winograd kernels' tables (WinogradCall, WinogradFilterGradientCall). */
export interface WinogradTables {
  pixels: number;
  outputs: number;
  rowTable: number;
}

/**
 * The Winograd kernels' tables for a 'same' 3×3 stride-1 `conv` of x into (or, for the filter
 * gradient, from) y of `outChannels` channels (fillWinogradTables), with the zero row x's padding
 * reads and a row table of `chunk` rows of x, all kept in `scratch` until the call ends. Where the
 * kernel writes y (`writesY`), the tiles past its edge go to a scratch row of their own; else they
 * read the zero row.
 */
export function winogradTables(backend: BackendWasm, scratch: Scratch, conv: ConvGeometry, x: tf.TensorInfo, y: tf.TensorInfo, outChannels: number, chunk: number, writesY: boolean): WinogradTables {
  const tiles = winogradTiles(conv);
  const zeroRow = scratch.keep(backend.makeOutput([Math.max(conv.inChannels, outChannels)], 'float32'));
  const sinkRow = writesY ? scratch.keep(backend.makeOutput([outChannels], 'float32')) : zeroRow;
  const [pixels, outputs, rowTable] = [tiles * 16, tiles * 4, chunk].map((size) => scratch.keep(backend.makeOutput([size], 'int32'))) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  // Views are taken after every allocation: growing the wasm memory detaches older ones.
  heap(backend, zeroRow).fill(0);
  const ints = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Int32Array;
  fillWinogradTables(ints(pixels), ints(outputs), conv, addressOf(backend, x), addressOf(backend, zeroRow), addressOf(backend, y), outChannels, addressOf(backend, sinkRow));
  const rows = ints(rowTable);
  for (let r = 0; r < chunk; r++) rows[r] = r * conv.inChannels * Float32Array.BYTES_PER_ELEMENT;
  return { pixels: addressOf(backend, pixels), outputs: addressOf(backend, outputs), rowTable: addressOf(backend, rowTable) };
}

/**
 * Runs `run` with the address and count of per-thread float64 totals ([blocks, channels], zeroed,
 * 8-byte aligned, freed after), then writes their sum over threads to `out` ([channels] f32): how
 * our kernels that sum per channel split their rows over threads.
 */
export function sumOverThreads(backend: BackendWasm, kernels: WasmKernels, channels: number, out: tf.TensorInfo, run: (totals: number, blocks: number) => void): void {
  const blocks = kernels.threads;
  const scratch = backend.makeOutput([2 * blocks * channels + 1], 'float32'); // one float32 of slack to align
  try {
    const address = Math.ceil(addressOf(backend, scratch) / 8) * 8;
    // Views are taken after every allocation: growing the wasm memory detaches older ones.
    const totals = () => new Float64Array(heap(backend, scratch).buffer, address, blocks * channels);
    totals().fill(0);
    run(address, blocks);
    const sums = totals();
    const result = heap(backend, out);
    for (let c = 0; c < channels; c++) {
      let total = 0;
      for (let block = 0; block < blocks; block++) total += sums[block * channels + c]!;
      result[c] = total;
    }
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

/**
 * Our kernels bound to the backend's memory. The emscripten module keeps that memory as
 * `wasmMemory` (the threaded build) or `asm.memory` (the others); its typings declare neither.
 */
export function wasmKernelsOf(backend: BackendWasm): WasmKernels | undefined {
  const module = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  const memory = module.wasmMemory ?? module.asm?.memory;
  return memory instanceof WebAssembly.Memory ? bindWasmKernels(memory) : undefined;
}

/** Our kernels on the running wasm backend, if they could bind (for the bench and tests). */
export function runningWasmKernels(): WasmKernels | undefined {
  return tf.getBackend() === WASM_BACKEND ? wasmKernelsOf(tf.backend() as BackendWasm) : undefined;
}

/**
 * Lets our kernels split their work over `count` helper threads besides the caller's, on the
 * running wasm backend when its memory is shared (the threaded build); otherwise a no-op.
 */
export function startWasmKernelThreads(count: number, spawn: Parameters<WasmKernels['startThreads']>[1]): void {
  runningWasmKernels()?.startThreads(count, spawn);
}
