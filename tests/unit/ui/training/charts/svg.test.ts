// A chart's picture as a file: the chart nested under a header with its title and key.

import { describe, expect, it } from 'vitest';
import { escapeXml, HEADER_PX, standaloneSvg } from '../../../../../src/ui/training/charts/svg';

describe('standaloneSvg', () => {
  it('puts the title and key above the chart, which keeps its own coordinates', () => {
    const chart = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><path d="M0 0"/></svg>';
    const picture = standaloneSvg({ title: 'Loss & more', key: [['loss', '#b8c7e8'], ['smoothed', '#2f6fde']], chart, width: 300, height: 200 });
    expect([picture.width, picture.height]).toEqual([300, 200 + HEADER_PX]);
    expect(picture.svg).toContain(`height="${200 + HEADER_PX}"`);
    expect(picture.svg).toContain('>Loss &amp; more</text>');
    expect(picture.svg).toContain('fill="#2f6fde"/><text');
    expect(picture.svg).toContain(`<svg x="0" y="${HEADER_PX}" xmlns="http://www.w3.org/2000/svg" width="300" height="200"><path d="M0 0"/></svg></svg>`);
  });

  it('escapes the five XML characters', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  });
});
