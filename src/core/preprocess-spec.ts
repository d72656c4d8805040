// The one description of how an image becomes a network input. Every split is preprocessed from a
// spec like this, and its hash travels with every batch so that a mismatch can be detected.

import { LabError } from './errors';
import { canonicalJson, fnv1a64 } from './hash';

/**
 * How pixel values are scaled and ordered.
 * - `caffe`: what the Keras ResNet50 ImageNet weights expect: RGB in 0..255 converted to BGR, ImageNet
 *   mean [103.939, 116.779, 123.68] (BGR order) subtracted, no scaling.
 * - `unit`: RGB / 255, in [0, 1].
 * - `symmetric`: RGB / 127.5 - 1, in [-1, 1].
 * - `torch`: (RGB / 255 - mean) / std with ImageNet mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225].
 * - `div255-then-caffe`: the widespread bug of dividing by 255 before Keras' `preprocess_input`:
 *   BGR / 255 minus the caffe mean, so every channel is a near-constant around -110. Kept so that a
 *   user can reproduce their own pipeline and see what it does to these weights.
 */
export type NormalizationMode = 'caffe' | 'unit' | 'symmetric' | 'torch' | 'div255-then-caffe';

export const NORMALIZATION_MODES: readonly NormalizationMode[] = ['caffe', 'unit', 'symmetric', 'torch', 'div255-then-caffe'];

/** How the page names each mode. */
export const NORMALIZATION_LABELS: Readonly<Record<NormalizationMode, string>> = {
  caffe: 'caffe — BGR, ImageNet mean subtracted, 0..255 (what these weights expect)',
  unit: '[0, 1] — RGB / 255',
  symmetric: '[-1, 1] — RGB / 127.5 − 1',
  torch: 'torch — ImageNet mean / std',
  'div255-then-caffe': 'x / 255, then caffe (a common bug)',
};

/**
 * How the source image is mapped onto the square input.
 * - `stretch`: the whole image is resized to size × size, ignoring its aspect ratio (what Keras'
 *   `load_img(path, target_size=(224, 224))` does, and what the ImageNet examples use).
 * - `center-crop`: the shorter side is resized to `sizePx` and the centre square is kept.
 * - `pad`: the longer side is resized to `sizePx`, the aspect ratio kept, and the image centred on
 *   the background colour: nothing squeezed, nothing cut off.
 */
export type ResizeRule = 'stretch' | 'center-crop' | 'pad';

export const RESIZE_RULES: readonly ResizeRule[] = ['stretch', 'center-crop', 'pad'];

/** How the page names each rule. */
export const RESIZE_LABELS: Readonly<Record<ResizeRule, string>> = {
  stretch: 'stretch to a square (what Keras load_img does)',
  'center-crop': 'centre crop to a square',
  pad: 'pad to a square on the background',
};

export interface PreprocessSpec {
  /** Side of the square network input, in pixels. Default: 224. */
  sizePx: number;
  /** How the image is fitted into the square. Default: 'stretch'. */
  resize: ResizeRule;
  /** Pixel scaling and channel order. Default: 'caffe' (what the pretrained weights expect). */
  normalization: NormalizationMode;
  /** Opaque RGB colour that transparent pixels are composited onto, 0..255. Default: [255, 255, 255]. */
  background: readonly [number, number, number];
}

export const DEFAULT_PREPROCESS_SPEC: PreprocessSpec = Object.freeze({
  sizePx: 224,
  resize: 'stretch',
  normalization: 'caffe',
  background: Object.freeze([255, 255, 255] as const),
});

/** ImageNet channel means in BGR order, 0..255 scale (Keras `preprocess_input`, mode 'caffe'). */
export const CAFFE_MEAN_BGR: readonly [number, number, number] = [103.939, 116.779, 123.68];
export const TORCH_MEAN_RGB: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const TORCH_STD_RGB: readonly [number, number, number] = [0.229, 0.224, 0.225];

const MIN_SIZE_PX = 32;
const MAX_SIZE_PX = 512;

export function validatePreprocessSpec(spec: PreprocessSpec): PreprocessSpec {
  const problems: string[] = [];
  if (!Number.isInteger(spec.sizePx) || spec.sizePx < MIN_SIZE_PX || spec.sizePx > MAX_SIZE_PX) {
    problems.push(`sizePx must be a whole number from ${MIN_SIZE_PX} to ${MAX_SIZE_PX}, not ${spec.sizePx}`);
  }
  if (!RESIZE_RULES.includes(spec.resize)) problems.push(`unknown resize rule '${spec.resize}'`);
  if (!NORMALIZATION_MODES.includes(spec.normalization)) problems.push(`unknown normalization '${spec.normalization}'`);
  if (spec.background.length !== 3 || spec.background.some((v) => !(v >= 0 && v <= 255))) {
    problems.push('background must be three numbers from 0 to 255');
  }
  if (problems.length > 0) throw new LabError('input/invalid', `Invalid preprocessing spec: ${problems.join('; ')}.`);
  return spec;
}

/** A stable hash of everything that changes the preprocessed pixels. */
export function preprocessSpecHash(spec: PreprocessSpec): string {
  return fnv1a64(canonicalJson({ v: 1, ...spec, background: [...spec.background] }));
}

export const PREPROCESSING_FORMAT = 'finetune-lab/preprocessing';
export const PREPROCESSING_FORMAT_VERSION = 1;

/**
 * preprocessing.json: the spec, and what it means for a runtime that is not this lab. Every mode
 * is `input[c] = (pixel[channelOrder[c]] × scale − mean[c]) / std[c]` on 0..255 pixels.
 */
export interface PreprocessingJson {
  format: typeof PREPROCESSING_FORMAT;
  version: typeof PREPROCESSING_FORMAT_VERSION;
  spec: { sizePx: number; resize: ResizeRule; normalization: NormalizationMode; background: [number, number, number] };
  specHash: string;
  layout: 'NHWC float32, one image [1, sizePx, sizePx, 3]';
  /** The source channels in input order. */
  channelOrder: 'RGB' | 'BGR';
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  steps: string[];
}

function normalizationConstants(mode: NormalizationMode): Pick<PreprocessingJson, 'channelOrder' | 'scale' | 'mean' | 'std'> {
  const one: [number, number, number] = [1, 1, 1];
  switch (mode) {
    case 'caffe':
      return { channelOrder: 'BGR', scale: 1, mean: [...CAFFE_MEAN_BGR], std: one };
    case 'unit':
      return { channelOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: one };
    case 'symmetric':
      return { channelOrder: 'RGB', scale: 1 / 127.5, mean: [1, 1, 1], std: one };
    case 'torch':
      return { channelOrder: 'RGB', scale: 1 / 255, mean: [...TORCH_MEAN_RGB], std: [...TORCH_STD_RGB] };
    case 'div255-then-caffe':
      return { channelOrder: 'BGR', scale: 1 / 255, mean: [...CAFFE_MEAN_BGR], std: one };
  }
}

export function preprocessingJson(spec: PreprocessSpec): PreprocessingJson {
  const { sizePx, resize, normalization } = validatePreprocessSpec(spec);
  const background = [...spec.background] as [number, number, number];
  return {
    format: PREPROCESSING_FORMAT,
    version: PREPROCESSING_FORMAT_VERSION,
    spec: { sizePx, resize, normalization, background },
    specHash: preprocessSpecHash(spec),
    layout: 'NHWC float32, one image [1, sizePx, sizePx, 3]',
    ...normalizationConstants(normalization),
    steps: [
      'Decode the image with its EXIF orientation applied; grayscale becomes three equal channels.',
      `Composite transparent pixels onto the opaque background RGB ${background.join(', ')}.`,
      resize === 'stretch'
        ? `Resize the whole image to ${sizePx} × ${sizePx}, ignoring its aspect ratio, with an antialiased bilinear filter.`
        : resize === 'center-crop'
          ? `Take the centred square of the shorter side and resize it to ${sizePx} × ${sizePx} with an antialiased bilinear filter.`
          : `Resize the image so that its longer side is ${sizePx} px (aspect ratio kept, antialiased bilinear filter) and centre it on a ${sizePx} × ${sizePx} square of the background colour.`,
      'Per channel, in channelOrder: (value × scale − mean) / std, values 0..255.',
    ],
  };
}

/** The spec back from a preprocessing.json; names what is wrong with one from another version or tool. */
export function specFromPreprocessingJson(json: unknown, fileName = 'preprocessing.json'): PreprocessSpec {
  const candidate = json as Partial<PreprocessingJson> | null;
  if (!candidate || typeof candidate !== 'object' || candidate.format !== PREPROCESSING_FORMAT) {
    throw new LabError('input/invalid', `${fileName} is not a Finetune Lab preprocessing file (its format is not '${PREPROCESSING_FORMAT}').`, fileName);
  }
  if (candidate.version !== PREPROCESSING_FORMAT_VERSION) {
    throw new LabError('input/invalid', `${fileName} is version ${String(candidate.version)}; this lab reads version ${PREPROCESSING_FORMAT_VERSION}.`, fileName);
  }
  const spec = candidate.spec;
  if (!spec) throw new LabError('input/invalid', `${fileName} has no spec.`, fileName);
  return validatePreprocessSpec({ sizePx: spec.sizePx, resize: spec.resize, normalization: spec.normalization, background: spec.background });
}
