// Thumbnails of dataset images, by path: one, or a list (each with an optional caption) with its
// overflow counted.

import { useThumbnailFailure, useThumbnails } from '../../state/hooks';
import { useObjectUrl } from '../dataset/useObjectUrls';

export const CELL_PREVIEWS = 24;

/** An image in a list of thumbnails: its path, and what to write under its file name. */
export interface CellImage {
  path: string;
  caption?: string;
  /** The caption said in full, for the title. */
  description?: string;
}

function ThumbItem({ path, blob, caption, description }: CellImage & { blob: Blob | undefined }) {
  const url = useObjectUrl(blob);
  return (
    <li title={description ? `${path}: ${description}` : path}>
      {url ? <img src={url} alt={path} /> : <span className="thumb-pending" />}
      <span>{path.slice(path.lastIndexOf('/') + 1)}</span>
      {caption && <span className="thumb-caption">{caption}</span>}
    </li>
  );
}

export function Thumb({ path, blob }: { path: string; blob: Blob | undefined }) {
  return <ThumbItem path={path} blob={blob} />;
}

export function CellImages({ images }: { images: readonly CellImage[] }) {
  const thumbnails = useThumbnails();
  const failure = useThumbnailFailure();
  const shown = images.slice(0, CELL_PREVIEWS);
  return (
    <>
      <ul className="cell-thumbs" data-testid="cell-thumbs">
        {shown.map((image) => (
          <ThumbItem key={image.path} {...image} blob={thumbnails[image.path]} />
        ))}
        {images.length > shown.length && <li className="muted">and {images.length - shown.length} more</li>}
      </ul>
      {failure && <p className="error">The previews could not be made: {failure.error.message}</p>}
    </>
  );
}
