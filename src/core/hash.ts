// Stable, dependency-free hashing of plain data, for keys that must match across threads and runs.

/** 64-bit FNV-1a-style hash of a sequence of codes, as 16 hex digits (two 32-bit lanes with different offsets). */
function fnvLanes(length: number, codeAt: (i: number) => number): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < length; i++) {
    const code = codeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x01000193) >>> 0;
    b = (b ^ (a >>> 13)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Hash of a string's UTF-16 code units. */
export function fnv1a64(text: string): string {
  return fnvLanes(text.length, (i) => text.charCodeAt(i));
}

/** Hash of raw bytes (e.g. a Float32Array's): equal arrays, equal hashes. */
export function fnv1a64Bytes(bytes: Uint8Array): string {
  return fnvLanes(bytes.length, (i) => bytes[i]!);
}

/** JSON with object keys sorted at every depth, so equal data always serialises the same way. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
