// Node, wasm backend: ms per fine-tuning step at k = 0 (cached and not), k = 3 and k = 16, at a
// small size and at 224², the cache speed-up and peak memory.

import { initBackend } from '../src/ml/backend';
import { loadPretrainedResNet50 } from '../src/ml/model-loader';
import { segmentResNet50 } from '../src/ml/segments';
import { fsModelSource } from '../tests/helpers/node-model';
import { requireModel } from '../tests/helpers/paths';
import { runScenario, scenarios, type ScenarioResult } from './engine-scenarios';
import { printTable } from './shared';

export async function benchEngineNode(): Promise<ScenarioResult[]> {
  await initBackend({ force: 'wasm' });
  const { model } = await loadPretrainedResNet50(fsModelSource(requireModel()));
  const net = segmentResNet50(model);
  const results: ScenarioResult[] = [];
  let peakRss = 0;
  for (const scenario of scenarios({ small: 112, large: 224 })) {
    results.push(await runScenario(net, scenario));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  printTable('Fine-tuning steps in Node (wasm, one thread), ms per step (median)', [
    ...results.map((r): [string, string] => [`${r.label}, batch ${r.batchSize}`, `${r.msPerStep.toFixed(0)} ms (${(r.peakTensorBytes / 1e6).toFixed(0)} MB in tensors between steps)`]),
    ...cacheSpeedups(results),
    ['peak resident memory', `${(peakRss / 1e6).toFixed(0)} MB`],
  ]);
  model.dispose();
  return results;
}

export function cacheSpeedups(results: ScenarioResult[]): [string, string][] {
  return [...new Set(results.map((r) => r.sizePx))].map((size) => {
    const cached = results.find((r) => r.sizePx === size && r.freezeDepth === 0 && r.cached)!;
    const uncached = results.find((r) => r.sizePx === size && r.freezeDepth === 0 && !r.cached)!;
    return [`cache speed-up at k=0, ${size}²`, `${(uncached.msPerStep / cached.msPerStep).toFixed(0)}×`];
  });
}
