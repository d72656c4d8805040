// The most multiply-adds per second WASM's 128-bit SIMD gives on this machine: a loop of 12
// independent f32x4 multiply-adds with no memory traffic, run on `threads` worker threads at
// once. What no WASM kernel can beat, to set against the peer's figures (peer.ts).

import { Worker } from 'node:worker_threads';
import initWabt from 'wabt';

const ACCUMULATORS = 12;
const ITERATIONS = 40_000_000;

/** The module: exports `relaxed` and `mulAdd`, each (n) → f32, running n iterations. */
async function peakModule(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const locals = Array.from({ length: ACCUMULATORS }, (_, i) => `(local $a${i} v128)`).join(' ');
  const step = (relaxed: boolean) =>
    Array.from({ length: ACCUMULATORS }, (_, i) =>
      relaxed ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $x) (local.get $y) (local.get $a${i})))` : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $x) (local.get $y)) (local.get $a${i})))`,
    ).join(' ');
  // The sum of the accumulators is returned, so that no multiply-add is dead code.
  const sum = Array.from({ length: ACCUMULATORS - 1 }, (_, i) => i + 1).reduce((acc, i) => `(f32x4.add ${acc} (local.get $a${i}))`, '(local.get $a0)');
  const func = (name: string, relaxed: boolean) => `(func (export "${name}") (param $n i32) (result f32) (local $x v128) (local $y v128) ${locals}
    (local.set $x (f32x4.splat (f32.const 1.0000001))) (local.set $y (f32x4.splat (f32.const 0.9999999)))
    (loop $l ${step(relaxed)} (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n)))
    (f32x4.extract_lane 0 ${sum}))`;
  const module = wabt.parseWat('simd-peak.wat', `(module ${func('relaxed', true)} ${func('mulAdd', false)})`, { simd: true, relaxed_simd: true });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

// Node 20 validates relaxed SIMD behind a flag (as the kernels' tests set it); Node ≥ 22 has it.
const WORKER = `
require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
const { parentPort, workerData } = require('node:worker_threads');
const exports = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes)).exports;
const run = exports[workerData.kind];
run(1e6); // past the baseline compiler
const start = performance.now();
run(workerData.iterations);
parentPort.postMessage((workerData.iterations * workerData.macs) / (performance.now() - start) / 1e6);
`;

/** GMAC/s summed over `threads` threads running the loop at once, for each form of multiply-add. */
export async function wasmMultiplyAddPeak(threads: number): Promise<{ relaxed: number; mulAdd: number }> {
  const bytes = await peakModule();
  const run = async (kind: 'relaxed' | 'mulAdd') => {
    const rates = await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<number>((resolve, reject) => {
            const worker = new Worker(WORKER, { eval: true, workerData: { bytes, kind, iterations: ITERATIONS, macs: ACCUMULATORS * 4 } });
            worker.once('message', (rate: number) => {
              resolve(rate);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
    return rates.reduce((a, b) => a + b, 0);
  };
  return { relaxed: await run('relaxed'), mulAdd: await run('mulAdd') };
}
