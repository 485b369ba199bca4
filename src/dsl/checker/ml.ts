// `features`, `train` and `serve` blocks: the ML half of a pipeline.

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { FeatureDType, FeaturesNode, NodeId, ServeNode, Span, TrainNode } from '../../ir/types.js';
import type { Attribute, Block } from '../ast.js';
import { SERVE_FIELD_KEYS, serveFields } from '../../ir/serving.js';
import { ALGORITHM_NAMES, checkParam, HYPERPARAMS, type AlgorithmName } from '../../ir/algorithms.js';
import { type Ctx, type Draft, type Mutable, type Resolver, headerSpan, labelsOf, rejectExtra, splitBody, stubNode } from './context.js';
import { TaggedV } from './plain.js';
import { algorithmParamsSchema, batchSchema, entitySchema, featureSchema, featuresSchema, serveSchema, trainSchema } from './schemas.js';
import { validateSettings } from './settings.js';
import { parseGate, toResolvable } from './values.js';
import { parseNodeId, splitColumnAddress, tableRef } from '../../ir/address.js';

const DTYPES: readonly FeatureDType[] = ['int32', 'int64', 'float32', 'float64', 'string', 'bool', 'timestamp'];
const ALGORITHMS = ALGORITHM_NAMES;

const valueSpan = (b: Block, key: string): Span => {
  const a = b.body?.find((i) => i.kind === 'attribute' && i.key === key);
  return a && a.kind === 'attribute' ? a.value.span : headerSpan(b);
};

/**
 * Resolves a table reference (`gold.customer_metrics`, also `iceberg.gold.x`) to the node producing
 * that table, reporting ASG2006 with a did-you-mean when nothing does.
 */
export function resolveTable(ctx: Ctx, r: Resolver, ref: string, span: Span, setting: string): NodeId | undefined {
  const table = tableRef(ref);
  const producer = r.producerOf(table);
  if (producer) return producer;
  if (r.hasNode(table) || r.hasNode(ref)) {
    ctx.report(
      diag(Codes.NotATable, `\`${setting}\` must name a table, but \`${ref}\` produces none`, span, {
        hint: 'tables come from sources (bronze), cleanses (silver), models and batch outputs (gold)',
      }),
    );
    return undefined;
  }
  const guess = r.tables.includes(`gold.${ref}`) ? `gold.${ref}` : r.tables.includes(`silver.${ref}`) ? `silver.${ref}` : undefined;
  ctx.report(
    diag(Codes.UndefinedReference, `\`${setting}\` refers to \`${ref}\`, but no node produces that table`, span, {
      hint: guess ? `did you mean \`${guess}\`?` : didYouMean(table, r.tables),
    }),
  );
  return undefined;
}

/** `features = x` or `features = features.x`; `model = y` or `model = train.y`. */
function resolveNode(ctx: Ctx, r: Resolver, ref: string, prefix: 'features' | 'train', span: Span, setting: string): NodeId | undefined {
  const id = ref.startsWith(`${prefix}.`) ? ref : `${prefix}.${ref}`;
  if (r.hasNode(id)) return id;
  const candidates = r.nodeIds.filter((n) => n.startsWith(`${prefix}.`)).map((n) => n.slice(prefix.length + 1));
  const kind = prefix === 'features' ? 'feature view' : 'train block';
  ctx.report(
    diag(Codes.UndefinedReference, `\`${setting}\` refers to \`${ref}\`, but there is no ${kind} of that name`, span, {
      hint:
        didYouMean(ref.replace(`${prefix}.`, ''), candidates) ??
        (candidates.length ? `${kind}s: ${candidates.join(', ')}` : `define \`${prefix} ${ref} { … }\``),
    }),
  );
  return undefined;
}

export function checkFeatures(ctx: Ctx, b: Block): void {
  const labels = labelsOf(ctx, b, ['name'], 'features NAME { … }');
  if (!labels) return;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `features \`${name}\``;
  rejectExtra(ctx, body, what, { blocks: ['entity', 'feature'] });
  const s = validateSettings(featuresSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags);

  const entities = body.blocks.filter((x) => x.type === 'entity');
  let entity: { name: string; joinKey: string } | undefined;
  if (entities.length === 0)
    ctx.report(diag(Codes.MissingSetting, `${what} has no \`entity\` block`, headerSpan(b), { hint: 'add `entity customer { join_key = customer_id }`' }));
  for (const e of entities.slice(1))
    ctx.report(diag(Codes.DuplicateName, `${what} has more than one \`entity\``, e.typeSpan, { hint: 'a feature view has exactly one entity' }));
  if (entities[0]) {
    const e = entities[0];
    const el = labelsOf(ctx, e, ['name'], 'entity NAME { join_key = COLUMN }');
    const eb = splitBody(e.body);
    rejectExtra(ctx, eb, `entity`, {});
    const es = el ? validateSettings(entitySchema, eb.attrs, { what: `entity \`${el[0]}\``, span: headerSpan(e) }, ctx.diags) : undefined;
    if (el && es) entity = { name: el[0], joinKey: es.join_key };
  }

  const features: Mutable<FeaturesNode['features'][number]>[] = [];
  const seen = new Map<string, Span>();
  for (const f of body.blocks.filter((x) => x.type === 'feature')) {
    const fl = labelsOf(ctx, f, ['name', 'type'], `feature NAME ${DTYPES.join('|')}`);
    if (!fl) continue;
    const [fname, dtype] = fl;
    if (!(DTYPES as string[]).includes(dtype)) {
      ctx.report(
        diag(Codes.InvalidValue, `unknown feature type \`${dtype}\``, f.labels[1].span, { hint: didYouMean(dtype, DTYPES) ?? `types: ${DTYPES.join(', ')}` }),
      );
      continue;
    }
    const prev = seen.get(fname);
    if (prev) {
      ctx.report(
        diag(Codes.DuplicateName, `feature \`${fname}\` is declared twice in ${what}`, f.labels[0].span, {
          related: [{ message: 'first declared here', span: prev }],
        }),
      );
      continue;
    }
    seen.set(fname, f.labels[0].span);
    const fb = splitBody(f.body);
    rejectExtra(ctx, fb, `feature \`${fname}\``, {});
    const fs = validateSettings(featureSchema, fb.attrs, { what: `feature \`${fname}\``, span: headerSpan(f) }, ctx.diags);
    features.push({ name: fname, dtype: dtype as FeatureDType, span: f.span, ...(fs?.description !== undefined ? { description: fs.description } : {}) });
  }
  if (seen.size === 0 && body.blocks.every((x) => x.type !== 'feature'))
    ctx.report(diag(Codes.MissingSetting, `${what} declares no features`, headerSpan(b), { hint: 'add lines such as `feature total_purchases int64`' }));
  if (!s || !entity) return stubNode(ctx, b, `features.${name}`, 'features', name);

  const node: Mutable<FeaturesNode> = {
    id: `features.${name}`,
    kind: 'features',
    name,
    span: b.span,
    inputs: [],
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    entity,
    from: '',
    timestamp: s.timestamp,
    ttlSeconds: s.ttl?.seconds ?? 0,
    features,
  };
  const draft: Draft = { node, inputs: new Set(), at: headerSpan(b) };
  ctx.drafts.push(draft);
  ctx.resolvers.push((r) => {
    const from = resolveTable(ctx, r, s.from, valueSpan(b, 'from'), 'from');
    if (from) {
      node.from = from;
      draft.inputs.add(from);
    }
  });
}

export function checkTrain(ctx: Ctx, b: Block): void {
  const labels = labelsOf(ctx, b, ['name'], 'train NAME { … }');
  if (!labels) return;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `train \`${name}\``;
  rejectExtra(ctx, body, what, {});
  const s = validateSettings(trainSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags);
  if (!s) return stubNode(ctx, b, `train.${name}`, 'train', name);
  let ok = true;

  // algorithm = random_forest { n_estimators = 100 }
  const algoName = s.algorithm instanceof TaggedV ? s.algorithm.name : s.algorithm;
  let params: Record<string, number | string | boolean> = {};
  if (!(ALGORITHMS as readonly string[]).includes(algoName)) {
    ctx.report(
      diag(Codes.InvalidValue, `unknown algorithm \`${algoName}\``, valueSpan(b, 'algorithm'), {
        hint: didYouMean(algoName, ALGORITHMS) ?? `algorithms: ${ALGORITHMS.join(', ')}`,
      }),
    );
    ok = false;
  } else if (s.algorithm instanceof TaggedV) {
    const p = algorithmParamsSchema.safeParse(s.algorithm.params);
    if (!p.success) {
      ctx.report(diag(Codes.WrongValueType, 'algorithm parameters must be numbers, words or booleans', valueSpan(b, 'algorithm')));
      ok = false;
    } else {
      params = p.data;
      if (
        !checkHyperparams(
          ctx,
          algoName as AlgorithmName,
          params,
          body.attrs.find((a) => a.key === 'algorithm'),
          valueSpan(b, 'algorithm'),
        )
      )
        ok = false;
    }
  }

  const split = { test: s.split?.test ?? 0.2, stratify: s.split?.stratify ?? false, seed: s.split?.seed ?? 42 };
  if (!(split.test > 0 && split.test < 1)) {
    ctx.report(
      diag(Codes.InvalidValue, `\`split.test\` must be between 0 and 1 (exclusive), got ${split.test}`, valueSpan(b, 'split'), {
        hint: 'e.g. `split = { test = 0.2 }` holds out 20% of the rows',
      }),
    );
    ok = false;
  }

  let gate: TrainNode['gate'];
  if (s.gate !== undefined) {
    gate = parseGate(s.gate, valueSpan(b, 'gate'), ctx.diags);
    if (!gate) ok = false;
  }

  let mlflow: TrainNode['mlflow'];
  if (s.mlflow) {
    const mlAttr = body.attrs.find((a) => a.key === 'mlflow');
    const uriAttr = mlAttr?.value.kind === 'map' ? mlAttr.value.entries.find((e) => e.key === 'tracking_uri') : undefined;
    const trackingUri = uriAttr ? toResolvable(uriAttr.value, 'mlflow.tracking_uri', ctx.diags) : undefined;
    if (!trackingUri) ok = false;
    else mlflow = { trackingUri, experiment: s.mlflow.experiment };
  }

  // label = gold.churn_labels.churned: a table and its label column.
  const labelAddress = splitColumnAddress(s.label);
  const labelSpan = valueSpan(b, 'label');
  if (!labelAddress) {
    ctx.report(diag(Codes.WrongValueType, `\`label\` must be a table and a column, such as \`gold.churn_labels.churned\`, got \`${s.label}\``, labelSpan));
    ok = false;
  }
  if (!ok) return stubNode(ctx, b, `train.${name}`, 'train', name);

  const node: Mutable<TrainNode> = {
    id: `train.${name}`,
    kind: 'train',
    name,
    span: b.span,
    inputs: [],
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    features: '',
    label: { from: '', column: labelAddress!.column, timestamp: s.label_timestamp ?? 'event_timestamp' },
    algorithm: { name: algoName as TrainNode['algorithm']['name'], params },
    split,
    ...(gate ? { gate } : {}),
    register: s.register ?? name,
    leakage: s.leakage ?? 'warn',
    ...(mlflow ? { mlflow } : {}),
  };
  const draft: Draft = { node, inputs: new Set(), at: headerSpan(b) };
  ctx.drafts.push(draft);
  ctx.resolvers.push((r) => {
    const f = resolveNode(ctx, r, s.features, 'features', valueSpan(b, 'features'), 'features');
    if (f) {
      node.features = f;
      draft.inputs.add(f);
    }
    const from = resolveTable(ctx, r, labelAddress!.table, labelSpan, 'label');
    if (from) {
      node.label = { ...node.label, from };
      draft.inputs.add(from);
    }
  });
}

/**
 * Every `name = value` of an algorithm against its table (src/ir/algorithms.ts): an unknown name
 * (ASG2002, with did-you-mean), a value of the wrong type (ASG2003) or out of range (ASG2011), each
 * at the parameter itself. All are reported, not just the first.
 */
function checkHyperparams(
  ctx: Ctx,
  algorithm: AlgorithmName,
  params: Readonly<Record<string, number | string | boolean>>,
  attr: Attribute | undefined,
  at: Span,
): boolean {
  const entries = attr?.value.kind === 'tagged' ? attr.value.map.entries : [];
  let ok = true;
  for (const [name, value] of Object.entries(params)) {
    const problem = checkParam(algorithm, name, value);
    if (!problem) continue;
    ok = false;
    const entry = entries.find((e) => e.key === name);
    const known = HYPERPARAMS[algorithm].map((h) => h.name);
    if (problem.kind === 'unknown') {
      const hint = problem.hint ?? didYouMean(name, known) ?? `${algorithm} parameters: ${known.join(', ')}`;
      ctx.report(diag(Codes.UnknownSetting, problem.message, entry?.keySpan ?? at, { hint }));
    } else {
      const words = HYPERPARAMS[algorithm].find((h) => h.name === name)!.forms.flatMap((f) => (f.type === 'word' ? f.values : []));
      const hint = typeof value === 'string' ? didYouMean(value, words) : undefined;
      ctx.report(diag(problem.kind === 'type' ? Codes.WrongValueType : Codes.InvalidValue, problem.message, entry?.value.span ?? at, hint ? { hint } : {}));
    }
  }
  return ok;
}

export function checkServe(ctx: Ctx, b: Block): void {
  const labels = labelsOf(ctx, b, ['name'], 'serve NAME { … }');
  if (!labels) return;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `serve \`${name}\``;
  rejectExtra(ctx, body, what, { blocks: ['batch'] });
  const s = validateSettings(serveSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags);

  const batches = body.blocks.filter((x) => x.type === 'batch');
  for (const extra of batches.slice(1)) ctx.report(diag(Codes.DuplicateName, `${what} has more than one \`batch\` block`, extra.typeSpan));
  let batch: { from: string; to: string; block: Block } | undefined;
  if (batches[0]) {
    const bb = batches[0];
    const bl = labelsOf(ctx, bb, [], 'batch { from = TABLE  to = TABLE }');
    const bbody = splitBody(bb.body);
    rejectExtra(ctx, bbody, 'batch', {});
    const bs = bl ? validateSettings(batchSchema, bbody.attrs, { what: `the \`batch\` block of ${what}`, span: bb.typeSpan }, ctx.diags) : undefined;
    if (bs) {
      const to = bs.to.includes('.') ? parseNodeId(bs.to) : { prefix: 'gold', name: bs.to };
      if (to?.prefix === 'gold') batch = { from: bs.from, to: to.name, block: bb };
      else
        ctx.report(
          diag(
            Codes.InvalidValue,
            `batch output \`${bs.to}\` must be a gold table, such as \`gold.${bs.to.slice(bs.to.lastIndexOf('.') + 1)}\``,
            valueSpan(bb, 'to'),
          ),
        );
    }
  }
  if (!s) return stubNode(ctx, b, `serve.${name}`, 'serve', name);
  const risk = { high: s.risk_levels?.high ?? 0.7, medium: s.risk_levels?.medium ?? 0.4 };
  const riskSpan = valueSpan(b, 'risk_levels');
  if (risk.high < 0 || risk.high > 1 || risk.medium < 0 || risk.medium > 1) {
    ctx.report(diag(Codes.InvalidValue, `risk levels must lie between 0 and 1 (high = ${risk.high}, medium = ${risk.medium})`, riskSpan));
    return stubNode(ctx, b, `serve.${name}`, 'serve', name);
  }
  if (!(risk.high > risk.medium)) {
    ctx.report(diag(Codes.InvalidValue, `risk level \`high\` (${risk.high}) must be greater than \`medium\` (${risk.medium})`, riskSpan));
    return stubNode(ctx, b, `serve.${name}`, 'serve', name);
  }
  if (batches[0] && !batch) return stubNode(ctx, b, `serve.${name}`, 'serve', name);
  const fields = s.fields ? Object.fromEntries(Object.entries(s.fields).filter(([, v]) => v !== undefined)) : undefined;
  if (fields) {
    const names = serveFields({ fields });
    const seen = new Map<string, string>();
    for (const k of SERVE_FIELD_KEYS) {
      const v = names[k];
      const bad = !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)
        ? `field name \`${v}\` (for ${k}) must be letters, digits and \`_\`, starting with a letter or \`_\``
        : seen.has(v)
          ? `field name \`${v}\` is used for both ${seen.get(v)} and ${k}`
          : ['model_version', 'scored_at'].includes(v) && k !== 'index'
            ? `field name \`${v}\` (for ${k}) clashes with the batch table's own \`${v}\` column`
            : undefined;
      if (bad) {
        ctx.report(diag(Codes.InvalidValue, bad, valueSpan(b, 'fields')));
        return stubNode(ctx, b, `serve.${name}`, 'serve', name);
      }
      seen.set(v, k);
    }
  }

  let auth: ServeNode['auth'];
  if (s.auth) {
    const authAttr = body.attrs.find((a) => a.key === 'auth');
    const tokenEntry = authAttr?.value.kind === 'map' ? authAttr.value.entries.find((e) => e.key === 'token') : undefined;
    const token = tokenEntry ? toResolvable(tokenEntry.value, 'auth.token', ctx.diags) : undefined;
    if (!token) return stubNode(ctx, b, `serve.${name}`, 'serve', name);
    if (token.kind !== 'secret') {
      ctx.report(
        diag(Codes.WrongValueType, '`auth.token` must be `secret("NAME")`: a token is never written in the spec', tokenEntry!.value.span, {
          hint: 'e.g. `auth = { token = secret("SERVE_TOKEN") }`',
        }),
      );
      return stubNode(ctx, b, `serve.${name}`, 'serve', name);
    }
    auth = { token };
  }

  const node: Mutable<ServeNode> = {
    id: `serve.${name}`,
    kind: 'serve',
    name,
    span: b.span,
    inputs: [],
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    model: '',
    riskLevels: risk,
    ...(fields && Object.keys(fields).length ? { fields } : {}),
    ...(batch ? { batch: { from: '', to: batch.to } } : {}),
    ...(auth ? { auth } : {}),
  };
  const draft: Draft = { node, inputs: new Set(), at: headerSpan(b), ...(batch ? { outputAt: valueSpan(batch.block, 'to') } : {}) };
  ctx.drafts.push(draft);
  ctx.resolvers.push((r) => {
    const m = resolveNode(ctx, r, s.model, 'train', valueSpan(b, 'model'), 'model');
    if (m) {
      node.model = m;
      draft.inputs.add(m);
    }
    if (batch) {
      const from = resolveTable(ctx, r, batch.from, valueSpan(batch.block, 'from'), 'batch.from');
      if (from) {
        node.batch = { from, to: batch.to };
        draft.inputs.add(from);
      }
    }
  });
}
