// The validation images the model gets most wrong, each with one click to leave it out.

import { memo } from 'react';
import type { EpochRecord, RunInfo } from '../../state/lab-state';
import { useLabActions, useThumbnails } from '../../state/hooks';
import { Thumb } from './ImageThumbs';

/** Validation images in the gallery: fastai's plot_top_losses shows 9 to 16. */
const TOP_LOSSES = 12;

/**
 * The validation images the model gets most wrong (fastai's top losses): each with its given and
 * predicted class, its loss and the model's confidence, and one click to leave it out (undone
 * from the dataset panel). A wrong label and a hard image look alike here: a person decides.
 */
export const TopLosses = memo(function TopLosses({ run, epoch }: { run: RunInfo; epoch: EpochRecord }) {
  const { requestThumbnails, dropImages } = useLabActions();
  const thumbnails = useThumbnails();
  const validation = epoch.validation!;
  const worst = validation.losses
    .map((loss, i) => ({ i, loss }))
    .sort((a, b) => b.loss - a.loss)
    .slice(0, TOP_LOSSES);
  return (
    <details className="top-losses" data-testid="top-losses" onToggle={(event) => (event.currentTarget.open ? requestThumbnails(worst.map(({ i }) => run.validationPaths[i]!)) : undefined)}>
      <summary>Top losses: the {worst.length} validation images the model gets most wrong (epoch {epoch.epoch + 1})</summary>
      <table>
        <thead>
          <tr>
            <th>image</th>
            <th>given</th>
            <th>predicted</th>
            <th>loss</th>
            <th>confidence</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {worst.map(({ i, loss }) => {
            const path = run.validationPaths[i]!;
            return (
              <tr key={path} data-testid="top-loss" data-path={path}>
                <td>
                  <ul className="cell-thumbs">
                    <Thumb path={path} blob={thumbnails[path]} />
                  </ul>
                </td>
                <td>{run.classNames[run.validationLabels[i]!]}</td>
                <td>{run.classNames[validation.predictions[i]!]}</td>
                <td>{loss.toFixed(2)}</td>
                <td>{(validation.confidences[i]! * 100).toFixed(1)}%</td>
                <td>
                  <button type="button" className="link-button" onClick={() => dropImages([path])} data-testid="drop-image" title="Leave this image out of the dataset (undo in the dataset panel)">
                    Leave out
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
});
