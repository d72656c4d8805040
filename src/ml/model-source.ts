// Where model files come from: a URL beside the page, or files the user picked. The loader only
// sees this interface, so the same validation and error messages apply to both (and to the
// file-system source the Node tests use).

import { LabError } from '../core/errors';

export interface ModelSource {
  /** Shown in messages: a URL or "your files". */
  readonly description: string;
  /** The bytes of a file named relative to model.json; throws LabError 'model/not-found' if absent. */
  read(name: string): Promise<ArrayBuffer>;
}

type FetchLike = (url: string) => Promise<Pick<Response, 'ok' | 'status' | 'statusText' | 'arrayBuffer'>>;

/**
 * Files next to `modelJsonUrl`. Each body is read as soon as its own response arrives: tfjs's
 * default HTTP loader waits for every response before reading any body, which hung at 10% on the
 * 25 shards over HTTP/1.1 here.
 */
export function httpModelSource(modelJsonUrl: string, fetchFn: FetchLike = (url) => fetch(url)): ModelSource {
  const base = new URL('.', modelJsonUrl);
  const urlOf = (name: string) => (name === 'model.json' ? modelJsonUrl : new URL(name, base).href);
  const get = async (name: string) => {
    const url = urlOf(name);
    let response;
    try {
      response = await fetchFn(url);
    } catch (error) {
      throw new LabError('model/not-found', `Could not fetch ${url}: ${(error as Error).message}`, name, { cause: error });
    }
    if (!response.ok) {
      throw new LabError('model/not-found', `${url} answered ${response.status} ${response.statusText}`.trim(), name);
    }
    return response;
  };
  return {
    description: modelJsonUrl,
    read: async (name) => (await get(name)).arrayBuffer(),
  };
}

/** The parts of a `File` the loader uses (so this module needs no DOM types). */
export interface NamedBlob {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Files the user picked or dropped: model.json, its weight shards and optionally labels.json. */
export function filesModelSource(files: readonly NamedBlob[]): ModelSource {
  const byName = new Map(files.map((file) => [baseName(file.name), file]));
  return {
    description: 'the picked files',
    read: async (name) => {
      const file = byName.get(baseName(name));
      if (!file) {
        throw new LabError('model/not-found', `${baseName(name)} is missing from the picked files (pick model.json together with every shard it lists).`, name);
      }
      return file.arrayBuffer();
    },
  };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
