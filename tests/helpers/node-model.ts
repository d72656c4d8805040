// Loads the installed pretrained ResNet50 in Node on the wasm backend (the cpu backend needs ~9 s
// per 224² forward here; wasm ~0.3 s), through the same loader as the page.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { BackendName } from '../../src/core/backends';
import { initBackend } from '../../src/ml/backend';
import { loadPretrainedResNet50, type PretrainedModel } from '../../src/ml/model-loader';
import type { ModelSource } from '../../src/ml/model-source';
import { LabError } from '../../src/core/errors';
import { requireModel } from './paths';

export function fsModelSource(dir: string): ModelSource {
  return {
    description: dir,
    read: async (name) => {
      try {
        const bytes = await fs.readFile(path.join(dir, name));
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      } catch (error) {
        throw new LabError('model/not-found', `${name} is not in ${dir}`, name, { cause: error });
      }
    },
  };
}

let loaded: Promise<PretrainedModel> | null = null;

/** The real weights, loaded once per test file on `backend` (default wasm). */
export function loadRealModel(backend: BackendName = 'wasm'): Promise<PretrainedModel> {
  loaded ??= initBackend({ force: backend }).then(() => loadPretrainedResNet50(fsModelSource(requireModel())));
  return loaded;
}
