// A heat map over its thumbnail: the coarse grid (e.g. 7 × 7) drawn once at one pixel per cell,
// then scaled up to the thumbnail with smoothing, so that it reads as a field and not as tiles.

import { useEffect, useRef } from 'react';
import type { HeatMap } from '../../state/lab-state';
import { heatMapPixels } from './heat-map';

export function HeatMapCanvas({ heatMap, width, height, label }: { heatMap: HeatMap; width: number; height: number; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const grid = document.createElement('canvas');
    grid.width = heatMap.width;
    grid.height = heatMap.height;
    grid.getContext('2d')?.putImageData(new ImageData(heatMapPixels(heatMap.values), heatMap.width, heatMap.height), 0, 0);
    context.clearRect(0, 0, width, height);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(grid, 0, 0, width, height);
  }, [heatMap, width, height]);
  return (
    <canvas
      ref={canvas}
      className="heatmap"
      width={width}
      height={height}
      data-testid="heatmap"
      data-grid={`${heatMap.width}x${heatMap.height}`}
      role="img"
      aria-label={label}
    />
  );
}
