// A chart's downloads: its data as CSV, its picture as SVG and as PNG. Each file is made when its
// button is pressed, never while the run trains.

import { useState } from 'react';
import { saveBlob } from '../../save-blob';
import { CSV_TYPE, saveText, SVG_TYPE, svgToPng } from './chart-export';
import type { SvgPicture } from './svg';

export interface ChartDownloadsProps {
  /** File names are finetune-lab-<name>.csv, .svg, .png. */
  name: string;
  /** What the chart shows, for the buttons' labels: "the loss per step". */
  subject: string;
  csv: () => string;
  /** null when the chart is not drawn yet. */
  picture: () => SvgPicture | null;
}

export function ChartDownloads({ name, subject, csv, picture }: ChartDownloadsProps) {
  const [failure, setFailure] = useState<string | null>(null);
  const file = `finetune-lab-${name}`;
  const savePicture = async (format: 'svg' | 'png') => {
    setFailure(null);
    const drawn = picture();
    if (!drawn) return setFailure('The chart is not drawn yet.');
    try {
      if (format === 'svg') saveText(`${file}.svg`, drawn.svg, SVG_TYPE);
      else saveBlob(`${file}.png`, await svgToPng(drawn));
    } catch (error) {
      setFailure(`The ${format.toUpperCase()} could not be made: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return (
    <span className="chart-downloads" role="group" aria-label={`Download ${subject}`}>
      <button type="button" className="link-button" onClick={() => saveText(`${file}.csv`, csv(), CSV_TYPE)} data-testid="download-csv" aria-label={`Download ${subject} as CSV`}>
        CSV
      </button>
      <button type="button" className="link-button" onClick={() => void savePicture('svg')} data-testid="download-svg" aria-label={`Download ${subject} as an SVG picture`}>
        SVG
      </button>
      <button type="button" className="link-button" onClick={() => void savePicture('png')} data-testid="download-png" aria-label={`Download ${subject} as a PNG picture`}>
        PNG
      </button>
      {failure && (
        <span className="error" role="status">
          {failure}
        </span>
      )}
    </span>
  );
}
