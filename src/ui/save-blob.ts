// Hands a file to the browser's downloads: a Blob, its object URL and a click on a temporary
// <a download>. The page's one way to save: exports from the worker (main.tsx's DownloadPort) and
// the charts' data and pictures alike.

/** The link's click only starts the download: the URL must outlive it a little. */
const DOWNLOAD_URL_LIFETIME_MS = 10_000;

export function saveBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
}
