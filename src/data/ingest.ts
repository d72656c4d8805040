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
  queryPermission?(options: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(options: { mode: 'read' }): Promise<PermissionState>;
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

/**
 * showDirectoryPicker where the browser has it, else null (the page then offers the folder input).
 * The handle comes with the files: kept with a run, it reopens the folder to resume it.
 */
export async function pickDirectory(): Promise<{ files: DroppedFile[]; handle: unknown } | null> {
  const picker = (globalThis as { showDirectoryPicker?: (options?: object) => Promise<DirectoryHandle> }).showDirectoryPicker;
  if (!picker) return null;
  try {
    const handle = await picker({ mode: 'read' });
    return { files: await filesFromDirectoryHandle(handle), handle };
  } catch (error) {
    if ((error as DOMException).name === 'AbortError') return { files: [], handle: null };
    throw error;
  }
}

/**
 * The files of a folder picked in an earlier visit, from its kept handle, once the browser lets
 * the page read it again (it may ask the user: call from a click); null when it does not.
 */
export async function reopenDirectory(handle: unknown): Promise<DroppedFile[] | null> {
  const directory = handle as DirectoryHandle;
  if (typeof directory?.values !== 'function') return null;
  const granted = (await directory.queryPermission?.({ mode: 'read' })) === 'granted' || (await directory.requestPermission?.({ mode: 'read' })) === 'granted';
  return granted ? filesFromDirectoryHandle(directory) : null;
}
