// A chart's data and picture as files: CSV text, a standalone SVG, the SVG drawn as a PNG.

import { saveBlob } from '../../save-blob';
import { standaloneSvg, type StandaloneSvg, type SvgPicture } from './svg';

/** A PNG is drawn at twice the chart's size, sharp on a high-density screen or a slide. */
const PNG_SCALE = 2;

export const CSV_TYPE = 'text/csv';
export const SVG_TYPE = 'image/svg+xml';

export function saveText(fileName: string, text: string, type: string): void {
  saveBlob(fileName, new Blob([text], { type }));
}

/** The recharts drawing inside `figure` as a standalone SVG document with `title` and `key` on top; null before it is drawn. */
export function chartSvg(figure: Element, header: Pick<StandaloneSvg, 'title' | 'key'>): SvgPicture | null {
  const surface = figure.querySelector('svg.recharts-surface');
  if (!(surface instanceof SVGSVGElement)) return null;
  const box = surface.getBoundingClientRect();
  const width = Math.round(box.width);
  const height = Math.round(box.height);
  const copy = surface.cloneNode(true) as SVGSVGElement;
  // On the page the chart is sized by CSS and reached by screen readers through its label.
  for (const name of ['style', 'tabindex', 'role', 'aria-label', 'class']) copy.removeAttribute(name);
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  return standaloneSvg({ ...header, chart: new XMLSerializer().serializeToString(copy), width, height });
}

/** A standalone SVG drawn on a canvas, as a PNG. */
export async function svgToPng({ svg, width, height }: SvgPicture): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: SVG_TYPE }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width * PNG_SCALE;
    canvas.height = height * PNG_SCALE;
    const context = canvas.getContext('2d')!;
    context.scale(PNG_SCALE, PNG_SCALE);
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The canvas made no PNG.'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
