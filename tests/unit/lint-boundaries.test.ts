// The layer boundaries of DESIGN.md are enforced by ESLint: an import across them fails the lint
// with a message that says why.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    ['src/core/x.ts', "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;", 'no tfjs'],
    ['src/core/x.ts', "import { useState } from 'react';\nexport const u = useState;", 'no React'],
    ['src/core/x.ts', "import { loadPretrainedResNet50 } from '../ml/model-loader';\nexport const l = loadPretrainedResNet50;", 'imports nothing of ours'],
    ['src/ml/x.ts', "import { createElement } from 'react';\nexport const c = createElement;", 'no React'],
    ['src/ml/x.ts', 'export const w = document.title;', 'no DOM'],
    ['src/ml/x.ts', "import { decodeImageBlob } from '../data/decode-image';\nexport const d = decodeImageBlob;", 'core/ and tfjs only'],
    ['src/ui/x.tsx', "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;", 'training worker'],
    ['src/ui/x.tsx', "import { createTrainingWorker } from '../workers/client';\nexport const w = createTrainingWorker;", 'wired in main.tsx'],
    ['src/state/x.ts', "import { createTrainingWorker } from '../workers/client';\nexport const w = createTrainingWorker;", 'workers/protocol.ts'],
    ['src/history/x.ts', "import { useState } from 'react';\nexport const u = useState;", 'no React'],
    ['src/history/x.ts', "import { createLabStore } from '../state/store';\nexport const c = createLabStore;", 'core/ only'],
    ['src/history/x.ts', 'export const w = window.name;', 'no DOM'],
  ])('%s: %s', async (file, code, why) => {
    const found = await messages(file, code);
    expect(found.some((m) => m.includes(why)), found.join('\n')).toBe(true);
  });

  it('allows what the design allows', async () => {
    expect(await messages('src/state/x.ts', "import type { WorkerEvent } from '../workers/protocol';\nexport type E = WorkerEvent;")).toEqual([]);
    expect(await messages('src/ml/x.ts', "import * as tf from '@tensorflow/tfjs';\nimport { LabError } from '../core/errors';\nexport const a = [tf, LabError];")).toEqual([]);
  });
});
