/**
 * The colour oracle: a hand-built, deterministic dual encoder whose search results a person can
 * check by eye. A query's colour words ("red", "grey", …) select colours; a photo's vector says
 * what fraction of its pixels is each colour. So "red car" ranks mostly-red photos first, and a
 * photo that is half red and half blue answers both "red" and "blue" (it is not read as purple,
 * which averaging its colour first would do).
 *
 * Image side, per pixel: undo CLIP's normalisation → sRGB in [0,1] → CIE Lab (D65) → soft
 * membership to 11 colour anchors, softmax over −ΔE²/T (CIE76 ΔE: plain Lab distance, which
 * tracks perceived difference well enough at this coarseness) → mean over the photo → unit length,
 * scaled by IMAGE_COLOUR_WEIGHT, then one constant component IMAGE_CONSTANT. The vector is unit
 * length by construction.
 * Text side: Gather from a [49408, 12] table (a colour word's token row is the one-hot of its
 * colour, every other row is zero) → sum over the 77 positions → append TEXT_CONSTANT.
 * A query with no colour word is [0,…,0,TEXT_CONSTANT]: after the app's L2 normalisation every
 * photo scores exactly IMAGE_CONSTANT (0.1), i.e. nothing is preferred.
 */
import { GraphBuilder } from './builder.ts';
import type { ModelProto } from './proto.ts';

export const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow', 'orange', 'purple', 'pink', 'brown', 'black', 'white', 'gray'] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/** Words the text side understands, with the colour each selects. */
export const COLOUR_WORDS: Record<string, ColourName> = Object.fromEntries([
  ...COLOUR_NAMES.map((c) => [c, c]),
  ['grey', 'gray'],
]);

/**
 * Anchor sRGB values: the centres of what people call each colour, from the xkcd colour-naming
 * survey (≈200k participants), e.g. red #e50000, brown #653700, grey #929591.
 */
export const COLOUR_ANCHORS: Record<ColourName, [number, number, number]> = {
  red: [229, 0, 0],
  green: [21, 176, 26],
  blue: [3, 67, 223],
  yellow: [255, 255, 20],
  orange: [249, 115, 6],
  purple: [126, 30, 156],
  pink: [255, 129, 192],
  brown: [101, 55, 0],
  black: [0, 0, 0],
  white: [255, 255, 255],
  gray: [146, 149, 145],
};

/** Softmax temperature over squared Lab distances: ΔE ≈ 20 costs a factor e. */
export const COLOUR_TEMPERATURE = 400;
export const IMAGE_CONSTANT = 0.1;
export const IMAGE_COLOUR_WEIGHT = Math.sqrt(1 - IMAGE_CONSTANT ** 2);
export const TEXT_CONSTANT = 0.1;
export const COLOUR_ORACLE_DIM = COLOUR_NAMES.length + 1;

// sRGB (linear) → XYZ, D65, rows divided by the reference white so Lab needs no further scaling.
const WHITE = [0.95047, 1.0, 1.08883];
const RGB_TO_XYZ = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
].map((row, i) => row.map((v) => v / WHITE[i]!));
const LAB_EPS = (6 / 29) ** 3;

/** sRGB in [0,1] → CIE Lab; the same maths the graph does, for tests and for choosing anchors. */
export function srgbToLab(rgb: readonly [number, number, number]): [number, number, number] {
  const lin = rgb.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const f = RGB_TO_XYZ.map((row) => {
    const t = row[0]! * lin[0]! + row[1]! * lin[1]! + row[2]! * lin[2]!;
    return t > LAB_EPS ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29;
  });
  return [116 * f[1]! - 16, 500 * (f[0]! - f[1]!), 200 * (f[1]! - f[2]!)];
}

/**
 * Token ids of the colour words in CLIP's vocabulary, from the text of bpe_simple_vocab_16e6.txt
 * (already decompressed). Vocabulary order: 256 byte characters, the same with '</w>', then one
 * entry per merge line (line 1..48894, joined), then <|startoftext|>, <|endoftext|>; so a whole
 * word made by merge line i has id 512 + i − 1.
 */
export function colourTokenIds(vocabText: string): Record<string, number> {
  const lines = vocabText.split('\n').slice(1, 49152 - 256 - 2 + 1);
  const wanted = new Map(Object.keys(COLOUR_WORDS).map((w) => [`${w}</w>`, w]));
  const ids: Record<string, number> = {};
  lines.forEach((line, i) => {
    const joined = line.split(' ').join('');
    const word = wanted.get(joined);
    if (word !== undefined && ids[word] === undefined) ids[word] = 512 + i;
  });
  for (const w of Object.keys(COLOUR_WORDS)) if (ids[w] === undefined) throw new Error(`colour word '${w}' is not a single token in the vocabulary`);
  return ids;
}

export interface ColourOracleOptions {
  /** Token id of each word in COLOUR_WORDS (see colourTokenIds). */
  tokenIds: Record<string, number>;
  /** CLIP normalisation the app applies to pixels, undone inside the graph. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  imageSize?: number;
  vocab?: number;
  context?: number;
}

/** Image encoder: pixel_values [N,3,S,S] (CLIP-normalised) → image_embeds [N,12], unit length. */
export function buildColourOracleImage(options: ColourOracleOptions): ModelProto {
  const size = options.imageSize ?? 224;
  const K = COLOUR_NAMES.length;
  const g = new GraphBuilder();
  const pixels = g.input('pixel_values', 'float32', ['N', 3, size, size]);
  const perChannel = (v: readonly number[]) => g.floats(v, [1, 3, 1, 1]);
  let rgb = g.op('Add', [g.op('Mul', [pixels, perChannel(options.std)]), perChannel(options.mean)]);
  rgb = g.op('Clip', [rgb, g.floats(0), g.floats(1)]);
  // sRGB transfer curve, piecewise as the standard defines it.
  const low = g.op('Div', [rgb, g.floats(12.92)]);
  const high = g.op('Pow', [g.op('Div', [g.op('Add', [rgb, g.floats(0.055)]), g.floats(1.055)]), g.floats(2.4)]);
  const linear = g.op('Where', [g.op('LessOrEqual', [rgb, g.floats(0.04045)]), low, high]);
  // A 3×3 colour matrix applied per pixel is a 1×1 convolution.
  const xyz = g.op('Conv', [linear, g.floats(RGB_TO_XYZ.flat(), [3, 3, 1, 1])]);
  const cubeRoot = g.op('Pow', [g.op('Max', [xyz, g.floats(LAB_EPS)]), g.floats(1 / 3)]);
  const linearPart = g.op('Add', [g.op('Div', [xyz, g.floats(3 * (6 / 29) ** 2)]), g.floats(4 / 29)]);
  const f = g.op('Where', [g.op('Greater', [xyz, g.floats(LAB_EPS)]), cubeRoot, linearPart]);
  const lab = g.op('Conv', [f, g.floats([0, 116, 0, 500, -500, 0, 0, 200, -200], [3, 3, 1, 1]), g.floats([-16, 0, 0])]);
  // −‖x−a‖²/T = (2a·x − ‖a‖²)/T − ‖x‖²/T; the last term is the same for every anchor and
  // cancels in the softmax, so the logits are one 1×1 convolution.
  const anchors = COLOUR_NAMES.map((n) => srgbToLab(COLOUR_ANCHORS[n].map((c) => c / 255) as [number, number, number]));
  const weights = anchors.flatMap((a) => a.map((v) => (2 * v) / COLOUR_TEMPERATURE));
  const bias = anchors.map((a) => -(a[0] ** 2 + a[1] ** 2 + a[2] ** 2) / COLOUR_TEMPERATURE);
  const logits = g.op('Conv', [lab, g.floats(weights, [K, 3, 1, 1]), g.floats(bias)]);
  const membership = g.op('Softmax', [logits], { axis: 1 }); // [N,K,H,W]
  const histogram = g.op('ReduceMean', [membership], { axes: [2, 3], keepdims: 0 }); // [N,K]
  const unit = g.op('LpNormalization', [histogram], { axis: 1, p: 2 });
  const scaled = g.op('Mul', [unit, g.floats(IMAGE_COLOUR_WEIGHT)]);
  const withConstant = g.op('Pad', [scaled, g.int64s([0, 0, 0, 1]), g.floats(IMAGE_CONSTANT)]);
  g.output(withConstant, 'image_embeds', 'float32', ['N', K + 1]);
  return g.toModel({ opset: 17, producer: 'leanlens', docString: 'colour oracle image encoder: colour histogram over 11 named colours' });
}

/** Text encoder: input_ids int64 [N,77] → text_embeds [N,12] (colour-word counts + constant). */
export function buildColourOracleText(options: ColourOracleOptions): ModelProto {
  const vocab = options.vocab ?? 49408;
  const context = options.context ?? 77;
  const K = COLOUR_NAMES.length;
  const table = new Float32Array(vocab * K);
  for (const [word, colour] of Object.entries(COLOUR_WORDS)) {
    const id = options.tokenIds[word];
    if (id === undefined) throw new Error(`no token id for colour word '${word}'`);
    table[id * K + COLOUR_NAMES.indexOf(colour)] = 1;
  }
  const g = new GraphBuilder();
  const ids = g.input('input_ids', 'int64', ['N', context]);
  const w = g.initializer('colour_words', table, [vocab, K]);
  const perToken = g.op('Gather', [w, ids], { axis: 0 }); // [N,77,K]
  const counts = g.op('ReduceSum', [perToken, g.int64s([1])], { keepdims: 0 }); // [N,K]
  const withConstant = g.op('Pad', [counts, g.int64s([0, 0, 0, 1]), g.floats(TEXT_CONSTANT)]);
  g.output(withConstant, 'text_embeds', 'float32', ['N', K + 1]);
  return g.toModel({ opset: 17, producer: 'leanlens', docString: 'colour oracle text encoder: counts of colour words' });
}
