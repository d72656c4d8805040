// Images to look at one by one (fastai's top losses): the picture, the class it is filed under,
// the class the model prefers, its loss and confidence, and one click to leave it out or to move it
// to the preferred class. Both are undone from the dataset panel. A wrong label and a hard image
// look alike here: a person decides.

import { useDatasetEdits, useLabActions, useThumbnails } from '../../state/hooks';
import { Thumb } from '../training/ImageThumbs';

export interface ReviewRow {
  path: string;
  given: string;
  predicted: string;
  /** −ln p(given class). */
  loss: number;
  /** The model's probability of `predicted`. */
  confidence: number;
}

export function ImageReview({ rows, rowTestId }: { rows: ReviewRow[]; rowTestId: string }) {
  const { dropImages, relabelImages } = useLabActions();
  const thumbnails = useThumbnails();
  // An image already moved or left out shows so, instead of offering the same click again.
  const edits = useDatasetEdits();
  const edited = new Map(edits.flatMap((e) => e.paths.map((p) => [p, e.kind === 'leave-out' ? 'left out' : `moved to ${e.className}`] as const)));
  return (
    <table className="image-review">
      <thead>
        <tr>
          <th>image</th>
          <th>filed as</th>
          <th>predicted</th>
          <th>loss</th>
          <th>confidence</th>
          <th>
            <span className="visually-hidden">actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.path} data-testid={rowTestId} data-path={row.path}>
            <td>
              <ul className="cell-thumbs">
                <Thumb path={row.path} blob={thumbnails[row.path]} />
              </ul>
            </td>
            <td>{row.given}</td>
            <td>{row.predicted}</td>
            <td>{row.loss.toFixed(2)}</td>
            <td>{(row.confidence * 100).toFixed(1)}%</td>
            <td className="review-actions">
              {edited.has(row.path) ? (
                <span className="muted" data-testid="review-edited">
                  {edited.get(row.path)}
                </span>
              ) : (
                <>
                  <button type="button" className="link-button" onClick={() => dropImages([row.path])} data-testid="drop-image" title="Leave this image out of the dataset (undo in the dataset panel)">
                    Leave out
                  </button>
                  {row.predicted !== row.given && (
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => relabelImages([row.path], row.predicted)}
                      data-testid="relabel-image"
                      title={`File this image under ${row.predicted} (undo in the dataset panel; the file on disk stays where it is)`}
                    >
                      Move to {row.predicted}
                    </button>
                  )}
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
