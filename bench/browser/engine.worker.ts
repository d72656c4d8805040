// The fine-tuning step benchmark inside a Chromium worker, as the lab's training worker runs it.

import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { isBackendName } from '../../src/core/backends';
import { initBackend } from '../../src/ml/backend';
import { loadPretrainedResNet50 } from '../../src/ml/model-loader';
import { httpModelSource } from '../../src/ml/model-source';
import { segmentResNet50 } from '../../src/ml/segments';
import { runningWasmKernels } from '../../src/ml/wasm-tensors';
import { kernelShares, runScenario, type KernelShare, type Scenario, type ScenarioResult } from '../engine-scenarios';

self.onmessage = async (message: MessageEvent<string>) => {
  const query = new URLSearchParams(message.data);
  const requested = query.get('backend');
  const scenarios = JSON.parse(query.get('scenarios') ?? '[]') as Scenario[];
  const stepsPerEpoch = Number(query.get('steps') ?? 3);
  const threads = query.get('threads');
  const lines: string[] = [];
  const results: ScenarioResult[] = [];
  const profiled = JSON.parse(query.get('profile') ?? 'null') as Scenario | null;
  let kernels: KernelShare[] = [];
  let profiledMsPerStep = 0;
  const report = (done: boolean) => self.postMessage({ done, text: lines.join('\n'), results, kernels, profiledMsPerStep });
  try {
    const backend = await initBackend({
      ...(isBackendName(requested) ? { force: requested } : {}),
      ...(threads ? { wasmThreads: Number(threads) } : {}),
      wasmPaths: { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd },
      kernelThread: () => new Worker(new URL('../../src/workers/kernel.worker.ts', import.meta.url), { type: 'module', name: 'kernel' }),
    });
    const { model } = await loadPretrainedResNet50(httpModelSource(new URL('/models/resnet50/model.json', location.href).href));
    // Read after the model has loaded: by then the kernel's helper threads have started.
    const wasmKernels = runningWasmKernels();
    const ours = wasmKernels ? `; our kernels: ${wasmKernels.fma}, ${wasmKernels.threads} thread(s)` : '';
    lines.push(`backend\t${backend.name}${backend.wasmThreads ? ` (threads: ${backend.wasmThreads}${ours})` : ''}`);
    const net = segmentResNet50(model);
    for (const scenario of scenarios) {
      const result = await runScenario(net, scenario, stepsPerEpoch);
      results.push(result);
      lines.push(`${result.label}, batch ${result.batchSize}\t${result.msPerStep.toFixed(0)} ms`);
      report(false);
    }
    if (profiled) ({ kernels, msPerStep: profiledMsPerStep } = await kernelShares(net, profiled));
  } catch (error) {
    lines.push(`error\t${(error as Error).message}`);
  }
  report(true);
};
