// The training worker's dataset session in Node: a dropped folder of tiny generated images is
// indexed and scanned through a stand-in decode pool that runs the workers' own decode job.

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { fnv1a64Bytes } from '../../../src/core/hash';
import { DEFAULT_PREPROCESS_SPEC, preprocessSpecHash } from '../../../src/core/preprocess-spec';
import { DEFAULT_SPLIT_OPTIONS } from '../../../src/core/splits';
import { preprocessImage } from '../../../src/data/preprocess';
import { createDatasetSession, THUMBNAILS_PER_CLASS, type DatasetCommand } from '../../../src/workers/dataset-session';
import type { WorkerEvent } from '../../../src/workers/protocol';
import { createStandInPool, decodeInNode, jpegBytes, pngBytes, type Paint, type StandInPool, type StandInPoolOptions } from '../../helpers/node-decode-pool';

type DroppedFiles = Extract<DatasetCommand, { type: 'dataset/open' }>['files'];
type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;

const GRAY: Paint = (x, y) => {
  const v = (x * 11 + y * 7) % 256;
  return [v, v, v, 255];
};
const HALF_TRANSPARENT: Paint = (x, y) => [(x * 37) % 256, (y * 53) % 256, 90, 128];

const file = (path: string, bytes: Uint8Array<ArrayBuffer> | string, type = ''): DroppedFiles[number] => ({ path, file: new File([bytes], path.split('/').pop()!, { type }) });
const folder = (path: string): DroppedFiles[number] => ({ path, file: null });

/**
 * pets/cat: cat-0 … cat-7.png, 20+i × 16 px; cat-0 gray, cat-1 half transparent, cat-7 cut off
 * after 40 bytes (its header still reads, its pixels do not).
 * pets/dog: dog-0 … dog-4.jpg, 30 × 20+i px; not-really.jpg holds text; readme.txt is no image.
 */
function petsDrop(): DroppedFiles {
  const cats = Array.from({ length: 8 }, (_, i) => {
    const bytes = pngBytes(20 + i, 16, i === 0 ? GRAY : i === 1 ? HALF_TRANSPARENT : undefined);
    return file(`pets/cat/cat-${i}.png`, i === 7 ? bytes.subarray(0, 40) : bytes, 'image/png');
  });
  const dogs = Array.from({ length: 5 }, (_, i) => file(`pets/dog/dog-${i}.jpg`, jpegBytes(30, 20 + i), 'image/jpeg'));
  return [
    folder('pets'),
    folder('pets/cat'),
    ...cats,
    folder('pets/dog'),
    ...dogs,
    file('pets/dog/not-really.jpg', 'a text file with an image name', 'image/jpeg'),
    file('pets/dog/readme.txt', 'photos from the shelter', 'text/plain'),
  ];
}

interface Harness {
  events: WorkerEvent[];
  of<T extends WorkerEvent['type']>(type: T): EventOf<T>[];
  /** The one event of this type (fails the test when there is none or more). */
  only<T extends WorkerEvent['type']>(type: T): EventOf<T>;
  handle(command: DatasetCommand): Promise<void>;
  session: ReturnType<typeof createDatasetSession>;
  /** Sizes each pool was asked for, in order (undefined: the default). */
  poolSizes: (number | undefined)[];
  pools: StandInPool[];
}

/** A session whose pools come from `poolOptions()` at the time each is made; the clock stands still unless `now` is given. */
function harness(poolOptions: () => StandInPoolOptions = () => ({}), now: () => number = () => 0): Harness {
  const events: WorkerEvent[] = [];
  const poolSizes: (number | undefined)[] = [];
  const pools: StandInPool[] = [];
  const session = createDatasetSession({
    emit: (event) => events.push(event),
    pool: (size) => {
      poolSizes.push(size);
      const pool = createStandInPool(poolOptions(), size);
      pools.push(pool);
      return pool;
    },
    now,
  });
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is EventOf<T> => e.type === type);
  return {
    events,
    of,
    only(type) {
      const found = of(type);
      expect(found, `${type} events`).toHaveLength(1);
      return found[0]!;
    },
    handle: (command) => session.handle(command),
    session,
    poolSizes,
    pools,
  };
}

const open = (files: DroppedFiles, decodeWorkers?: number): DatasetCommand => ({ type: 'dataset/open', files, split: DEFAULT_SPLIT_OPTIONS, ...(decodeWorkers ? { decodeWorkers } : {}) });

async function openPets(h: Harness): Promise<void> {
  await h.handle(open(petsDrop(), 2));
}

describe('dataset/open', () => {
  it('files relabelled images under their new class, in the index, the scan and the images training reads', async () => {
    const h = harness();
    await h.handle({ type: 'dataset/open', files: petsDrop(), split: DEFAULT_SPLIT_OPTIONS, decodeWorkers: 2, relabel: { 'pets/dog/dog-0.jpg': 'cat', 'pets/dog/dog-1.jpg': 'cat' } });
    const { dataset } = h.only('dataset/indexed');
    // 10 cats (8 files + 2 moved), 4 dogs; the cut-off cat-7 and not-really.jpg fail to decode.
    expect(dataset.counts.train.map((n, c) => n + dataset.counts.validation[c]!)).toEqual([10, 4]);
    const { scan } = h.only('dataset/scanned');
    expect(scan.counts.train.map((n, c) => n + scan.counts.validation[c]!)).toEqual([9, 3]);
    const usable = [...h.session.current()!.usable.train, ...h.session.current()!.usable.validation];
    expect(usable.find((e) => e.path === 'pets/dog/dog-1.jpg')!.classIndex).toBe(0);
  });

  it('indexes class folders, reports progress, then the scan with its per-split counts, sizes and formats', async () => {
    const h = harness();
    await openPets(h);

    expect(h.events.map((e) => e.type)).toEqual(['dataset/indexed', 'dataset/scanning', 'dataset/scanned']);
    expect(h.poolSizes).toEqual([2]);

    const { dataset } = h.only('dataset/indexed');
    expect(dataset.rootName).toBe('pets');
    expect(dataset.classNames).toEqual(['cat', 'dog']);
    expect(dataset.splitSource).toBe('stratified');
    // 8 cat and 6 dog files with an image name (readme.txt is not one). stratifiedSplit holds out
    // round(n · 0.2) per class: round(1.6) = 2 cats and round(1.2) = 1 dog.
    expect(dataset.imageCount).toBe(14);
    expect(dataset.counts).toEqual({ train: [6, 5], validation: [2, 1], test: [0, 0] });
    expect(dataset.trainable).toBe(true);

    // A still clock: only the last reply (done === total) passes the progress throttle.
    expect(h.of('dataset/scanning')).toEqual([{ type: 'dataset/scanning', done: 14, total: 14 }]);

    const { scan } = h.only('dataset/scanned');
    // 7 cat PNGs and 5 dog JPEGs decode; cat-7.png and not-really.jpg do not.
    expect(scan.decoded).toBe(12);
    expect(scan.formats).toEqual({ png: 7, jpeg: 5 });
    // Widths 20 … 26 and 5 × 30; heights 7 × 16 and 20 … 24. Median is sorted[floor(n / 2)] (range() in dataset-session.ts).
    expect(scan.widths).toEqual({ min: 20, median: 26, max: 30 });
    expect(scan.heights).toEqual({ min: 16, median: 16, max: 24 });
    expect(scan.grayCount).toBe(1);
    expect(scan.alphaCount).toBe(1);
    expect(scan.downscaledCount).toBe(0);
    // Split again without the two failures: 7 cats give round(1.4) = 1 to validation, 5 dogs round(1.0) = 1.
    expect(scan.counts).toEqual({ train: [6, 4], validation: [1, 1], test: [0, 0] });
    expect(scan.ms).toBe(0);

    // The first THUMBNAILS_PER_CLASS images of each class in drop order, by class then path.
    expect(THUMBNAILS_PER_CLASS).toBe(4);
    expect(scan.thumbnails.map((t) => [t.classIndex, t.path])).toEqual([
      ...[0, 1, 2, 3].map((i) => [0, `pets/cat/cat-${i}.png`]),
      ...[0, 1, 2, 3].map((i) => [1, `pets/dog/dog-${i}.jpg`]),
    ]);
    expect(scan.thumbnails.every((t) => t.image instanceof Blob && t.image.type === 'image/png')).toBe(true);

    const current = h.session.current()!;
    expect(current.index.counts).toEqual(scan.counts);
    expect(current.profiles.size).toBe(12);
    expect(current.profiles.get('pets/cat/cat-0.png')).toMatchObject({ width: 20, height: 16, isGray: true });
    expect(current.profiles.get('pets/cat/cat-0.png')!.differenceHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reports progress at most every 150 ms of the injected clock', async () => {
    let t = 0;
    // 200 ms a reading: every reply is past PROGRESS_INTERVAL_MS (150) since the last report.
    const h = harness(undefined, () => (t += 200));
    await openPets(h);
    expect(h.of('dataset/scanning').map((e) => e.done)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  });

  it('names a corrupt image and a non-image, and leaves them out of every split without failing', async () => {
    const h = harness();
    await openPets(h);
    expect(h.of('dataset/failed')).toEqual([]);

    const { dataset } = h.only('dataset/indexed');
    expect(dataset.issues).toContainEqual(expect.objectContaining({ code: 'not-an-image', path: 'pets/dog/readme.txt', severity: 'info' }));

    const { scan } = h.only('dataset/scanned');
    expect(scan.failures.map((f) => [f.code, f.path, f.severity])).toEqual([
      ['decode-failed', 'pets/cat/cat-7.png', 'warning'],
      ['decode-failed', 'pets/dog/not-really.jpg', 'warning'],
    ]);
    for (const failure of scan.failures) expect(failure.message.startsWith(failure.path)).toBe(true);
    expect(scan.failures[0]!.message).toMatch(/PNG that is corrupt or truncated/);

    const { usable, index } = h.session.current()!;
    const used = [...usable.train, ...usable.validation, ...usable.test, ...index.entries].map((e) => e.path);
    for (const left of ['pets/cat/cat-7.png', 'pets/dog/not-really.jpg', 'pets/dog/readme.txt']) expect(used).not.toContain(left);
    expect(usable.train.length + usable.validation.length + usable.test.length).toBe(12);
  });

  it('counts a job whose decoding worker died as a failure of that file', async () => {
    const h = harness(() => ({ crashOn: new Set(['pets/dog/dog-2.jpg']) }));
    await openPets(h);
    const { scan } = h.only('dataset/scanned');
    expect(scan.failures.map((f) => f.path)).toEqual(['pets/cat/cat-7.png', 'pets/dog/dog-2.jpg', 'pets/dog/not-really.jpg']);
    expect(scan.failures[1]).toEqual({ severity: 'warning', code: 'decode-failed', path: 'pets/dog/dog-2.jpg', message: 'pets/dog/dog-2.jpg: A decoding worker crashed: boom.' });
    expect(scan.decoded).toBe(11);
  });

  it('an empty drop: an index with the no-classes error, and no scan', async () => {
    const h = harness();
    await h.handle(open([]));
    expect(h.events.map((e) => e.type)).toEqual(['dataset/indexed']);
    const { dataset } = h.only('dataset/indexed');
    expect(dataset.imageCount).toBe(0);
    expect(dataset.trainable).toBe(false);
    expect(dataset.issues).toEqual([expect.objectContaining({ severity: 'error', code: 'no-classes', path: '' })]);
    expect(h.pools[0]!.asked).toEqual([]);
    expect(h.session.current()).toBeNull();
  });

  it('a single class: the index says so (not trainable), and the images are still scanned', async () => {
    const h = harness();
    await h.handle(open([0, 1, 2].map((i) => file(`cats/cat-${i}.png`, pngBytes(20, 16), 'image/png'))));
    const { dataset } = h.only('dataset/indexed');
    // One folder of images is taken as one class, not as a dataset root (buildDatasetIndex).
    expect(dataset.rootName).toBeNull();
    expect(dataset.classNames).toEqual(['cats']);
    expect(dataset.trainable).toBe(false);
    expect(dataset.issues).toContainEqual(expect.objectContaining({ severity: 'error', code: 'single-class', path: 'cats', message: expect.stringMatching(/at least two class folders/) }));
    const { scan } = h.only('dataset/scanned');
    // 3 images: round(0.6) = 1 to validation.
    expect(scan.counts).toEqual({ train: [2], validation: [1], test: [0] });
  });

  it('a second open while the first is scanning supersedes it: only the newer drop is scanned and kept', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    // The first pool holds every job until released; the second answers at once.
    const h = harness(() => (first ? ((first = false), { hold }) : {}));

    const scanningPets = h.handle(open(petsDrop()));
    // scan() asks for every job before its first await, so the first drop is mid-scan here.
    expect(h.pools[0]!.asked).toHaveLength(14);
    expect(h.of('dataset/indexed')).toHaveLength(1);

    await h.handle(open([0, 1, 2, 3].flatMap((i) => [file(`birds/owl/o${i}.png`, pngBytes(24, 24), 'image/png'), file(`birds/jay/j${i}.png`, pngBytes(24, 24), 'image/png')])));
    release();
    await scanningPets;

    expect(h.events.map((e) => e.type)).toEqual(['dataset/indexed', 'dataset/indexed', 'dataset/scanning', 'dataset/scanned']);
    expect(h.of('dataset/indexed').map((e) => e.dataset.rootName)).toEqual(['pets', 'birds']);
    expect(h.of('dataset/scanning')).toEqual([{ type: 'dataset/scanning', done: 8, total: 8 }]);
    expect(h.of('dataset/scanned')[0]!.scan.decoded).toBe(8);
    expect(h.session.current()!.index.classNames).toEqual(['jay', 'owl']);
  });

  it('while a drop is scanning, no dataset is open for sampling', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const h = harness(() => ({ hold }));
    const scanning = h.handle(open(petsDrop()));
    await h.handle({ type: 'dataset/sample', requestId: 1, split: 'train', count: 2 });
    // The request's own failure: the drop being scanned is not failed by it.
    expect(h.of('dataset/sampleFailed')).toEqual([{ type: 'dataset/sampleFailed', requestId: 1, split: 'train', error: { code: 'input/invalid', message: 'No dataset is open yet.' } }]);
    expect(h.of('dataset/failed')).toEqual([]);
    release();
    await scanning;
    expect(h.session.current()).not.toBeNull();
  });
});

describe('dataset/sample', () => {
  const SIZE_PX = 32; // the smallest input size a spec allows, to keep preprocessing cheap

  it('gives equal checksums for equal requests, equal to preprocessing the same images by hand, and the spec hash', async () => {
    const h = harness();
    await openPets(h);
    const ask = (requestId: number, normalization?: 'torch') =>
      h.handle({ type: 'dataset/sample', requestId, split: 'validation', count: 5, sizePx: SIZE_PX, ...(normalization ? { normalization } : {}) });
    await ask(1);
    await ask(2);
    await ask(3, 'torch');
    const [a, b, torch] = h.of('dataset/sampled').map((e) => e.sample);

    const spec = { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX };
    // The validation split holds 2 images after the scan (see above), so 5 asked give 2.
    expect(a).toMatchObject({ requestId: 1, split: 'validation', count: 2, normalization: 'caffe', specHash: preprocessSpecHash(spec) });
    expect(b!.requestId).toBe(2);
    expect(b!.checksum).toBe(a!.checksum);
    expect(b!.channelMeans).toEqual(a!.channelMeans);

    // Reference: the same entries decoded and preprocessed here, one after the other.
    const { usable, files } = h.session.current()!;
    const perImage = SIZE_PX * SIZE_PX * 3;
    const batch = new Float32Array(usable.validation.length * perImage);
    for (const [i, entry] of usable.validation.entries()) batch.set(preprocessImage(await decodeInNode(files[entry.fileIndex]!, entry.path), spec), i * perImage);
    expect(a!.checksum).toBe(fnv1a64Bytes(new Uint8Array(batch.buffer)));

    expect(torch).toMatchObject({ normalization: 'torch', specHash: preprocessSpecHash({ ...spec, normalization: 'torch' }) });
    expect(torch!.specHash).not.toBe(a!.specHash);
    expect(torch!.checksum).not.toBe(a!.checksum);
  });

  it('fails with a coded error before any dataset is open', async () => {
    const h = harness();
    await h.handle({ type: 'dataset/sample', requestId: 7, split: 'train', count: 4 });
    expect(h.of('dataset/sampleFailed')).toEqual([{ type: 'dataset/sampleFailed', requestId: 7, split: 'train', error: { code: 'input/invalid', message: 'No dataset is open yet.' } }]);
    expect(h.of('dataset/failed')).toEqual([]);
  });
});

describe('dataset/thumbnails', () => {
  it('returns a preview of each asked image that is in the dataset, in the order asked', async () => {
    const h = harness();
    await openPets(h);
    await h.handle({ type: 'dataset/thumbnails', requestId: 3, paths: ['pets/dog/dog-4.jpg', 'pets/cat/cat-5.png', 'pets/cat/cat-7.png', 'pets/nowhere.png'] });
    const { thumbnails, requestId } = h.only('dataset/thumbnails');
    expect(requestId).toBe(3);
    // cat-7.png failed to decode, so it is not in the dataset; nowhere.png never was.
    expect(thumbnails.map((t) => t.path)).toEqual(['pets/dog/dog-4.jpg', 'pets/cat/cat-5.png']);
    // The stand-in's preview is the image itself: its size tells which file it came from (dog-4 is 30 × 24, cat-5 25 × 16).
    const sizes = await Promise.all(
      thumbnails.map(async (t) => {
        const png = PNG.sync.read(Buffer.from(await t.image.arrayBuffer()));
        return [png.width, png.height];
      }),
    );
    expect(sizes).toEqual([
      [30, 24],
      [25, 16],
    ]);
  });

  it('says why before a dataset is open, as that request’s failure', async () => {
    const h = harness();
    await h.handle({ type: 'dataset/thumbnails', requestId: 4, paths: ['pets/cat/cat-0.png'] });
    expect(h.events).toEqual([{ type: 'dataset/thumbnailsFailed', requestId: 4, error: { code: 'input/invalid', message: 'No dataset is open yet.' } }]);
  });
});
