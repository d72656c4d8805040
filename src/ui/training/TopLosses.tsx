// The validation images the model gets most wrong, each with one click to leave it out or move it.

import { memo } from 'react';
import type { EpochRecord, RunInfo } from '../../state/lab-state';
import { useLabActions } from '../../state/hooks';
import { ImageReview } from '../review/ImageReview';

/** Validation images in the gallery: fastai's plot_top_losses shows 9 to 16. */
const TOP_LOSSES = 12;

/**
 * The validation images the model gets most wrong (fastai's top losses): each with its given and
 * predicted class, its loss and the model's confidence, and one click to leave it out or move it
 * to the predicted class (see ImageReview).
 */
export const TopLosses = memo(function TopLosses({ run, epoch }: { run: RunInfo; epoch: EpochRecord }) {
  const { requestThumbnails } = useLabActions();
  const validation = epoch.validation!;
  const worst = validation.losses
    .map((loss, i) => ({ i, loss }))
    .sort((a, b) => b.loss - a.loss)
    .slice(0, TOP_LOSSES);
  return (
    <details className="top-losses" data-testid="top-losses" onToggle={(event) => (event.currentTarget.open ? requestThumbnails(worst.map(({ i }) => run.validationPaths[i]!)) : undefined)}>
      <summary>Top losses: the {worst.length} validation images the model gets most wrong (epoch {epoch.epoch + 1})</summary>
      <ImageReview
        rowTestId="top-loss"
        rows={worst.map(({ i, loss }) => ({
          path: run.validationPaths[i]!,
          given: run.classNames[run.validationLabels[i]!]!,
          predicted: run.classNames[validation.predictions[i]!]!,
          loss,
          confidence: validation.confidences[i]!,
        }))}
      />
    </details>
  );
});
