// `npm run bench`: prints this machine's figures. Benchmarks measure; tests never assert on time.
// `npm run bench -- engine` (or pretrained, kernel, trained, browser, engine-browser, trained-browser, peer, dataset, page) runs one group.

import { benchConvGradients } from './conv-gradients';
import { benchDatasetBrowser } from './dataset-browser';
import { benchEngineBrowser } from './engine-browser';
import { benchEngineNode } from './engine-node';
import { benchPageBrowser } from './page-browser';
import { benchPeer } from './peer';
import { benchPretrainedBrowser } from './pretrained-browser';
import { benchPretrainedNode } from './pretrained-node';
import { benchTrainedBrowser } from './trained-browser';
import { benchTrainedNode } from './trained-node';

const groups: Record<string, () => Promise<unknown>> = {
  pretrained: benchPretrainedNode,
  kernel: benchConvGradients,
  engine: benchEngineNode,
  trained: benchTrainedNode,
  browser: benchPretrainedBrowser,
  'engine-browser': benchEngineBrowser,
  'trained-browser': benchTrainedBrowser,
  peer: benchPeer,
  dataset: benchDatasetBrowser,
  page: benchPageBrowser,
};
const chosen = process.argv.slice(2).filter((name) => name in groups);
for (const name of chosen.length > 0 ? chosen : Object.keys(groups)) await groups[name]!();
