// A random forest's class-1 probability computed in JavaScript, bit-equal to onnxruntime's on the
// same ONNX model (test/ml/forest-evaluator.test.ts), without a native call per request.
//
// It reads the model file itself, not the trainer's trees: what it evaluates is what onnxruntime
// would be given. It accepts exactly the graph src/ml/onnx-export.ts writes for a forest — one
// input per feature ([N, 1]: float, or string through a LabelEncoder to a float code), a Concat on
// axis 1, a TreeEnsembleClassifier with BRANCH_LEQ/LEAF nodes, two classes 0 and 1, each leaf one
// weight per class, no base values, post_transform NONE — and returns null for anything else, which
// the caller scores with onnxruntime.
//
// Bit-equality, from onnxruntime's TreeEnsembleCommon and TreeAggregatorClassifier (ai.onnx.ml,
// CPU, one intra-op thread: how src/ml/onnx-session.ts runs every session):
// - thresholds and weights are float32 (the attributes are floats); inputs are float32; a node goes
//   to its true branch when `x <= threshold` (NaN goes to the false branch: no missing-value
//   tracking attribute);
// - each class's score starts at 0 and adds its leaf weight tree after tree in tree order, each sum
//   rounded to float32 (a Float32Array element: the double sum of two floats rounded once is
//   float32 addition);
// - with no base values and post_transform NONE the output is that sum.
// onnxruntime splits the trees across threads (and merges partial sums) only with more than one
// intra-op thread.

import type { ScoreColumn } from './onnx-session.js';

/**
 * One forest, packed: every node in 12 bytes of one buffer (its feature, -1 at a leaf; its threshold,
 * or at a leaf its class-1 weight; the offset of its false child), each tree in depth-first order
 * with a node's true child right after it. A row's walk down a tree reads mostly adjacent memory:
 * the forest of the serving benches (100 trees of depth 10) is ~2.4 MB this way against ~4 MB in
 * five arrays, and a one-row request touches ~1,000 of its nodes.
 */
export class ForestEvaluator {
  private constructor(
    /** The packed nodes as int32 (features, false-child offsets) … */
    private readonly ints: Int32Array,
    /** … and as float32 (thresholds, leaf weights): two views of one buffer. */
    private readonly floats: Float32Array,
    /** Each tree's root offset, in the order onnxruntime sums them. */
    private readonly roots: Int32Array,
    /** Per feature: for a categorical one, its LabelEncoder (string → code, and the default code). */
    private readonly encoders: readonly (Encoder | null)[],
  ) {}

  get featureCount(): number {
    return this.encoders.length;
  }

  /**
   * The evaluator of an ONNX model when the model is a forest as onnx-export.ts writes it for the
   * given inputs (in order) and output, or null.
   */
  static fromOnnx(
    bytes: Uint8Array,
    inputNames: readonly string[],
    output: { readonly name: string; readonly width: number; readonly column: number },
  ): ForestEvaluator | null {
    if (output.name !== 'probabilities' || output.width !== 2 || output.column !== 1) return null;
    let model: OnnxModel;
    try {
      model = readModel(bytes);
    } catch {
      return null;
    }
    const parts = fromGraph(model, inputNames);
    return parts && new ForestEvaluator(parts.ints, parts.floats, parts.roots, parts.encoders);
  }

  /** Class-1 probabilities for n rows of per-feature columns (strings for a categorical feature, null for NULL). */
  score(columns: readonly ScoreColumn[], n: number): Float32Array {
    const F = this.encoders.length;
    if (columns.length !== F) throw new Error(`internal error: the forest takes ${F} features; got ${columns.length} columns`);
    // Row-major float32 rows: the encoders' codes are float32 values as onnxruntime's Concat sees them.
    const X = new Float32Array(n * F);
    for (let f = 0; f < F; f++) {
      const col = columns[f];
      const enc = this.encoders[f];
      if (enc) {
        if (col instanceof Float32Array) throw new Error(`internal error: feature ${f} is categorical; got a float column`);
        for (let i = 0; i < n; i++) X[i * F + f] = enc.code(col[i]);
      } else {
        if (!(col instanceof Float32Array)) throw new Error(`internal error: feature ${f} is numeric; got a string column`);
        for (let i = 0; i < n; i++) X[i * F + f] = col[i];
      }
    }
    return this.scoreRows(X, n);
  }

  /** Same, from row-major float32 rows X[i * F + f] (a categorical feature already its code). */
  scoreRows(X: Float32Array, n: number): Float32Array {
    const F = this.encoders.length;
    const { ints, floats, roots } = this;
    const sum = new Float32Array(n);
    // Tree after tree over all the rows: a tree's nodes stay in cache while the rows stream past in
    // order (blocks of 512 or 4,096 rows measured slower: bench/serve.md, session 13); every row's
    // sum still adds the trees in order.
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t];
      for (let i = 0; i < n; i++) {
        const base = i * F;
        let o = root;
        let f = ints[o];
        while (f >= 0) {
          o = X[base + f] <= floats[o + 1] ? o + 3 : ints[o + 2];
          f = ints[o];
        }
        sum[i] += floats[o + 1];
      }
    }
    return sum;
  }
}

/** A LabelEncoder from strings to float codes. */
class Encoder {
  constructor(
    private readonly codes: ReadonlyMap<string, number>,
    private readonly fallback: number,
  ) {}

  /**
   * The code of one value. null (NULL) is what the scorer feeds onnxruntime a token outside the
   * vocabulary for: the default. A string with a lone surrogate reaches onnxruntime as UTF-8 with
   * U+FFFD in its place (N-API's conversion), and so here.
   */
  code(v: string | null | undefined): number {
    if (v === null || v === undefined) return this.fallback;
    const w = v as unknown as WellFormed;
    return this.codes.get(w.isWellFormed() ? v : w.toWellFormed()) ?? this.fallback;
  }
}

/** ES2024's string methods (node >= 20), not in this project's TypeScript lib. */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

interface OnnxAttr {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
interface OnnxNode {
  input?: string[];
  output?: string[];
  op_type?: string;
  domain?: string;
  attribute?: OnnxAttr[];
}
interface OnnxModel {
  graph?: { node?: OnnxNode[]; input?: { name?: string; type?: { tensor_type?: { elem_type?: number } } }[]; output?: { name?: string }[] };
  opset_import?: { domain?: string; version?: number }[];
}

/**
 * The parts of an ONNX ModelProto the forest needs, read straight from the protobuf wire format
 * (field numbers of onnx.proto, as src/ml/onnx-proto.ts): a generic decoder makes an object per
 * int64 of the ~1.4 million in a 100-tree forest (~0.5 s). Unknown fields are skipped; a truncated
 * or malformed message throws.
 */
function readModel(bytes: Uint8Array): OnnxModel {
  const model: OnnxModel = { opset_import: [] };
  new Wire(bytes).fields((field, w) => {
    if (field === 7) model.graph = readGraph(w.message());
    else if (field === 8) {
      const o: { domain?: string; version?: number } = {};
      w.message().fields((f, m) => (f === 1 ? (o.domain = m.string()) : f === 2 ? (o.version = m.int()) : m.skip()));
      model.opset_import!.push(o);
    } else w.skip();
  });
  return model;
}

function readGraph(w: Wire): NonNullable<OnnxModel['graph']> {
  const g: NonNullable<OnnxModel['graph']> = { node: [], input: [], output: [] };
  w.fields((field, m) => {
    if (field === 1) g.node!.push(readNode(m.message()));
    else if (field === 11) {
      const v: { name?: string; type?: { tensor_type?: { elem_type?: number } } } = {};
      m.message().fields((f, x) => {
        if (f === 1) v.name = x.string();
        else if (f === 2) {
          x.message().fields((tf, t) => {
            if (tf !== 1) return t.skip();
            t.message().fields((ef, e) => (ef === 1 ? (v.type = { tensor_type: { elem_type: e.int() } }) : e.skip()));
          });
        } else x.skip();
      });
      g.input!.push(v);
    } else m.skip();
  });
  return g;
}

function readNode(w: Wire): OnnxNode {
  const n: OnnxNode = { input: [], output: [], attribute: [] };
  w.fields((field, m) => {
    if (field === 1) n.input!.push(m.string());
    else if (field === 2) n.output!.push(m.string());
    else if (field === 4) n.op_type = m.string();
    else if (field === 7) n.domain = m.string();
    else if (field === 5) {
      const a: OnnxAttr = { name: '' };
      m.message().fields((f, x) => {
        if (f === 1) a.name = x.string();
        else if (f === 2) a.f = x.float();
        else if (f === 3) a.i = x.int();
        else if (f === 4) a.s = x.bytes();
        else if (f === 7) x.repeatedFloats((a.floats ??= []));
        else if (f === 8) x.repeatedVarints((a.ints ??= []));
        else if (f === 9) (a.strings ??= []).push(x.bytes());
        else if (f === 20) a.type = x.int();
        else x.skip();
      });
      n.attribute!.push(a);
    } else m.skip();
  });
  return n;
}

/** A protobuf reader over bytes[at, end). */
class Wire {
  private wire = 0;
  constructor(
    private readonly buf: Uint8Array,
    private at = 0,
    private readonly end = buf.length,
  ) {}

  /** Calls `each` for every field of the message; `each` must read or skip its value. */
  fields(each: (field: number, w: Wire) => void): void {
    while (this.at < this.end) {
      const tag = this.varint();
      this.wire = tag & 7;
      each(Math.floor(tag / 8), this);
    }
  }

  varint(): number {
    const { buf } = this;
    let value = 0;
    let mul = 1;
    for (let k = 0; k < 7; k++) {
      if (this.at >= this.end) throw new Error('truncated varint');
      const b = buf[this.at++];
      value += (b & 0x7f) * mul;
      if (b < 0x80) return value;
      mul *= 128;
    }
    // More than 49 bits: an int64 beyond 2^49 or a negative one (ten bytes), exactly.
    let big = BigInt(value);
    for (let shift = 49n; ; shift += 7n) {
      if (this.at >= this.end || shift > 63n) throw new Error('malformed varint');
      const b = buf[this.at++];
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
    }
  }

  /** A varint field's value. */
  int(): number {
    if (this.wire !== 0) throw new Error('expected a varint');
    return this.varint();
  }

  private length(): number {
    const n = this.varint();
    if (n < 0 || this.at + n > this.end) throw new Error('truncated field');
    return n;
  }

  message(): Wire {
    if (this.wire !== 2) throw new Error('expected a message');
    const n = this.length();
    const w = new Wire(this.buf, this.at, this.at + n);
    this.at += n;
    return w;
  }

  bytes(): Uint8Array {
    if (this.wire !== 2) throw new Error('expected bytes');
    const n = this.length();
    this.at += n;
    return this.buf.subarray(this.at - n, this.at);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  float(): number {
    if (this.wire !== 5) throw new Error('expected a float');
    if (this.at + 4 > this.end) throw new Error('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, 4).getFloat32(0, true);
    this.at += 4;
    return v;
  }

  /** A repeated float, packed or not, appended to `out`. */
  repeatedFloats(out: number[]): void {
    if (this.wire === 5) {
      out.push(this.float());
      return;
    }
    if (this.wire !== 2) throw new Error('expected floats');
    const n = this.length();
    if (n % 4) throw new Error('malformed packed floats');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, n);
    for (let k = 0; k < n; k += 4) out.push(view.getFloat32(k, true));
    this.at += n;
  }

  /** A repeated varint, packed or not, appended to `out`. */
  repeatedVarints(out: number[]): void {
    if (this.wire === 0) {
      out.push(this.int());
      return;
    }
    if (this.wire !== 2) throw new Error('expected varints');
    const n = this.length();
    const w = new Wire(this.buf, this.at, this.at + n);
    while (w.at < w.end) out.push(w.varint());
    this.at += n;
  }

  skip(): void {
    if (this.wire === 0) this.varint();
    else if (this.wire === 1) this.at += 8;
    else if (this.wire === 2) {
      const n = this.length();
      this.at += n;
    } else if (this.wire === 5) this.at += 4;
    else throw new Error(`unsupported wire type ${this.wire}`);
    if (this.at > this.end) throw new Error('truncated field');
  }
}

const ELEM_FLOAT = 1;
const ELEM_STRING = 8;
const ML = 'ai.onnx.ml';
const utf8 = new TextDecoder('utf-8', { fatal: true });

const LEAF = new TextEncoder().encode('LEAF');
const BRANCH_LEQ = new TextEncoder().encode('BRANCH_LEQ');

/** Whether a string attribute's bytes are `want`'s (no decoding per node: a forest has ~200,000). */
function isText(bytes: Uint8Array, want: Uint8Array): boolean {
  if (bytes.length !== want.length) return false;
  for (let k = 0; k < want.length; k++) if (bytes[k] !== want[k]) return false;
  return true;
}

/** The attributes of a node by name; null when one is repeated or of a kind not listed in `known`. */
function attributes(node: OnnxNode, known: readonly string[]): Map<string, OnnxAttr> | null {
  const m = new Map<string, OnnxAttr>();
  for (const a of node.attribute ?? []) {
    if (m.has(a.name) || !known.includes(a.name)) return null;
    m.set(a.name, a);
  }
  return m;
}

const text = (a: OnnxAttr | undefined): string | undefined => (a?.s ? utf8.decode(a.s) : undefined);

const ENCODER_ATTRS = ['keys_strings', 'values_floats', 'default_float'];
const FOREST_ATTRS = [
  'nodes_treeids',
  'nodes_nodeids',
  'nodes_featureids',
  'nodes_values',
  'nodes_modes',
  'nodes_truenodeids',
  'nodes_falsenodeids',
  'class_treeids',
  'class_nodeids',
  'class_ids',
  'class_weights',
  'classlabels_int64s',
  'post_transform',
];

/** The packed forest (ForestEvaluator's fields). */
interface ForestParts {
  readonly ints: Int32Array;
  readonly floats: Float32Array;
  readonly roots: Int32Array;
  readonly encoders: readonly (Encoder | null)[];
}

function fromGraph(model: OnnxModel, inputNames: readonly string[]): ForestParts | null {
  const g = model.graph;
  const ml = model.opset_import?.find((o) => o.domain === ML)?.version;
  if (!g?.node || !g.input || ml === undefined || ml < 2 || ml > 3) return null;
  const F = inputNames.length;
  if (g.input.length !== F || g.input.some((x, f) => x.name !== inputNames[f])) return null;
  const nodes = g.node;
  if (nodes.length < 2) return null;
  const forest = nodes[nodes.length - 1];
  const concat = nodes[nodes.length - 2];
  // Encoders: every node before the Concat, each from one string input to one output.
  const encoders: (Encoder | null)[] = new Array(F).fill(null);
  const encodedAs = new Map<string, number>();
  for (const node of nodes.slice(0, -2)) {
    if (node.op_type !== 'LabelEncoder' || node.domain !== ML || node.input?.length !== 1 || node.output?.length !== 1) return null;
    const f = inputNames.indexOf(node.input[0]);
    if (f < 0 || encoders[f] || g.input[f].type?.tensor_type?.elem_type !== ELEM_STRING) return null;
    const a = attributes(node, ENCODER_ATTRS);
    const keys = a?.get('keys_strings')?.strings;
    const values = a?.get('values_floats')?.floats;
    const dflt = a?.get('default_float');
    if (!keys || !values || keys.length !== values.length) return null;
    const codes = new Map<string, number>();
    for (let k = 0; k < keys.length; k++) {
      let key: string;
      try {
        key = utf8.decode(keys[k]);
      } catch {
        return null;
      }
      if (codes.has(key)) return null;
      codes.set(key, Math.fround(values[k]));
    }
    // LabelEncoder's default_float defaults to -0.0 (ai.onnx.ml opset 2+).
    encoders[f] = new Encoder(codes, dflt ? Math.fround(dflt.f ?? 0) : -0);
    encodedAs.set(node.output[0], f);
  }
  // Concat of the features in order, each the input itself (float) or its encoder's output.
  const cattr = concat.op_type === 'Concat' && (concat.domain ?? '') === '' ? attributes(concat, ['axis']) : null;
  if (!cattr || cattr.get('axis')?.i !== 1 || concat.input?.length !== F || concat.output?.length !== 1) return null;
  for (let f = 0; f < F; f++) {
    const src = concat.input[f];
    if (encoders[f] ? encodedAs.get(src) !== f : src !== inputNames[f] || g.input[f].type?.tensor_type?.elem_type !== ELEM_FLOAT) return null;
  }
  if (forest.op_type !== 'TreeEnsembleClassifier' || forest.domain !== ML || forest.input?.length !== 1 || forest.input[0] !== concat.output[0]) return null;
  if (forest.output?.[1] !== 'probabilities') return null;
  const a = attributes(forest, FOREST_ATTRS);
  if (!a) return null;
  return flatten(a, F, encoders);
}

function flatten(a: Map<string, OnnxAttr>, F: number, encoders: (Encoder | null)[]): ForestParts | null {
  const ints = (name: string) => a.get(name)?.ints ?? null;
  const floats = (name: string) => a.get(name)?.floats ?? null;
  if ((text(a.get('post_transform')) ?? 'NONE') !== 'NONE') return null;
  const labels = ints('classlabels_int64s');
  if (!labels || labels.length !== 2 || labels[0] !== 0 || labels[1] !== 1) return null;
  const treeIds = ints('nodes_treeids');
  const nodeIds = ints('nodes_nodeids');
  const featureIds = ints('nodes_featureids');
  const values = floats('nodes_values');
  const modes = a.get('nodes_modes')?.strings;
  const trueIds = ints('nodes_truenodeids');
  const falseIds = ints('nodes_falsenodeids');
  const N = treeIds?.length ?? 0;
  if (!treeIds || !nodeIds || !featureIds || !values || !modes || !trueIds || !falseIds || N === 0) return null;
  if ([nodeIds, featureIds, values, modes, trueIds, falseIds].some((x) => x.length !== N)) return null;
  // Trees 0, 1, 2, … each listed as one contiguous run whose first node is its root: onnxruntime's
  // roots in that order are the order the sums add up in.
  const roots: number[] = [];
  const ends: number[] = [];
  let numbered = true; // every node id its offset in its tree's run (as onnx-export.ts writes them)
  for (let k = 0; k < N; k++) {
    const t = treeIds[k];
    if (k === 0 || t !== treeIds[k - 1]) {
      if (t !== roots.length) return null;
      if (k) ends.push(k);
      roots.push(k);
    }
    if (nodeIds[k] !== k - roots[t]) numbered = false;
  }
  ends.push(N);
  // (tree, node id) → position: by offset when numbered so, else through a map.
  let byKey: Map<number, number> | null = null;
  const key = (tree: number, node: number) => tree * 0x100000 + node;
  if (!numbered) {
    byKey = new Map();
    for (let k = 0; k < N; k++) {
      const id = nodeIds[k];
      if (id < 0 || id >= 0x100000 || byKey.has(key(treeIds[k], id))) return null;
      byKey.set(key(treeIds[k], id), k);
    }
  }
  const find = (tree: number, id: number): number | undefined => {
    if (byKey) return byKey.get(key(tree, id));
    if (!(tree >= 0 && tree < roots.length)) return undefined;
    const at = roots[tree] + id;
    return id >= 0 && at < ends[tree] ? at : undefined;
  };
  const feature = new Int32Array(N);
  const threshold = new Float32Array(N);
  const yes = new Int32Array(N);
  const no = new Int32Array(N);
  const weight = new Float32Array(N);
  const isLeaf = new Uint8Array(N);
  for (let k = 0; k < N; k++) {
    const mode = modes[k];
    if (isText(mode, LEAF)) {
      feature[k] = -1;
      isLeaf[k] = 1;
      continue;
    }
    if (!isText(mode, BRANCH_LEQ)) return null;
    const f = featureIds[k];
    if (!(f >= 0 && f < F)) return null;
    const y = find(treeIds[k], trueIds[k]);
    const n = find(treeIds[k], falseIds[k]);
    if (y === undefined || n === undefined) return null;
    feature[k] = f;
    threshold[k] = values[k];
    yes[k] = y;
    no[k] = n;
  }
  // Class weights: each leaf exactly one class-0 and one class-1 weight; only class 1 is read.
  const cTree = ints('class_treeids');
  const cNode = ints('class_nodeids');
  const cId = ints('class_ids');
  const cW = floats('class_weights');
  if (!cTree || !cNode || !cId || !cW || [cNode, cId, cW].some((x) => x.length !== cTree.length)) return null;
  const seen = new Uint8Array(N);
  for (let j = 0; j < cTree.length; j++) {
    const k = find(cTree[j], cNode[j]);
    const c = cId[j];
    if (k === undefined || !isLeaf[k] || (c !== 0 && c !== 1) || seen[k] & (1 << c)) return null;
    seen[k] |= 1 << c;
    if (c === 1) weight[k] = cW[j];
  }
  for (let k = 0; k < N; k++) if (isLeaf[k] && seen[k] !== 3) return null;
  const packed = pack(feature, threshold, yes, no, weight, roots, N);
  return packed && { ...packed, encoders };
}

/**
 * The nodes reachable from the roots in the packed layout (ForestEvaluator), or null when a node is
 * reached twice (a cycle, or a node shared by two parents or trees: not a forest).
 */
function pack(
  feature: Int32Array,
  threshold: Float32Array,
  yes: Int32Array,
  no: Int32Array,
  weight: Float32Array,
  roots: readonly number[],
  N: number,
): Omit<ForestParts, 'encoders'> | null {
  const pos = new Int32Array(N).fill(-1);
  const order: number[] = [];
  const stack: number[] = [];
  for (const r of roots) {
    stack.push(r);
    while (stack.length) {
      const k = stack.pop()!;
      if (pos[k] >= 0) return null;
      pos[k] = order.length;
      order.push(k);
      // The true child is popped next: it lands right after its parent.
      if (feature[k] >= 0) stack.push(no[k], yes[k]);
    }
  }
  const buf = new ArrayBuffer(order.length * 12);
  const ints = new Int32Array(buf);
  const floats = new Float32Array(buf);
  for (let p = 0; p < order.length; p++) {
    const k = order[p];
    ints[3 * p] = feature[k];
    if (feature[k] >= 0) {
      floats[3 * p + 1] = threshold[k];
      ints[3 * p + 2] = 3 * pos[no[k]];
    } else floats[3 * p + 1] = weight[k];
  }
  return { ints, floats, roots: Int32Array.from(roots, (r) => 3 * pos[r]) };
}
