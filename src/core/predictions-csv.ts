// The predictions of a batch of images as a CSV file (RFC 4180), one row per image: what the
// "Try it" panel saves for a folder, to be read by a spreadsheet or pandas.

/** One image's prediction as the CSV needs it: its path and its top classes, most probable first. */
export interface PredictionCsvRow {
  path: string;
  top: readonly { label: string; probability: number }[];
}

export const PREDICTIONS_CSV_HEADER = ['path', 'top1', 'probability', 'top3'] as const;

/** Classes listed in the top3 column. */
const TOP_CLASSES = 3;
/** Probabilities are written with 4 decimals: 0.0001 is finer than any decision made from them. */
const PROBABILITY_DECIMALS = 4;
// RFC 4180 ends every record with CRLF, the last one included; spreadsheets expect it.
const RECORD_END = '\r\n';

/** A field as RFC 4180 writes it: quoted, with its quotes doubled, when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function probability(p: number): string {
  return p.toFixed(PROBABILITY_DECIMALS);
}

/**
 * The CSV of `rows`: `path,top1,probability,top3`, where top3 is `class:prob;class:prob;class:prob`
 * (fewer pairs when the model has fewer classes). A row without classes has empty class fields.
 */
export function predictionsCsv(rows: readonly PredictionCsvRow[]): string {
  const records = rows.map(({ path, top }) => {
    const first = top[0];
    const top3 = top
      .slice(0, TOP_CLASSES)
      .map((entry) => `${entry.label}:${probability(entry.probability)}`)
      .join(';');
    return [path, first?.label ?? '', first ? probability(first.probability) : '', top3].map(csvField).join(',');
  });
  return [PREDICTIONS_CSV_HEADER.join(','), ...records].map((record) => record + RECORD_END).join('');
}
