// `npm run bench`: prints this machine's figures. Benchmarks measure; tests never assert on time.

import { benchPretrainedBrowser } from './pretrained-browser';
import { benchPretrainedNode } from './pretrained-node';

await benchPretrainedNode();
await benchPretrainedBrowser();
