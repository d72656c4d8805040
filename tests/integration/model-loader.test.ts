// The loader reads the real model from a URL-like or a picked-files source and names the file and
// the problem when it is missing, wrong or truncated.

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../../src/core/errors';
import { initBackend } from '../../src/ml/backend';
import { loadPretrainedResNet50 } from '../../src/ml/model-loader';
import { filesModelSource, httpModelSource, type ModelSource } from '../../src/ml/model-source';
import { fsModelSource } from '../helpers/node-model';
import { requireModel } from '../helpers/paths';

/** The real files, with some replaced or removed. */
function patched(base: ModelSource, files: Record<string, ArrayBuffer | null>): ModelSource {
  return {
    description: 'patched',
    read: async (name) => {
      if (!(name in files)) return base.read(name);
      const bytes = files[name];
      if (!bytes) throw new LabError('model/not-found', `${name} is missing`, name);
      return bytes;
    },
  };
}

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)).buffer as ArrayBuffer;

async function failure(source: ModelSource): Promise<LabError> {
  const error = await loadPretrainedResNet50(source).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LabError);
  return error as LabError;
}

describe('loadPretrainedResNet50', () => {
  let dir: string;
  let real: ModelSource;
  let modelJson: { weightsManifest: { paths: string[] }[] };

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    dir = requireModel();
    real = fsModelSource(dir);
    modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  });

  it('loads from picked files (model.json, shards and labels as File objects), reporting progress', async () => {
    const names = ['model.json', 'labels.json', ...modelJson.weightsManifest[0]!.paths];
    const files = names.map((name) => new File([fs.readFileSync(path.join(dir, name))], name));
    const fractions: number[] = [];
    const { model, labels, weightBytes } = await loadPretrainedResNet50(filesModelSource(files), { onProgress: (f) => fractions.push(f) });
    expect(model.countParams()).toBe(25_636_712);
    expect(weightBytes).toBe(25_636_712 * 4); // every parameter, BN moving statistics included, is a float32
    expect(labels?.[285]).toBe('Egyptian cat');
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    model.dispose();
  });

  it('loads over HTTP-like fetches, reading shards as their responses arrive', async () => {
    const fetchFn = async (url: string) => {
      const name = url.slice(url.lastIndexOf('/') + 1);
      const bytes = fs.readFileSync(path.join(dir, name));
      return new Response(bytes);
    };
    const { model } = await loadPretrainedResNet50(httpModelSource('http://127.0.0.1/models/resnet50/model.json', fetchFn));
    expect(model.layers.length).toBe(177);
    model.dispose();
  });

  it('names a missing model.json and an HTTP 404', async () => {
    const notFound = async () => new Response('nope', { status: 404, statusText: 'Not Found' });
    const error = await failure(httpModelSource('http://127.0.0.1/models/resnet50/model.json', notFound));
    expect(error.code).toBe('model/not-found');
    expect(error.file).toBe('model.json');
    expect(error.message).toContain('404');
  });

  it('names a missing shard among picked files', async () => {
    const files = [new File([fs.readFileSync(path.join(dir, 'model.json'))], 'model.json')];
    const error = await failure(filesModelSource(files));
    expect(error.code).toBe('model/not-found');
    expect(error.file).toBe('group1-shard1of25.bin');
    expect(error.message).toContain('missing from the picked files');
  });

  it('rejects a model.json that is not JSON, not a layers model, or not ResNet50', async () => {
    expect((await failure(patched(real, { 'model.json': encode('<html>404</html>') }))).code).toBe('model/invalid');
    expect((await failure(patched(real, { 'model.json': encode({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }) }))).code).toBe('model/invalid');
    expect((await failure(patched(real, { 'model.json': encode({ hello: 'world' }) }))).message).toContain('not a TensorFlow.js layers model');

    // A genuine layers model, but a two-layer MLP rather than ResNet50.
    const mlp = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), tf.layers.dense({ units: 2 })] });
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) =>
      mlp.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }))),
    );
    const mlpJson = { format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: artifacts.weightSpecs }] };
    const error = await failure(patched(real, { 'model.json': encode(mlpJson), 'w.bin': artifacts.weightData as ArrayBuffer }));
    expect(error.code).toBe('model/incompatible');
    expect(error.message).toContain('not the Keras ResNet50');
    mlp.dispose();
  });

  it('names a truncated shard', async () => {
    const shard = 'group1-shard7of25.bin';
    const bytes = fs.readFileSync(path.join(dir, shard));
    const truncated = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 1_000_000) as ArrayBuffer;
    const error = await failure(patched(real, { [shard]: truncated }));
    expect(error.code).toBe('model/truncated');
    expect(error.file).toBe(shard);
    expect(error.message).toContain('truncated');
  });

  it('rejects a labels.json that is not the 1000 ImageNet names', async () => {
    const error = await failure(patched(real, { 'labels.json': encode({ 0: 'cat' }) }));
    expect(error.code).toBe('model/invalid');
    expect(error.file).toBe('labels.json');
  });
});
