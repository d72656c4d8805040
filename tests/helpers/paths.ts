// Where the tests find the shared data set, fixtures and the installed model. Tests that need
// ../shared skip when it is absent (a clone elsewhere), but never in CI, where it must be there.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = path.resolve(PROJECT_ROOT, '../shared');
export const PHOTOS_DIR = path.join(SHARED_DIR, 'fixtures/photos');
export const STAMPS_DIR = path.join(SHARED_DIR, 'datasets/stamps6');
export const MODEL_DIR = path.join(PROJECT_ROOT, 'public/models/resnet50');

const inCi = process.env.CI === 'true';

/** True when ../shared is there; in CI its absence is an error, not a reason to skip. */
export function hasShared(): boolean {
  const present = fs.existsSync(PHOTOS_DIR) && fs.existsSync(STAMPS_DIR);
  if (!present && inCi) throw new Error(`CI needs the shared data at ${SHARED_DIR}, and it is missing.`);
  return present;
}

/** The installed weights are a precondition of the tests that use them: say how to get them. */
export function requireModel(): string {
  if (!fs.existsSync(path.join(MODEL_DIR, 'model.json'))) {
    throw new Error(`The pretrained ResNet50 is not installed in ${MODEL_DIR}: run \`npm run setup\`.`);
  }
  return MODEL_DIR;
}
