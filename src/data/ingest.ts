// Turns what the user dropped or picked into a flat list of files with their paths: drag and drop
// (every batch of readEntries, recursively), <input webkitdirectory>, and showDirectoryPicker.
// Folders are listed too, so that an empty class folder can be named.

export interface DroppedFile {
  /** '/'-separated path below what was dropped, starting with the dropped folder's name. */
  path: string;
  /** Null for a folder. */
  file: File | null;
}

/** Reads every entry of a folder: readEntries returns at most ~100 at a time. */
async function readAllEntries(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walkEntry(entry: FileSystemEntry, prefix: string, out: DroppedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, file });
  } else if (entry.isDirectory) {
    out.push({ path: `${path}/`, file: null });
    for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walkEntry(child, path, out);
  }
}

/**
 * The files of a drop. Call it synchronously from the drop handler: the browser empties the
 * DataTransfer once the event returns, so the entries are taken before the first await.
 */
export function filesFromDataTransfer(dataTransfer: DataTransfer): Promise<DroppedFile[]> {
  const entries = Array.from(dataTransfer.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  const looseFiles = entries.length === 0 ? Array.from(dataTransfer.files) : [];
  return (async () => {
    const out: DroppedFile[] = looseFiles.map((file) => ({ path: file.name, file }));
    for (const entry of entries) await walkEntry(entry, '', out);
    return out;
  })();
}

/** The files of an <input type="file" webkitdirectory> (their webkitRelativePath starts with the folder's name). */
export function filesFromInput(files: FileList | readonly File[]): DroppedFile[] {
  return Array.from(files, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

interface DirectoryHandle {
  name: string;
  kind: 'directory';
  values(): AsyncIterable<DirectoryHandle | FileHandle>;
}
interface FileHandle {
  name: string;
  kind: 'file';
  getFile(): Promise<File>;
}

/** The files below a folder picked with showDirectoryPicker (Chromium). */
export async function filesFromDirectoryHandle(handle: DirectoryHandle, prefix = handle.name, out: DroppedFile[] = []): Promise<DroppedFile[]> {
  out.push({ path: `${prefix}/`, file: null });
  for await (const child of handle.values()) {
    const path = `${prefix}/${child.name}`;
    if (child.kind === 'file') out.push({ path, file: await child.getFile() });
    else await filesFromDirectoryHandle(child, path, out);
  }
  return out;
}

/** showDirectoryPicker where the browser has it, else null (the page then offers the folder input). */
export async function pickDirectory(): Promise<DroppedFile[] | null> {
  const picker = (globalThis as { showDirectoryPicker?: (options?: object) => Promise<DirectoryHandle> }).showDirectoryPicker;
  if (!picker) return null;
  try {
    return await filesFromDirectoryHandle(await picker({ mode: 'read' }));
  } catch (error) {
    if ((error as DOMException).name === 'AbortError') return [];
    throw error;
  }
}
