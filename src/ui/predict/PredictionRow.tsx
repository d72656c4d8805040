// One image of a "Try it" batch: its thumbnail, where the model looked (the heat map over it), and
// the three most probable classes.

import { memo } from 'react';
import type { ResizeRule } from '../../core/preprocess-spec';
import type { ImagePrediction, PredictionItem } from '../../state/lab-state';
import { useObjectUrl } from '../dataset/useObjectUrls';
import { formatMs } from '../training/format';
import { HeatMapCanvas } from './HeatMapCanvas';
import { thumbnailBox } from './heat-map';

export const THUMBNAIL_PX = 128;

function Ranking({ prediction }: { prediction: ImagePrediction }) {
  return (
    <ol className="ranking" data-testid="prediction-ranking">
      {prediction.top.map((entry) => (
        <li key={entry.index} data-class-index={entry.index}>
          <span className="ranking-label" title={entry.label}>
            {entry.label}
          </span>
          <span className="ranking-bar" style={{ width: `${Math.max(1, entry.probability * 100)}%` }} />
          <span className="ranking-value">{(entry.probability * 100).toFixed(1)}%</span>
        </li>
      ))}
    </ol>
  );
}

/** The top-1 and the timings as attributes, for tests and benches that read the page. */
function top1Attributes(item: PredictionItem): Record<string, string> {
  if (item.status !== 'done') return {};
  const { top, ms, heatMapMs } = item.prediction;
  const first = top[0];
  return {
    ...(first ? { 'data-top1': first.label, 'data-probability': String(first.probability) } : {}),
    'data-ms': String(ms),
    ...(heatMapMs !== null ? { 'data-heatmap-ms': String(heatMapMs) } : {}),
  };
}

// Memoised: each answer replaces one item, and the other rows of the batch stay as they are.
export const PredictionRow = memo(function PredictionRow({ item, resize, showHeatMap }: { item: PredictionItem; resize: ResizeRule; showHeatMap: boolean }) {
  const url = useObjectUrl(item.image);
  const prediction = item.status === 'done' ? item.prediction : null;
  const box = prediction ? thumbnailBox(prediction.width, prediction.height, resize, THUMBNAIL_PX) : { width: THUMBNAIL_PX, height: THUMBNAIL_PX };
  const heatMap = showHeatMap ? prediction?.heatMap : null;
  const explained = heatMap ? prediction?.top.find((entry) => entry.index === heatMap.classIndex)?.label : undefined;
  return (
    <li className="prediction" data-testid="prediction" data-path={item.path} data-status={item.status} {...top1Attributes(item)}>
      <div className="prediction-thumb" style={{ width: box.width, height: box.height }}>
        {/* As the network saw it: squeezed to its square and back ('stretch'), or its centre square. */}
        {url && <img src={url} alt={item.path} style={{ objectFit: resize === 'center-crop' ? 'cover' : 'fill' }} />}
        {heatMap && <HeatMapCanvas heatMap={heatMap} width={box.width} height={box.height} label={`Where the model looked for ${explained ?? 'its top class'}`} />}
      </div>
      <div className="check-body">
        <div className="check-title">{item.path}</div>
        {item.status === 'running' && <div className="muted">predicting…</div>}
        {item.status === 'failed' && (
          <div className="error" role="alert">
            {item.error.message}
          </div>
        )}
        {prediction && (
          <>
            <Ranking prediction={prediction} />
            <div className="muted">
              {prediction.width}×{prediction.height} px · {formatMs(prediction.ms)}
              {prediction.heatMapMs !== null && ` · heat map ${formatMs(prediction.heatMapMs)}`}
              {explained && showHeatMap && ` · the heat map shows where it saw ${explained}`}
            </div>
          </>
        )}
      </div>
    </li>
  );
});
