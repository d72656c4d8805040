// Outputs of the frozen prefix, per image, so that epochs after the first skip the frozen part of
// the network. Entries are valid for one frozen prefix (its key): a different key empties the
// cache; the caller names each entry by its set (spec, size, pooled or not) and image. Past its
// byte limit the cache stops adding entries (images past the limit are computed every time) and
// says so.

export interface FeatureCacheStats {
  entries: number;
  bytes: number;
  limitBytes: number;
  hits: number;
  misses: number;
  /** True once an entry was refused for lack of room. */
  full: boolean;
  /** Times the cache was emptied because the boundary or the preprocessing changed. */
  invalidations: number;
}

export class FeatureCache {
  private readonly entries = new Map<string, Float32Array>();
  private key: string | null = null;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private full = false;
  private invalidations = 0;

  constructor(private readonly limitBytes: number) {}

  /** Makes `key` (the frozen prefix) current, emptying the cache if it was another. */
  use(key: string): void {
    if (this.key === key) return;
    if (this.key !== null && this.entries.size > 0) this.invalidations += 1;
    this.entries.clear();
    this.bytes = 0;
    this.full = false;
    this.key = key;
  }

  get(id: string): Float32Array | undefined {
    const found = this.entries.get(id);
    if (found) this.hits += 1;
    else this.misses += 1;
    return found;
  }

  /** Stores a copy-free view; returns false (and marks the cache full) when it does not fit. */
  put(id: string, features: Float32Array): boolean {
    if (this.entries.has(id)) return true;
    if (this.bytes + features.byteLength > this.limitBytes) {
      this.full = true;
      return false;
    }
    this.entries.set(id, features);
    this.bytes += features.byteLength;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.key = null;
    this.full = false;
  }

  stats(): FeatureCacheStats {
    return {
      entries: this.entries.size,
      bytes: this.bytes,
      limitBytes: this.limitBytes,
      hits: this.hits,
      misses: this.misses,
      full: this.full,
      invalidations: this.invalidations,
    };
  }
}
