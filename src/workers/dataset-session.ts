// What the training worker does with a dropped folder: index it, read every image once through the
// decode pool (sizes, channels, a few thumbnails, the files that fail), and preprocess samples of
// a split on request. Kept apart from the worker entry so it runs in Node with a stand-in pool.

import { buildDatasetIndex, SPLIT_NAMES, type DatasetEntry, type DatasetIndex, type IngestIssue, type SplitName } from '../core/dataset';
import { LabError, serializeError } from '../core/errors';
import { fnv1a64Bytes } from '../core/hash';
import { channelMoments, toChannelStatistics } from '../core/diagnostics';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash, type PreprocessSpec } from '../core/preprocess-spec';
import type { DecodeReply, DecodeRequest } from '../data/decode-job';
import type { WorkerPool } from '../data/worker-pool';
import type { DatasetScan, WorkerCommand, WorkerEvent } from './protocol';

export type DatasetCommand = Extract<WorkerCommand, { type: `dataset/${string}` }>;

export interface DatasetSessionDeps {
  emit: (event: WorkerEvent) => void;
  /** The decode pool with `size` workers (undefined: the default size). */
  pool: (size?: number) => WorkerPool<DecodeRequest, DecodeReply>;
  now?: () => number;
}

/** What the scan learnt of one image, for the diagnostics. */
export interface ImageProfileInfo {
  width: number;
  height: number;
  isGray: boolean;
  differenceHash: string;
  contentHash: string;
  meanColor: [number, number, number] | null;
  /** colorSignature(): what tells a near duplicate from a look-alike. */
  signature: Uint8Array | null;
}

/** The dataset as the worker holds it: the index, the files, and which entries decoded. */
export interface OpenDataset {
  index: DatasetIndex;
  /** By dataset path. */
  profiles: Map<string, ImageProfileInfo>;
  files: (File | null)[];
  /** Entries that decoded, per split. */
  usable: Record<SplitName, DatasetEntry[]>;
  spec: PreprocessSpec;
}

export const THUMBNAILS_PER_CLASS = 4;
const THUMBNAIL_PX = 96;
const PROGRESS_INTERVAL_MS = 150;

export interface DatasetSession {
  handle(command: DatasetCommand): Promise<void>;
  /** The current dataset once it is scanned, for training. */
  current(): OpenDataset | null;
}

/** Smallest, median and largest, 0 for none (no spread of a 10,000-image array into Math.min). */
function range(values: number[]): { min: number; median: number; max: number } {
  if (values.length === 0) return { min: 0, median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

export function createDatasetSession(deps: DatasetSessionDeps): DatasetSession {
  const now = deps.now ?? (() => performance.now());
  let open: OpenDataset | null = null;
  let generation = 0;

  async function scan(command: Extract<DatasetCommand, { type: 'dataset/open' }>): Promise<void> {
    const mine = ++generation;
    const started = now();
    const pool = deps.pool(command.decodeWorkers);
    const refs = command.files.map((f) => ({ path: f.path, size: f.file?.size ?? 0, directory: f.file === null }));
    const relabel = command.relabel ?? {};
    const index = buildDatasetIndex(refs, command.split, new Set(), relabel);
    const { entries, ...summary } = index;
    deps.emit({ type: 'dataset/indexed', dataset: { ...summary, imageCount: entries.length } });
    open = null;
    if (index.entries.length === 0) return;

    const files = command.files.map((f) => f.file);
    const thumbsWanted = new Map<number, number>();
    const failures: IngestIssue[] = [];
    const widths: number[] = [];
    const heights: number[] = [];
    const formats: Record<string, number> = {};
    const thumbnails: DatasetScan['thumbnails'] = [];
    let grayCount = 0;
    let alphaCount = 0;
    let downscaledCount = 0;
    let done = 0;
    let lastProgress = 0;
    const failed = new Set<number>();
    const profiles = new Map<string, ImageProfileInfo>();

    await Promise.all(
      index.entries.map(async (entry) => {
        const wantThumb = (thumbsWanted.get(entry.classIndex) ?? 0) < THUMBNAILS_PER_CLASS;
        if (wantThumb) thumbsWanted.set(entry.classIndex, (thumbsWanted.get(entry.classIndex) ?? 0) + 1);
        let reply: DecodeReply;
        try {
          reply = await pool.run({
            file: files[entry.fileIndex]!,
            name: entry.path,
            spec: null,
            augment: null,
            thumbnailPx: wantThumb ? THUMBNAIL_PX : null,
            fingerprint: true,
          });
        } catch (error) {
          reply = { jobId: 0, ok: false, error: serializeError(error) };
        }
        if (mine !== generation) return;
        done += 1;
        if (reply.ok) {
          const { info } = reply;
          profiles.set(entry.path, {
            width: info.width,
            height: info.height,
            isGray: info.isGray,
            differenceHash: info.fingerprint?.differenceHash ?? '',
            contentHash: info.fingerprint?.contentHash ?? '',
            meanColor: info.fingerprint?.meanColor ?? null,
            signature: info.fingerprint?.signature ?? null,
          });
          widths.push(reply.info.width);
          heights.push(reply.info.height);
          if (reply.info.isGray) grayCount += 1;
          if (reply.info.hasAlpha) alphaCount += 1;
          if (reply.info.downscaled) downscaledCount += 1;
          const format = reply.info.format ?? 'other';
          formats[format] = (formats[format] ?? 0) + 1;
          if (reply.thumbnail) thumbnails.push({ classIndex: entry.classIndex, path: entry.path, image: reply.thumbnail });
        } else {
          failed.add(entry.fileIndex);
          failures.push({
            severity: 'warning',
            code: reply.error.code === 'image/too-large' ? 'too-large' : 'decode-failed',
            path: entry.path,
            message: reply.error.message.startsWith(entry.path) ? reply.error.message : `${entry.path}: ${reply.error.message}`,
          });
        }
        if (now() - lastProgress > PROGRESS_INTERVAL_MS || done === index.entries.length) {
          lastProgress = now();
          deps.emit({ type: 'dataset/scanning', done, total: index.entries.length });
        }
      }),
    );
    if (mine !== generation) return;

    // Split again without the unreadable files, so that every split gets readable images. Class
    // indices stay those the page already shows, unless a class lost every image.
    const final = failed.size > 0 ? buildDatasetIndex(refs, command.split, failed, relabel) : index;
    const classOf = final.classNames.map((name) => index.classNames.indexOf(name));
    const entriesFinal = final.entries.map((e) => ({ ...e, classIndex: classOf[e.classIndex]! }));
    const usable = Object.fromEntries(SPLIT_NAMES.map((split) => [split, entriesFinal.filter((e) => e.split === split)])) as Record<SplitName, DatasetEntry[]>;
    const counts = Object.fromEntries(
      SPLIT_NAMES.map((split) => [split, index.classNames.map((_, c) => usable[split].filter((e) => e.classIndex === c).length)]),
    ) as Record<SplitName, number[]>;
    open = { index: { ...index, entries: entriesFinal, counts }, profiles, files, usable, spec: DEFAULT_PREPROCESS_SPEC };
    thumbnails.sort((a, b) => a.classIndex - b.classIndex || a.path.localeCompare(b.path));
    failures.sort((a, b) => a.path.localeCompare(b.path));
    deps.emit({
      type: 'dataset/scanned',
      scan: {
        decoded: widths.length,
        widths: range(widths),
        heights: range(heights),
        grayCount,
        alphaCount,
        downscaledCount,
        formats,
        thumbnails,
        failures,
        counts,
        ms: now() - started,
      },
    });
  }

  async function sample(command: Extract<DatasetCommand, { type: 'dataset/sample' }>): Promise<void> {
    if (!open) throw new LabError('input/invalid', 'No dataset is open yet.');
    const spec = { ...open.spec, ...(command.normalization ? { normalization: command.normalization } : {}), ...(command.sizePx ? { sizePx: command.sizePx } : {}) };
    const entries = open.usable[command.split].slice(0, command.count);
    const perImage = spec.sizePx * spec.sizePx * 3;
    const batch = new Float32Array(entries.length * perImage);
    const replies = await Promise.all(
      entries.map((entry) => deps.pool().run({ file: open!.files[entry.fileIndex]!, name: entry.path, spec, augment: null, thumbnailPx: null })),
    );
    replies.forEach((reply, i) => {
      if (!reply.ok) throw new LabError(reply.error.code, reply.error.message, entries[i]!.path);
      batch.set(reply.pixels!, i * perImage);
    });
    // Two passes (channelMoments): E[x²] − E[x]² cancels for inputs like x/255-then-caffe (mean ~−110, std ~0.2).
    const channels = toChannelStatistics(channelMoments(batch));
    const means = channels.map((c) => c.mean) as [number, number, number];
    const stds = channels.map((c) => c.std) as [number, number, number];
    deps.emit({
      type: 'dataset/sampled',
      sample: {
        requestId: command.requestId,
        split: command.split,
        count: entries.length,
        specHash: preprocessSpecHash(spec),
        normalization: spec.normalization,
        checksum: fnv1a64Bytes(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength)),
        channelMeans: means,
        channelStds: stds,
      },
    });
  }

  async function thumbnails(command: Extract<DatasetCommand, { type: 'dataset/thumbnails' }>): Promise<void> {
    if (!open) throw new LabError('input/invalid', 'No dataset is open yet.');
    const byPath = new Map(open.index.entries.map((e) => [e.path, e]));
    const wanted = command.paths.map((path) => byPath.get(path)).filter((e): e is DatasetEntry => e !== undefined);
    const replies = await Promise.all(
      wanted.map((entry) => deps.pool().run({ file: open!.files[entry.fileIndex]!, name: entry.path, spec: null, augment: null, thumbnailPx: THUMBNAIL_PX })),
    );
    deps.emit({
      type: 'dataset/thumbnails',
      requestId: command.requestId,
      thumbnails: replies.flatMap((reply, i) => (reply.ok && reply.thumbnail ? [{ path: wanted[i]!.path, image: reply.thumbnail }] : [])),
    });
  }

  return {
    current: () => open,
    async handle(command) {
      // A failed sample or preview is that request's failure: the open dataset stays.
      try {
        if (command.type === 'dataset/open') await scan(command);
        else if (command.type === 'dataset/sample') await sample(command);
        else await thumbnails(command);
      } catch (error) {
        if (command.type === 'dataset/sample') deps.emit({ type: 'dataset/sampleFailed', requestId: command.requestId, split: command.split, error: serializeError(error) });
        else if (command.type === 'dataset/thumbnails') deps.emit({ type: 'dataset/thumbnailsFailed', requestId: command.requestId, error: serializeError(error) });
        else deps.emit({ type: 'dataset/failed', error: serializeError(error) });
      }
    },
  };
}
