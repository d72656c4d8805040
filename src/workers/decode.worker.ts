// A decoding worker of the pool: it only forwards each job to runDecodeJob.

import { decodeImageBlob } from '../data/decode-image';
import { runDecodeJob, type DecodeRequest } from '../data/decode-job';
import { makeThumbnail } from '../data/thumbnail';

const deps = { decode: decodeImageBlob, thumbnail: makeThumbnail };

self.onmessage = async (message: MessageEvent<DecodeRequest>) => {
  const { reply, transfer } = await runDecodeJob(message.data, deps);
  self.postMessage(reply, { transfer });
};
