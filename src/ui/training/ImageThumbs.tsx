// Thumbnails of dataset images, by path: one, or a list with its overflow counted.

import { useThumbnailFailure, useThumbnails } from '../../state/hooks';
import { useObjectUrl } from '../dataset/useObjectUrls';

export const CELL_PREVIEWS = 24;


export function Thumb({ path, blob }: { path: string; blob: Blob | undefined }) {
  const url = useObjectUrl(blob);
  return (
    <li title={path}>
      {url ? <img src={url} alt={path} /> : <span className="thumb-pending" />}
      <span>{path.slice(path.lastIndexOf('/') + 1)}</span>
    </li>
  );
}

export function CellImages({ paths }: { paths: string[] }) {
  const thumbnails = useThumbnails();
  const failure = useThumbnailFailure();
  const shown = paths.slice(0, CELL_PREVIEWS);
  return (
    <>
      <ul className="cell-thumbs" data-testid="cell-thumbs">
        {shown.map((path) => (
          <Thumb key={path} path={path} blob={thumbnails[path]} />
        ))}
        {paths.length > shown.length && <li className="muted">and {paths.length - shown.length} more</li>}
      </ul>
      {failure && <p className="error">The previews could not be made: {failure.error.message}</p>}
    </>
  );
}
