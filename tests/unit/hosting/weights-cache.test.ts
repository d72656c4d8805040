// The weights in Cache Storage: stored only whole, served from the cache only once complete, an
// unfinished download discarded, a new weights version replacing the old one once it is whole.
// Cache Storage is an in-memory stand-in with the same contract (Node has Request and Response).

import { describe, expect, it } from 'vitest';
import { createWeightsCache, weightsCacheName, type WeightsManifest } from '../../../src/hosting/weights-cache';

class MemoryCache {
  readonly entries = new Map<string, Response>();
  async match(request: RequestInfo | URL): Promise<Response | undefined> {
    return this.entries.get(urlOf(request))?.clone();
  }
  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    this.entries.set(urlOf(request), response.clone());
  }
  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((url) => new Request(url));
  }
}

class MemoryCacheStorage {
  readonly caches = new Map<string, MemoryCache>();
  async open(name: string): Promise<Cache> {
    if (!this.caches.has(name)) this.caches.set(name, new MemoryCache());
    return this.caches.get(name) as unknown as Cache;
  }
  async has(name: string) {
    return this.caches.has(name);
  }
  async delete(name: string) {
    return this.caches.delete(name);
  }
  async keys() {
    return [...this.caches.keys()];
  }
}

function urlOf(request: RequestInfo | URL): string {
  return typeof request === 'string' ? request : request instanceof URL ? request.href : request.url;
}

const BASE = 'https://lab.example/some/path/lab/models/resnet50/';
const FILES: Record<string, string> = {
  'model.json': '{"format":"layers-model"}',
  'labels.json': '["tench"]',
  'group1-shard1of2.bin': 'A'.repeat(64),
  'group1-shard2of2.bin': 'B'.repeat(32),
};
const manifest = (integrity: string): WeightsManifest => ({
  integrity,
  files: { ...Object.fromEntries(Object.entries(FILES).map(([name, body]) => [name, body.length])), LICENSE: 1000 },
});

/** A network that serves FILES, counts what it is asked, and can cut a file short. */
function network() {
  const asked: string[] = [];
  const truncated = new Set<string>();
  const fetch = async (request: Request) => {
    const file = request.url.slice(BASE.length);
    asked.push(file);
    const body = FILES[file];
    if (body === undefined) return new Response('missing', { status: 404 });
    return new Response(truncated.has(file) ? body.slice(0, 10) : body, { status: 200, headers: { 'Content-Type': 'application/octet-stream' } });
  };
  return { fetch, asked, truncated };
}

async function loadModel(cache: ReturnType<typeof createWeightsCache>) {
  const pending: Promise<unknown>[] = [];
  const bodies: Record<string, string> = {};
  for (const file of Object.keys(FILES)) {
    const response = await cache.respond(new Request(BASE + file), (work) => pending.push(work));
    bodies[file] = await response.text();
  }
  await Promise.all(pending);
  return bodies;
}

describe('weights cache', () => {
  it('handles the files the loader reads, nothing else', () => {
    const cache = createWeightsCache({ caches: new MemoryCacheStorage(), manifest: manifest('sha512-abc'), baseUrl: BASE, fetch: network().fetch });
    expect(cache.handles(BASE + 'model.json')).toBe(true);
    expect(cache.handles(BASE + 'group1-shard2of2.bin')).toBe(true);
    expect(cache.handles(BASE + 'LICENSE')).toBe(false);
    expect(cache.handles('https://lab.example/some/path/lab/index.html')).toBe(false);
    expect(cache.handles('https://lab.example/other/models/resnet50/model.json')).toBe(false);
  });

  it('stores a whole model, then serves it without the network', async () => {
    const storage = new MemoryCacheStorage();
    const net = network();
    const completed: unknown[] = [];
    const cache = createWeightsCache({ caches: storage, manifest: manifest('sha512-v1'), baseUrl: BASE, fetch: net.fetch, onComplete: (s) => completed.push(s) });
    expect(await cache.status()).toEqual({ complete: false, bytes: 0 });

    expect(await loadModel(cache)).toEqual(FILES);
    const total = Object.values(FILES).reduce((sum, body) => sum + body.length, 0);
    expect(await cache.status()).toEqual({ complete: true, bytes: total });
    expect(completed).toEqual([{ complete: true, bytes: total }]);
    expect(net.asked).toHaveLength(4);

    net.asked.length = 0;
    expect(await loadModel(cache)).toEqual(FILES);
    expect(net.asked).toEqual([]);
  });

  it('never marks a half-downloaded model complete, and discards it when the next load begins', async () => {
    const storage = new MemoryCacheStorage();
    const net = network();
    net.truncated.add('group1-shard2of2.bin'); // the connection dropped mid-shard
    const cache = createWeightsCache({ caches: storage, manifest: manifest('sha512-v1'), baseUrl: BASE, fetch: net.fetch });
    await loadModel(cache);
    const partial = await cache.status();
    expect(partial.complete).toBe(false);
    expect(partial.bytes).toBe(FILES['model.json']!.length + FILES['labels.json']!.length + 64);

    // The next visit: the leftovers go, everything comes from the network again, and is stored whole.
    net.truncated.clear();
    net.asked.length = 0;
    expect(await loadModel(cache)).toEqual(FILES);
    expect(net.asked).toEqual(Object.keys(FILES));
    expect((await cache.status()).complete).toBe(true);
  });

  it('does not store a download that breaks off', async () => {
    const storage = new MemoryCacheStorage();
    const broken = async (request: Request) => {
      if (!request.url.endsWith('.bin')) return new Response(FILES[request.url.slice(BASE.length)]!);
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('AAAA'));
          controller.error(new Error('network reset'));
        },
      });
      return new Response(body);
    };
    const cache = createWeightsCache({ caches: storage, manifest: manifest('sha512-v1'), baseUrl: BASE, fetch: broken });
    const pending: Promise<unknown>[] = [];
    for (const file of Object.keys(FILES)) {
      const response = await cache.respond(new Request(BASE + file), (work) => pending.push(work));
      await response.arrayBuffer().catch(() => undefined);
    }
    await Promise.all(pending);
    const cached = [...(storage.caches.get(weightsCacheName('sha512-v1'))?.entries.keys() ?? [])];
    expect(cached.sort()).toEqual([BASE + 'labels.json', BASE + 'model.json']);
    expect((await cache.status()).complete).toBe(false);
  });

  it('keeps the old weights until a new version is whole, then drops them', async () => {
    const storage = new MemoryCacheStorage();
    const old = createWeightsCache({ caches: storage, manifest: manifest('sha512-v1'), baseUrl: BASE, fetch: network().fetch });
    await loadModel(old);
    expect(await storage.keys()).toEqual([weightsCacheName('sha512-v1')]);

    const net = network();
    net.truncated.add('group1-shard1of2.bin');
    const next = createWeightsCache({ caches: storage, manifest: manifest('sha512-v2'), baseUrl: BASE, fetch: net.fetch });
    await loadModel(next);
    expect((await storage.keys()).sort()).toEqual([weightsCacheName('sha512-v1'), weightsCacheName('sha512-v2')].sort());

    net.truncated.clear();
    await loadModel(next);
    expect(await storage.keys()).toEqual([weightsCacheName('sha512-v2')]);
  });
});
