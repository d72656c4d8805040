// The predictions CSV: its header, RFC 4180 quoting, 4-decimal probabilities, short rankings.

import { describe, expect, it } from 'vitest';
import { csvField, predictionsCsv } from '../../../src/core/predictions-csv';

describe('predictionsCsv', () => {
  it('writes the header and one CRLF-terminated record per image, top3 as class:prob pairs', () => {
    const csv = predictionsCsv([
      {
        path: 'pets/cat 1.jpg',
        top: [
          { label: 'cat', probability: 0.912345 },
          { label: 'dog', probability: 0.08 },
          { label: 'fox', probability: 0.007655 },
        ],
      },
    ]);
    // 0.912345 → 0.9123 and 0.007655 → 0.0077 (toFixed rounds to nearest; 0.007655 is stored a little above).
    expect(csv).toBe('path,top1,probability,top3\r\npets/cat 1.jpg,cat,0.9123,cat:0.9123;dog:0.0800;fox:0.0077\r\n');
  });

  it('quotes paths and class names holding commas, quotes or line breaks, doubling the quotes', () => {
    const csv = predictionsCsv([
      { path: 'a,b/say "hi".png', top: [{ label: 'red, ripe', probability: 1 }] },
      { path: 'line\nbreak.png', top: [{ label: 'x', probability: 0.5 }] },
    ]);
    const [, first, second] = csv.split('\r\n');
    expect(first).toBe('"a,b/say ""hi"".png","red, ripe",1.0000,"red, ripe:1.0000"');
    expect(second).toBe('"line\nbreak.png",x,0.5000,x:0.5000');
  });

  it('lists fewer pairs for a model with fewer than three classes, and leaves an empty ranking empty', () => {
    const csv = predictionsCsv([
      { path: 'a.png', top: [{ label: 'yes', probability: 0.75 }, { label: 'no', probability: 0.25 }] },
      { path: 'b.png', top: [] },
    ]);
    expect(csv.split('\r\n')).toEqual(['path,top1,probability,top3', 'a.png,yes,0.7500,yes:0.7500;no:0.2500', 'b.png,,,', '']);
  });

  it('keeps at most three classes in top3', () => {
    const top = [0.4, 0.3, 0.2, 0.1].map((probability, i) => ({ label: `c${i}`, probability }));
    expect(predictionsCsv([{ path: 'p.png', top }]).split('\r\n')[1]).toBe('p.png,c0,0.4000,c0:0.4000;c1:0.3000;c2:0.2000');
  });

  it('leaves plain fields as they are', () => {
    expect(csvField('plain/path.jpg')).toBe('plain/path.jpg');
    expect(csvField('carriage\rreturn')).toBe('"carriage\rreturn"');
  });
});
