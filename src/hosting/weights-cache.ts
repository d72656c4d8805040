// The pretrained weights in Cache Storage, for a second visit without the network. The cache is
// named after the weights' pinned integrity (INSTALLED.json, written by the install step), so a
// new weights version gets a cache of its own, which replaces the old one once it is complete.
//
// Ours rather than a Workbox strategy: a strategy caches file by file, and a model is only
// usable whole. Each file is stored when its body has arrived in full at the size the install
// recorded; the model is served from the cache only once every file the loader reads is there
// (a marker entry written last says so), and an unfinished download is discarded when the next
// one begins.
//
// Runs in the service worker and in Node tests: it touches only what both have (Cache, Response).

/** INSTALLED.json: the package's integrity and every installed file's size in bytes. */
export interface WeightsManifest {
  integrity: string;
  files: Record<string, number>;
}

export interface WeightsStatus {
  /** Every file is cached: the model loads without the network. */
  complete: boolean;
  /** Bytes of the weights' files in the cache. */
  bytes: number;
}

export interface WeightsCache {
  /** True for the URL of a file the model loader reads. */
  handles(url: string): boolean;
  /** The file from the cache when the whole model is there, else from the network (and stored). */
  respond(request: Request, waitUntil: (work: Promise<unknown>) => void): Promise<Response>;
  status(): Promise<WeightsStatus>;
}

interface CacheStorageLike {
  open(name: string): Promise<Cache>;
  has(name: string): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export const WEIGHTS_CACHE_PREFIX = 'finetune-lab-weights-';
const COMPLETE_MARKER = '__complete__';

export function weightsCacheName(integrity: string): string {
  return WEIGHTS_CACHE_PREFIX + integrity.replace(/[^A-Za-z0-9]/g, '').slice(0, 40);
}

/** The files the model loader fetches: model.json, labels.json and the weight shards (not LICENSE). */
export function loadedFiles(manifest: WeightsManifest): string[] {
  return Object.keys(manifest.files).filter((name) => /\.(json|bin)$/.test(name)).sort();
}

export function createWeightsCache(options: {
  caches: CacheStorageLike;
  manifest: WeightsManifest;
  /** The folder of model.json, ending in '/'. */
  baseUrl: string;
  fetch: (request: Request) => Promise<Response>;
  /** Told when the whole model has been stored. */
  onComplete?: (status: WeightsStatus) => void;
}): WeightsCache {
  const { caches, manifest, baseUrl, fetch, onComplete } = options;
  const name = weightsCacheName(manifest.integrity);
  const required = loadedFiles(manifest);
  const requiredSet = new Set(required);
  const markerUrl = baseUrl + COMPLETE_MARKER;
  const fileOf = (url: string) => {
    const path = new URL(url).pathname;
    const base = new URL(baseUrl).pathname;
    return path.startsWith(base) ? path.slice(base.length) : null;
  };
  // Stores and the completeness check run one at a time: shards arrive together.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  const isComplete = async () => (await caches.has(name)) && (await (await caches.open(name)).match(markerUrl)) !== undefined;

  const store = (file: string, response: Response) =>
    serially(async () => {
      const body = await response.arrayBuffer(); // rejects when the download breaks off: nothing is stored
      if (body.byteLength !== manifest.files[file]) return;
      const cache = await caches.open(name);
      const headers = new Headers();
      const type = response.headers.get('Content-Type');
      if (type) headers.set('Content-Type', type);
      await cache.put(baseUrl + file, new Response(body, { status: 200, headers }));
      const keys = new Set((await cache.keys()).map((request) => fileOf(request.url)));
      if (!required.every((f) => keys.has(f))) return;
      await cache.put(markerUrl, new Response(manifest.integrity));
      // The new version is whole: older ones go.
      for (const other of await caches.keys()) if (other.startsWith(WEIGHTS_CACHE_PREFIX) && other !== name) await caches.delete(other);
      onComplete?.(await status());
    });

  const status = async (): Promise<WeightsStatus> => {
    if (!(await caches.has(name))) return { complete: false, bytes: 0 };
    const cache = await caches.open(name);
    let bytes = 0;
    for (const request of await cache.keys()) {
      const file = fileOf(request.url);
      if (file && requiredSet.has(file)) bytes += manifest.files[file] ?? 0;
    }
    return { complete: (await cache.match(markerUrl)) !== undefined, bytes };
  };

  return {
    handles: (url) => {
      const file = fileOf(url);
      return file !== null && requiredSet.has(file);
    },
    async respond(request, waitUntil) {
      const file = fileOf(request.url)!;
      if (await isComplete()) {
        const cached = await (await caches.open(name)).match(baseUrl + file);
        if (cached) return cached;
      } else if (file === 'model.json') {
        // A load begins and the cache is not whole: what an earlier, unfinished one left goes.
        await serially(() => caches.delete(name));
      }
      const response = await fetch(request);
      if (response.ok && response.type !== 'opaque') waitUntil(store(file, response.clone()).catch(() => undefined));
      return response;
    },
    status,
  };
}
