// From a dropped folder's file list to a labelled dataset index: classes from folder names,
// `train/`, `val/` and `test/` folders recognised as splits (otherwise a stratified split with a
// visible seed), system files ignored, everything else that is not an image listed, never fatal.

import { DEFAULT_SPLIT_OPTIONS, stratifiedSplit, type SplitOptions } from './splits';

/** A file of the dropped folder: its path below what was dropped, '/'-separated. */
export interface DroppedFileRef {
  path: string;
  /** Bytes. */
  size: number;
  /** A folder rather than a file (folders are listed so that an empty class folder can be named). */
  directory?: boolean;
}

export type SplitName = 'train' | 'validation' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

export interface DatasetEntry {
  /** Position in the list the index was built from. */
  fileIndex: number;
  path: string;
  classIndex: number;
  split: SplitName;
  size: number;
}

export type IssueSeverity = 'info' | 'warning' | 'error';

export type IngestIssueCode =
  | 'ignored-system-file'
  | 'not-an-image'
  | 'unsupported-image'
  | 'outside-class-folder'
  | 'unknown-split-folder'
  | 'empty-file'
  | 'empty-class'
  | 'single-image-class'
  | 'class-missing-from-split'
  | 'single-class'
  | 'no-classes'
  | 'decode-failed'
  | 'too-large'
  | 'unknown-relabel';

export interface IngestIssue {
  severity: IssueSeverity;
  code: IngestIssueCode;
  /** The file or folder concerned ('' for the whole drop). */
  path: string;
  message: string;
}

export interface DatasetIndex {
  /** The folder that was dropped, if the drop was one folder (shown to the user). */
  rootName: string | null;
  classNames: string[];
  entries: DatasetEntry[];
  /** 'folders' when the drop had train/val(/test) folders; otherwise a stratified split. */
  splitSource: 'folders' | 'stratified';
  /** The stratified split's settings, null with split folders. */
  splitOptions: SplitOptions | null;
  /** counts[split][class]. */
  counts: Record<SplitName, number[]>;
  issues: IngestIssue[];
  /** False when an error-level issue means there is nothing to train on. */
  trainable: boolean;
}

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp'] as const;
const UNSUPPORTED_IMAGES: Record<string, string> = {
  svg: 'SVG is a vector format; export it as PNG to use it',
  tif: 'TIFF cannot be decoded by browsers; convert it to PNG or JPEG',
  tiff: 'TIFF cannot be decoded by browsers; convert it to PNG or JPEG',
  heic: 'HEIC cannot be decoded by most browsers; convert it to JPEG',
  heif: 'HEIF cannot be decoded by most browsers; convert it to JPEG',
  psd: 'Photoshop files cannot be decoded; export them as PNG',
  raw: 'camera RAW files cannot be decoded; export them as JPEG',
};
const SYSTEM_FILES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini']);
const SPLIT_FOLDERS: Record<string, SplitName> = {
  train: 'train',
  training: 'train',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
  test: 'test',
  testing: 'test',
};

function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function isHiddenFolder(segment: string): boolean {
  return segment === '__MACOSX' || segment.startsWith('.');
}

function isSystemPath(segments: readonly string[]): boolean {
  const name = segments[segments.length - 1] ?? '';
  return segments.slice(0, -1).some(isHiddenFolder) || name.startsWith('.') || SYSTEM_FILES.has(name.toLowerCase());
}

/** Drops a leading folder shared by every path when below it the classes (or splits) begin. */
function stripSharedRoot(paths: string[][]): { root: string | null; paths: string[][] } {
  const first = paths[0]?.[0];
  if (first === undefined || !paths.every((p) => p.length >= 2 && p[0] === first)) return { root: null, paths };
  // Dropping one folder: its name is the root.
  return { root: first, paths: paths.map((p) => p.slice(1)) };
}

/**
 * The index of a drop. `exclude` lists files (by position) known to be unreadable: they are left
 * out before the split, so that the split is over the images that will really be used.
 * `relabel` files images (by path) under another of the drop's classes than their folder's: the
 * user's corrections of likely mislabels, which never touch the files on disk.
 */
export function buildDatasetIndex(
  files: readonly DroppedFileRef[],
  splitOptions: SplitOptions = DEFAULT_SPLIT_OPTIONS,
  exclude: ReadonlySet<number> = new Set(),
  relabel: Readonly<Record<string, string>> = {},
): DatasetIndex {
  const issues: IngestIssue[] = [];
  const candidates: { fileIndex: number; segments: string[]; size: number; path: string }[] = [];
  files.forEach((file, fileIndex) => {
    if (file.directory || exclude.has(fileIndex)) return;
    const segments = file.path.split('/').filter((s) => s.length > 0);
    if (isSystemPath(segments)) {
      issues.push({ severity: 'info', code: 'ignored-system-file', path: file.path, message: `${file.path}: system or hidden file, ignored.` });
      return;
    }
    const extension = extensionOf(file.path);
    if (UNSUPPORTED_IMAGES[extension]) {
      issues.push({ severity: 'warning', code: 'unsupported-image', path: file.path, message: `${file.path}: ${UNSUPPORTED_IMAGES[extension]}.` });
      return;
    }
    if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
      issues.push({ severity: 'info', code: 'not-an-image', path: file.path, message: `${file.path}: not an image (${extension ? `.${extension}` : 'no extension'}), skipped.` });
      return;
    }
    if (file.size === 0) {
      issues.push({ severity: 'warning', code: 'empty-file', path: file.path, message: `${file.path}: empty file (0 bytes), skipped.` });
      return;
    }
    candidates.push({ fileIndex, segments, size: file.size, path: file.path });
  });

  const stripped = stripSharedRoot(candidates.map((c) => c.segments));
  let rootName = stripped.root;
  let paths = stripped.paths;
  // A drop of one class folder full of images is not a dataset; keep the root as a class then.
  if (rootName && paths.every((p) => p.length === 1) && candidates.length > 0) {
    rootName = null;
    paths = candidates.map((c) => c.segments);
  }

  const topLevel = new Set(paths.filter((p) => p.length >= 2).map((p) => p[0]!.toLowerCase()));
  const splitFolders = [...topLevel].filter((name) => name in SPLIT_FOLDERS);
  const useSplitFolders = splitFolders.some((n) => SPLIT_FOLDERS[n] === 'train') && splitFolders.some((n) => SPLIT_FOLDERS[n] !== 'train');

  type Placed = { candidate: (typeof candidates)[number]; className: string; split: SplitName | null };
  const placed: Placed[] = [];
  candidates.forEach((candidate, i) => {
    const segments = paths[i]!;
    if (useSplitFolders) {
      const split = SPLIT_FOLDERS[segments[0]!.toLowerCase()];
      if (!split) {
        issues.push({ severity: 'warning', code: 'unknown-split-folder', path: candidate.path, message: `${candidate.path}: outside the train/val/test folders, ignored.` });
      } else if (segments.length < 3) {
        issues.push({ severity: 'warning', code: 'outside-class-folder', path: candidate.path, message: `${candidate.path}: directly in ${segments[0]}/, not in a class folder, ignored.` });
      } else {
        placed.push({ candidate, className: segments[1]!, split });
      }
    } else if (segments.length < 2) {
      issues.push({ severity: 'warning', code: 'outside-class-folder', path: candidate.path, message: `${candidate.path}: not in a class folder, ignored (put each class's images in a folder named after the class).` });
    } else {
      placed.push({ candidate, className: segments[0]!, split: null });
    }
  });

  const classNames = [...new Set(placed.map((p) => p.className))].sort((a, b) => a.localeCompare(b));
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  for (const p of placed) {
    const to = relabel[p.candidate.path];
    if (to === undefined || to === p.className) continue;
    if (classIndex.has(to)) p.className = to;
    else issues.push({ severity: 'warning', code: 'unknown-relabel', path: p.candidate.path, message: `${p.candidate.path}: cannot be moved to class ${to}, which this folder does not have; it stays in ${p.className}.` });
  }
  const entries: DatasetEntry[] = placed.map((p) => ({
    fileIndex: p.candidate.fileIndex,
    path: p.candidate.path,
    classIndex: classIndex.get(p.className)!,
    split: p.split ?? 'train',
    size: p.candidate.size,
  }));

  // Class folders that hold no usable image: name them.
  const folderClasses = new Set(
    files
      .map((f) => ({ segments: f.path.split('/').filter(Boolean), directory: f.directory === true }))
      // A folder holding only system files (.DS_Store) is still a class folder, an empty one.
      .filter(({ segments, directory }) => !(directory ? segments : segments.slice(0, -1)).some(isHiddenFolder))
      .map(({ segments, directory }) => ({ segments: rootName && segments[0] === rootName ? segments.slice(1) : segments, directory }))
      // A class folder is a first-level folder: named by a folder entry, or by a file below it.
      .filter(({ segments, directory }) => !useSplitFolders && segments.length >= (directory ? 1 : 2))
      .map(({ segments }) => segments[0]!),
  );
  for (const name of [...folderClasses].filter((n) => !classIndex.has(n)).sort()) {
    issues.push({ severity: 'warning', code: 'empty-class', path: name, message: `Class folder ${name} has no usable image, so it is not a class.` });
  }

  if (!useSplitFolders) {
    // Ranked by path: leaving an image out or moving it keeps the other images where they were.
    const { validation } = stratifiedSplit(
      entries.map((e) => e.classIndex),
      splitOptions,
      entries.map((e) => e.path),
    );
    for (const i of validation) entries[i]!.split = 'validation';
  }

  const counts = Object.fromEntries(SPLIT_NAMES.map((split) => [split, classNames.map(() => 0)])) as Record<SplitName, number[]>;
  for (const entry of entries) counts[entry.split][entry.classIndex]! += 1;

  classNames.forEach((name, c) => {
    const total = SPLIT_NAMES.reduce((sum, s) => sum + counts[s][c]!, 0);
    if (total === 1) {
      issues.push({ severity: 'warning', code: 'single-image-class', path: name, message: `Class ${name} has a single image: it can only be trained on, never validated.` });
    }
    if (useSplitFolders) {
      for (const split of ['train', 'validation'] as const) {
        if (counts[split][c] === 0) {
          issues.push({ severity: 'warning', code: 'class-missing-from-split', path: name, message: `Class ${name} has no images in the ${split} split.` });
        }
      }
    }
  });

  if (classNames.length === 0) {
    issues.push({ severity: 'error', code: 'no-classes', path: '', message: 'No class folders with images were found: drop a folder that holds one subfolder of images per class.' });
  } else if (classNames.length === 1) {
    issues.push({ severity: 'error', code: 'single-class', path: classNames[0]!, message: `Only one class (${classNames[0]}) was found: a classifier needs at least two class folders.` });
  }

  return {
    rootName,
    classNames,
    entries,
    splitSource: useSplitFolders ? 'folders' : 'stratified',
    splitOptions: useSplitFolders ? null : splitOptions,
    counts,
    issues,
    trainable: !issues.some((issue) => issue.severity === 'error') && counts.train.some((n) => n > 0),
  };
}
