import { describe, expect, it } from 'vitest';
import { buildDatasetIndex, type DroppedFileRef } from '../../../src/core/dataset';

const files = (...paths: string[]): DroppedFileRef[] => paths.map((path) => (path.endsWith('/') ? { path, size: 0, directory: true } : { path, size: 100 }));
const codes = (index: ReturnType<typeof buildDatasetIndex>) => index.issues.map((i) => `${i.code}:${i.path}`);

describe('buildDatasetIndex', () => {
  it('takes classes from the first folder level below the dropped root; deeper folders belong to their class', () => {
    const index = buildDatasetIndex(
      files('pets/cats/a.jpg', 'pets/cats/b.png', 'pets/cats/more/c.jpeg', 'pets/dogs/a.JPG', 'pets/dogs/b.webp', 'pets/dogs/c.gif', 'pets/birds/x.bmp', 'pets/birds/y.png'),
    );
    expect(index.rootName).toBe('pets');
    expect(index.classNames).toEqual(['birds', 'cats', 'dogs']);
    expect(index.entries.find((e) => e.path === 'pets/cats/more/c.jpeg')!.classIndex).toBe(1);
    expect(index.splitSource).toBe('stratified');
    // One validation image per class (each has two or more), the rest train.
    expect(index.counts.validation).toEqual([1, 1, 1]);
    expect(index.counts.train).toEqual([1, 2, 2]);
    expect(index.trainable).toBe(true);
  });

  it('recognises train/val/test split folders (any of their names) and keeps them', () => {
    const index = buildDatasetIndex(
      files('data/train/cat/1.jpg', 'data/train/dog/1.jpg', 'data/valid/cat/2.jpg', 'data/valid/dog/2.jpg', 'data/test/cat/3.jpg', 'data/train/readme.txt'),
    );
    expect(index.splitSource).toBe('folders');
    expect(index.splitOptions).toBeNull();
    expect(index.counts).toEqual({ train: [1, 1], validation: [1, 1], test: [1, 0] });
    expect(codes(index)).toContain('not-an-image:data/train/readme.txt');
  });

  it('ignores system and hidden files, lists non-images and unsupported images, never fails on them', () => {
    const index = buildDatasetIndex(
      files('d/a/1.png', 'd/a/.DS_Store', 'd/a/Thumbs.db', 'd/__MACOSX/a/._1.png', 'd/.git/config', 'd/b/2.png', 'd/b/notes.txt', 'd/b/logo.svg', 'd/b/scan.tiff', 'd/b/noext'),
    );
    expect(index.classNames).toEqual(['a', 'b']);
    expect(index.entries).toHaveLength(2);
    expect(codes(index)).toEqual(
      expect.arrayContaining([
        'ignored-system-file:d/a/.DS_Store',
        'ignored-system-file:d/a/Thumbs.db',
        'ignored-system-file:d/__MACOSX/a/._1.png',
        'ignored-system-file:d/.git/config',
        'not-an-image:d/b/notes.txt',
        'unsupported-image:d/b/logo.svg',
        'unsupported-image:d/b/scan.tiff',
        'not-an-image:d/b/noext',
      ]),
    );
    expect(index.issues.find((i) => i.path === 'd/b/logo.svg')!.message).toContain('SVG');
  });

  it('names empty class folders, one-image classes and zero-byte files', () => {
    const index = buildDatasetIndex([...files('d/a/1.png', 'd/a/2.png', 'd/b/1.png', 'd/empty/'), { path: 'd/a/zero.png', size: 0 }]);
    expect(index.classNames).toEqual(['a', 'b']);
    expect(codes(index)).toEqual(expect.arrayContaining(['empty-class:empty', 'single-image-class:b', 'empty-file:d/a/zero.png']));
    expect(index.counts.train[1]).toBe(1); // the single image trains
    expect(index.trainable).toBe(true);
  });

  it('refuses a drop with no class folders, or with a single class, with a message that says what to drop', () => {
    const flat = buildDatasetIndex(files('photos/1.jpg', 'photos/2.jpg'));
    expect(flat.trainable).toBe(false);
    expect(flat.issues.find((i) => i.severity === 'error')!.message).toMatch(/at least two class folders/);
    const none = buildDatasetIndex(files('notes/a.txt'));
    expect(none.trainable).toBe(false);
    expect(codes(none)).toContain('no-classes:');
    const loose = buildDatasetIndex(files('d/a/1.png', 'd/a/2.png', 'd/b/1.png', 'd/b/2.png', 'd/stray.png'));
    expect(codes(loose)).toContain('outside-class-folder:d/stray.png');
  });

  it('handles several folders dropped together as the classes, names with spaces, Unicode and markup', () => {
    const index = buildDatasetIndex(files('chats noirs/1.png', 'chats noirs/2.png', 'Hunde 🐕/1.png', 'Hunde 🐕/2.png', '<img src=x onerror=alert(1)>/1.png', '<img src=x onerror=alert(1)>/2.png'));
    expect(index.rootName).toBeNull();
    expect(index.classNames).toEqual(['<img src=x onerror=alert(1)>', 'chats noirs', 'Hunde 🐕']);
  });

  it('files relabelled images under the class they were moved to, and names a move to a class the folder lacks', () => {
    const drop = files('pets/cats/a.jpg', 'pets/cats/b.jpg', 'pets/dogs/c.jpg', 'pets/dogs/d.jpg', 'pets/dogs/e.jpg');
    const index = buildDatasetIndex(drop, undefined, new Set(), { 'pets/dogs/c.jpg': 'cats', 'pets/dogs/d.jpg': 'horses' });
    const classOf = (path: string) => index.classNames[index.entries.find((e) => e.path === path)!.classIndex];
    expect(classOf('pets/dogs/c.jpg')).toBe('cats');
    expect(classOf('pets/dogs/d.jpg')).toBe('dogs');
    expect(index.counts.train.map((n, c) => n + index.counts.validation[c]!)).toEqual([3, 2]);
    expect(codes(index)).toContain('unknown-relabel:pets/dogs/d.jpg');
    expect(index.issues.find((i) => i.code === 'unknown-relabel')!.message).toMatch(/horses/);
  });

  it('splits reproducibly from the seed it shows', () => {
    const many = files(...Array.from({ length: 40 }, (_, i) => `d/${i % 2 ? 'a' : 'b'}/${i}.png`));
    const a = buildDatasetIndex(many, { validationFraction: 0.25, seed: 3 });
    const b = buildDatasetIndex(many, { validationFraction: 0.25, seed: 3 });
    expect(a.entries.map((e) => e.split)).toEqual(b.entries.map((e) => e.split));
    expect(a.counts.validation).toEqual([5, 5]);
    expect(a.splitOptions).toEqual({ validationFraction: 0.25, seed: 3 });
  });

  it('indexes 10,000 files', () => {
    const many = files(...Array.from({ length: 10_000 }, (_, i) => `big/class${i % 10}/img${i}.jpg`));
    const index = buildDatasetIndex(many);
    expect(index.entries).toHaveLength(10_000);
    expect(index.counts.validation.reduce((a, b) => a + b)).toBe(2_000);
  });
});
