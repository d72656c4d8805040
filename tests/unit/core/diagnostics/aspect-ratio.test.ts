import { describe, expect, it } from 'vitest';
import { detectStretchedImages } from '../../../../src/core/diagnostics/aspect-ratio';

const images = (sizes: [number, number][]) => sizes.map(([width, height], i) => ({ id: `x/${i}.png`, width, height }));

describe('detectStretchedImages', () => {
  it('stays silent on squarish images (stamps6: mostly within 4:3), and whenever the spec pads or crops', () => {
    expect(detectStretchedImages({ images: images([[129, 127], [100, 78], [96, 96], [120, 100]]), resize: 'stretch' })).toBeNull();
    expect(detectStretchedImages({ images: images([[300, 100], [300, 100], [300, 100]]), resize: 'pad' })).toBeNull();
    expect(detectStretchedImages({ images: images([[300, 100], [300, 100], [300, 100]]), resize: 'center-crop' })).toBeNull();
  });

  it('mentions a median of 3:2 (info) and warns from 2:1, offering to pad', () => {
    // Median of 1.2, 1.5, 1.6 = 1.5 (portrait and landscape count alike).
    const info = detectStretchedImages({ images: images([[120, 100], [100, 150], [160, 100]]), resize: 'stretch' })!;
    expect(info).toMatchObject({ id: 'data/stretched-images', severity: 'info', fix: { kind: 'setResize', value: 'pad' } });
    // Median of 1.5, 2, 3 = 2: a banner-shaped set.
    const warning = detectStretchedImages({ images: images([[150, 100], [200, 100], [300, 100]]), resize: 'stretch' })!;
    expect(warning.severity).toBe('warning');
    expect(warning.explanation).toContain('Half of your images are at least 2:1');
    expect(warning.evidence[1]).toMatchObject({ kind: 'images', imageIds: ['x/2.png', 'x/1.png', 'x/0.png'] });
  });
});
