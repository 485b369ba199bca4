// Categorical (string) features: ordinal codes with an unknown bucket, the one definition that
// training, the ONNX export, batch scoring and online inference share (docs/language.md, "feature").
//
// - The vocabulary of a feature is the distinct non-NULL values of the TRAINING side of the split,
//   sorted by Unicode code point (= UTF-8 byte order, DuckDB's VARCHAR order and Python's str order,
//   so scikit-learn's OrdinalEncoder learns the same codes); value k of the vocabulary has code k.
// - NULL, and at scoring time any value not in the vocabulary (a category first seen after
//   training, or one only in the held-out rows), is the unknown bucket: code -1. The trees see the
//   code as a number, so the unknown bucket is one more (the lowest) ordinal value.
// - In the exported ONNX graph a categorical feature is a string input [N, 1] feeding an
//   ai.onnx.ml LabelEncoder (keys = the vocabulary, values = the codes, default = -1), so a caller
//   sends the raw string.

/** A feature dtype the trainer reads as a string and encodes as a category. */
export const isCategorical = (dtype: string): boolean => dtype === 'string';

/** The code of NULL and of every value outside the vocabulary. */
export const UNKNOWN_CODE = -1;

const utf8 = new TextEncoder();

/** Unicode code point order (UTF-8 byte order), not JavaScript's UTF-16 code unit order. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(utf8.encode(a)), Buffer.from(utf8.encode(b)));
}

/** Sorted distinct non-NULL values. */
export function vocabulary(values: Iterable<string | null | undefined>): string[] {
  const set = new Set<string>();
  for (const v of values) if (v !== null && v !== undefined) set.add(v);
  return [...set].sort(compareCodePoints);
}

/** Code of each value in `vocab` (a Map for lookups). */
export function codeMap(vocab: readonly string[]): Map<string, number> {
  return new Map(vocab.map((v, k) => [v, k]));
}

/** The code of one value: its index in the vocabulary, or UNKNOWN_CODE. */
export function encodeValue(codes: ReadonlyMap<string, number>, v: unknown): number {
  if (v === null || v === undefined) return UNKNOWN_CODE;
  return codes.get(typeof v === 'string' ? v : String(v)) ?? UNKNOWN_CODE;
}

/** A string that is not in the vocabulary: what the ONNX graph is fed for NULL (it maps to the unknown bucket). */
export function unknownToken(vocab: readonly string[]): string {
  const have = new Set(vocab);
  let t = '\u0000asgard:unknown';
  while (have.has(t)) t += '\u0000';
  return t;
}

/**
 * Re-learn the vocabulary of categorical column `f` of the row-major matrices from the training
 * rows only: `provisional` is the vocabulary the codes in X index (all rows); codes of values not
 * seen in `train` become UNKNOWN_CODE in both matrices. Returns the training vocabulary.
 */
export function fitOnTraining(
  provisional: readonly string[],
  f: number,
  F: number,
  train: { X: Float32Array; n: number },
  others: readonly { X: Float32Array; n: number }[],
): string[] {
  const seen = new Uint8Array(provisional.length);
  for (let i = 0; i < train.n; i++) {
    const c = train.X[i * F + f];
    if (c >= 0) seen[c] = 1;
  }
  const remap = new Int32Array(provisional.length).fill(UNKNOWN_CODE);
  const vocab: string[] = [];
  for (let k = 0; k < provisional.length; k++) {
    if (seen[k]) {
      remap[k] = vocab.length;
      vocab.push(provisional[k]);
    }
  }
  for (const m of [train, ...others]) {
    for (let i = 0; i < m.n; i++) {
      const c = m.X[i * F + f];
      m.X[i * F + f] = c >= 0 ? remap[c] : UNKNOWN_CODE;
    }
  }
  return vocab;
}
