// A chart's picture as a file of its own: the chart's SVG under a header with its title and key
// (the key is HTML on the page, so the drawing alone would not say which line is which).

/** Height of the header above the chart, px. */
export const HEADER_PX = 40;
const KEY_SWATCH_PX = 14;
/** Room for a key entry beyond its label, and for each of its characters, px. */
const KEY_ENTRY_PX = 28;
const KEY_CHAR_PX = 6.5;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface StandaloneSvg {
  title: string;
  key: readonly (readonly [label: string, color: string])[];
  /** The chart's own <svg> element, serialised; it is nested below the header. */
  chart: string;
  width: number;
  height: number;
}

/** An SVG document and its size, px. */
export interface SvgPicture {
  svg: string;
  width: number;
  height: number;
}

/** A white-backed SVG document: the title and key on top, then the chart. */
export function standaloneSvg({ title, key, chart, width, height }: StandaloneSvg): SvgPicture {
  const total = height + HEADER_PX;
  let x = 4;
  const entries = key.map(([label, color]) => {
    const entry = `<rect x="${x}" y="27" width="${KEY_SWATCH_PX}" height="3" fill="${color}"/><text x="${x + KEY_SWATCH_PX + 4}" y="32" font-size="11" fill="#555">${escapeXml(label)}</text>`;
    x += KEY_ENTRY_PX + label.length * KEY_CHAR_PX;
    return entry;
  });
  // The nested chart keeps its own coordinates; only its position changes.
  const nested = chart.replace(/^<svg\b/, `<svg x="0" y="${HEADER_PX}"`);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="system-ui, sans-serif">` +
    `<rect width="${width}" height="${total}" fill="#fff"/>` +
    `<text x="4" y="15" font-size="13" font-weight="600">${escapeXml(title)}</text>` +
    entries.join('') +
    nested +
    '</svg>';
  return { svg, width, height: total };
}
