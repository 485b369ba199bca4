// The models pages: every registered version of each model with its metrics and gate; a version's
// held-out curves (ROC, precision-recall), confusion matrix at its threshold, feature importance and
// the data it trained on; two versions compared; and the serving table's predictions by risk level.

import * as Plot from '@observablehq/plot';
import { append, fmtMetric, fmtNumber, fmtTime, h, href } from './dom.js';
import type { Site } from './data.js';
import { RISK_COLORS, VERSION_COLORS } from './theme.js';

type Model = Site['data']['models'][number];
type Version = Model['versions'][number];
const METRICS = ['f1', 'roc_auc', 'precision', 'recall', 'accuracy', 'log_loss'] as const;

export function modelsPage(site: Site, root: HTMLElement, name?: string, rest: readonly string[] = []): void {
  const models = site.data.models;
  if (!name) {
    root.append(
      h('header', { class: 'page-head' }, h('h1', null, 'Models'), h('p', { class: 'description' }, `What ${site.data.pipeline} trains and serves.`)),
    );
    if (!models.length) root.append(h('section', { class: 'card' }, h('p', { class: 'muted' }, 'This pipeline trains no model.')));
    for (const m of models) root.append(modelCard(m), ...m.serving.map((s) => servingCard(s)));
    return;
  }
  const m = models.find((x) => x.name === name);
  if (!m) {
    root.append(h('section', { class: 'card' }, h('h1', null, 'No such model'), h('p', null, h('a', { href: '#/models' }, 'All models'))));
    return;
  }
  if (rest[0] === 'compare') {
    comparePage(m, root, Number(rest[1]), Number(rest[2]));
    return;
  }
  const v = m.versions.find((x) => x.version === Number(rest[0])) ?? m.versions.at(-1);
  if (!v) {
    root.append(modelCard(m));
    return;
  }
  versionPage(site, m, v, root);
}

const gateBadge = (v: Version) =>
  v.gate
    ? h('span', { class: `status status-${v.gate.passed ? 'succeeded' : 'failed'}`, title: v.gate.reason }, v.gate.passed ? 'passed' : 'failed')
    : h('span', { class: 'status' }, 'no gate');

function modelCard(m: Model): HTMLElement {
  const vs = [...m.versions].reverse();
  const served = m.versions.filter((v) => v.promoted).at(-1);
  return h(
    'section',
    { class: 'card' },
    h('h2', null, m.name, h('span', { class: 'muted small' }, ` trained by `, h('a', { href: href('node', m.node) }, m.node))),
    h('p', { class: 'muted' }, `Gate: ${m.gate ?? 'none'} · served: ${served ? `v${served.version}` : 'no promoted version'}`),
    vs.length
      ? h(
          'table',
          { class: 'plain versions' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'version'),
              h('th', null, 'created'),
              h('th', null, 'algorithm'),
              h('th', null, 'gate'),
              h('th', null, 'promoted'),
              METRICS.map((k) => h('th', { class: 'num' }, k)),
            ),
          ),
          h(
            'tbody',
            null,
            vs.map((v) =>
              h(
                'tr',
                null,
                h('td', null, h('a', { href: href('models', m.name, v.version) }, `v${v.version}`)),
                h('td', null, fmtTime(v.createdAt)),
                h('td', null, v.algorithm),
                h('td', null, gateBadge(v)),
                h('td', null, v.promoted ? (v === served ? 'serving' : 'yes') : 'no'),
                METRICS.map((k) => h('td', { class: 'num' }, fmtMetric(v.metrics[k]))),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No version registered yet: apply the pipeline.'),
    vs.length >= 2
      ? h(
          'p',
          null,
          h('a', { class: 'button', href: href('models', m.name, 'compare', vs[1].version, vs[0].version) }, `Compare v${vs[1].version} and v${vs[0].version}`),
        )
      : null,
  );
}

function metricTiles(v: Version): HTMLElement {
  return h(
    'div',
    { class: 'tiles' },
    METRICS.map((k) => h('div', { class: 'tile' }, h('div', { class: 'tile-value' }, fmtMetric(v.metrics[k])), h('div', { class: 'tile-label' }, k))),
  );
}

function rocPlot(vs: readonly Version[], width: number): Element {
  const rows = vs.flatMap((v, i) => (v.evaluation?.roc ?? []).map(([fpr, tpr]) => ({ fpr, tpr, v: `v${v.version}`, i })));
  return Plot.plot({
    width,
    height: width * 0.8,
    grid: true,
    x: { domain: [0, 1], label: 'false positive rate →' },
    y: { domain: [0, 1], label: '↑ true positive rate' },
    color: { domain: vs.map((v) => `v${v.version}`), range: VERSION_COLORS, legend: vs.length > 1 },
    marks: [
      Plot.line(
        [
          [0, 0],
          [1, 1],
        ],
        { stroke: '#cbd5e1', strokeDasharray: '4 3' },
      ),
      Plot.line(rows, { x: 'fpr', y: 'tpr', stroke: 'v', strokeWidth: 2 }),
    ],
  });
}

function prPlot(vs: readonly Version[], width: number): Element {
  const rows = vs.flatMap((v) => (v.evaluation?.pr ?? []).map(([recall, precision]) => ({ recall, precision, v: `v${v.version}` })));
  const base = vs[0]?.metrics.positive_rate;
  return Plot.plot({
    width,
    height: width * 0.8,
    grid: true,
    x: { domain: [0, 1], label: 'recall →' },
    y: { domain: [0, 1], label: '↑ precision' },
    color: { domain: vs.map((v) => `v${v.version}`), range: VERSION_COLORS, legend: vs.length > 1 },
    marks: [
      ...(base !== undefined ? [Plot.ruleY([base], { stroke: '#cbd5e1', strokeDasharray: '4 3' })] : []),
      Plot.line(rows, { x: 'recall', y: 'precision', stroke: 'v', strokeWidth: 2 }),
    ],
  });
}

function confusionPlot(v: Version, width: number): Element {
  const [[tn, fp], [fn, tp]] = v.metrics.confusion_matrix;
  const cells = [
    { actual: 'actual 0', predicted: 'predicted 0', n: tn, what: 'true negatives' },
    { actual: 'actual 0', predicted: 'predicted 1', n: fp, what: 'false positives' },
    { actual: 'actual 1', predicted: 'predicted 0', n: fn, what: 'false negatives' },
    { actual: 'actual 1', predicted: 'predicted 1', n: tp, what: 'true positives' },
  ];
  return Plot.plot({
    width,
    height: width * 0.75,
    marginLeft: 70,
    padding: 0.04,
    x: { label: null, axis: 'top', domain: ['predicted 0', 'predicted 1'] },
    y: { label: null, domain: ['actual 0', 'actual 1'] },
    color: { scheme: 'blues', type: 'sqrt' },
    marks: [
      Plot.cell(cells, { x: 'predicted', y: 'actual', fill: 'n', inset: 0.5, title: (d) => `${d.what}: ${d.n}` }),
      Plot.text(cells, {
        x: 'predicted',
        y: 'actual',
        text: (d) => fmtNumber(d.n),
        fill: (d) => (d.n > (tn + fp + fn + tp) / 3 ? 'white' : '#0f172a'),
        fontSize: 18,
        fontWeight: 600,
        dy: -6,
      }),
      Plot.text(cells, { x: 'predicted', y: 'actual', text: 'what', fill: (d) => (d.n > (tn + fp + fn + tp) / 3 ? 'white' : '#334155'), dy: 14 }),
    ],
  });
}

function importancePlot(vs: readonly Version[], width: number): Element | HTMLElement {
  const rows = vs.flatMap((v) => (v.evaluation?.importance ?? []).map((x) => ({ ...x, v: `v${v.version}` })));
  if (!rows.length) return h('p', { class: 'muted' }, 'No feature importance recorded for this version.');
  const order = (vs.at(-1)?.evaluation?.importance ?? []).map((x) => x.feature);
  // One row per feature and version (x1/x2, never stacked): versions side by side under each feature.
  const label = (d: { feature: string; v: string }) => (vs.length > 1 ? `${d.feature} · ${d.v}` : d.feature);
  return Plot.plot({
    width,
    height: 40 + order.length * vs.length * 20,
    marginLeft: 230,
    x: { label: 'drop of ROC AUC when the feature is shuffled →', grid: true },
    y: { domain: order.flatMap((f) => vs.map((v) => label({ feature: f, v: `v${v.version}` }))), label: null },
    color: { domain: vs.map((v) => `v${v.version}`), range: VERSION_COLORS, legend: vs.length > 1 },
    marks: [Plot.barX(rows, { x1: 0, x2: 'importance', y: label, fill: 'v', rx: 2, title: (d) => `${d.feature} (${d.v}): ${d.importance}` }), Plot.ruleX([0])],
  });
}

function noCurves(v: Version): HTMLElement | null {
  return v.evaluation ? null : h('p', { class: 'muted' }, `v${v.version} was registered before curves were recorded: train it again to see them.`);
}

function lineageCard(site: Site, v: Version): HTMLElement {
  const l = v.lineage as
    | {
        inputs?: {
          features?: { view?: string; source?: { node: string; snapshot: string | null } };
          label?: { from?: string; column?: string; source?: { node: string; snapshot: string | null } };
        };
        trainedAt?: string;
        logicalTime?: string;
        rows?: number;
      }
    | undefined;
  const rows: [string, HTMLElement | string][] = [];
  const snap = (s?: { node: string; snapshot: string | null }) =>
    s ? h('span', null, h('a', { href: href('node', s.node) }, s.node), ' @ ', h('code', null, s.snapshot ?? '—')) : '—';
  if (l?.inputs?.features?.view) rows.push(['features', h('a', { href: href('node', l.inputs.features.view) }, l.inputs.features.view)]);
  if (l?.inputs?.features?.source) rows.push(['feature data', snap(l.inputs.features.source)]);
  if (l?.inputs?.label?.source) rows.push([`label ${l.inputs.label.column ?? ''}`.trim(), snap(l.inputs.label.source)]);
  if (l?.logicalTime) rows.push(['logical time', fmtTime(l.logicalTime)]);
  if (l?.trainedAt) rows.push(['trained', fmtTime(l.trainedAt)]);
  if (l?.rows !== undefined) rows.push(['labelled rows', fmtNumber(l.rows)]);
  rows.push(['held-out rows', fmtNumber(v.metrics.test_rows)]);
  rows.push(['inputs hash', h('code', { class: 'small' }, v.inputsHash.slice(0, 16))]);
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Trained on'),
    h(
      'dl',
      { class: 'facts' },
      rows.map(([k, x]) => [h('dt', null, k), h('dd', null, x)]),
    ),
    site.byId.size ? null : null,
  );
}

function versionPage(site: Site, m: Model, v: Version, root: HTMLElement): void {
  const w = 340;
  const others = m.versions.filter((x) => x.version !== v.version);
  append(root, [
    h(
      'header',
      { class: 'page-head' },
      h('div', { class: 'crumbs' }, h('a', { href: '#/models' }, 'models'), ' / ', m.name),
      h('h1', null, `${m.name} v${v.version}`, ' ', gateBadge(v), v.promoted ? h('span', { class: 'tag' }, 'promoted') : null),
      h(
        'p',
        { class: 'description' },
        `${v.algorithm} · registered ${fmtTime(v.createdAt)} · gate ${v.gate?.text ?? 'none'}${v.gate ? ` — ${v.gate.reason}` : ''}`,
      ),
      h(
        'p',
        null,
        m.versions.map((x) => h('a', { class: x === v ? 'pill active' : 'pill', href: href('models', m.name, x.version) }, `v${x.version}`)),
        others.length
          ? h('a', { class: 'button', href: href('models', m.name, 'compare', others.at(-1)!.version, v.version) }, `Compare with v${others.at(-1)!.version}`)
          : null,
      ),
    ),
    metricTiles(v),
    noCurves(v),
    h(
      'div',
      { class: 'grid three' },
      h(
        'section',
        { class: 'card chart', id: 'roc' },
        h('h2', null, 'ROC curve', h('span', { class: 'muted small' }, ` AUC ${fmtMetric(v.metrics.roc_auc)}`)),
        v.evaluation ? rocPlot([v], w) : null,
      ),
      h('section', { class: 'card chart', id: 'pr' }, h('h2', null, 'Precision–recall'), v.evaluation ? prPlot([v], w) : null),
      h(
        'section',
        { class: 'card chart', id: 'confusion' },
        h('h2', null, 'Confusion matrix', h('span', { class: 'muted small' }, ` at threshold ${v.metrics.threshold}`)),
        confusionPlot(v, w),
      ),
    ),
    h(
      'div',
      { class: 'grid two' },
      h('section', { class: 'card chart', id: 'importance' }, h('h2', null, 'Feature importance'), importancePlot([v], 520)),
      lineageCard(site, v),
    ),
    ...m.serving.map((s) => servingCard(s)),
  ]);
}

function comparePage(m: Model, root: HTMLElement, a: number, b: number): void {
  const va = m.versions.find((v) => v.version === a);
  const vb = m.versions.find((v) => v.version === b);
  if (!va || !vb) {
    root.append(
      h(
        'section',
        { class: 'card' },
        h('h1', null, 'Versions not found'),
        h('p', null, `${m.name} has versions ${m.versions.map((v) => v.version).join(', ')}.`),
      ),
    );
    return;
  }
  const delta = (k: (typeof METRICS)[number]) => {
    const d = Number((vb.metrics[k] - va.metrics[k]).toFixed(3)); // as shown: a change that rounds to 0 is none
    const better = k === 'log_loss' ? d < 0 : d > 0;
    return h('td', { class: `num ${d === 0 ? '' : better ? 'up' : 'down'}` }, `${d >= 0 ? '+' : ''}${d.toFixed(3)}`);
  };
  root.append(
    h(
      'header',
      { class: 'page-head' },
      h('div', { class: 'crumbs' }, h('a', { href: '#/models' }, 'models'), ' / ', h('a', { href: href('models', m.name, b) }, m.name)),
      h('h1', null, `${m.name}: v${a} vs v${b}`),
    ),
    h(
      'section',
      { class: 'card' },
      h(
        'table',
        { class: 'plain compare' },
        h(
          'thead',
          null,
          h('tr', null, h('th', null, 'metric'), h('th', { class: 'num' }, `v${a}`), h('th', { class: 'num' }, `v${b}`), h('th', { class: 'num' }, 'change')),
        ),
        h(
          'tbody',
          null,
          METRICS.map((k) =>
            h('tr', null, h('td', null, k), h('td', { class: 'num' }, fmtMetric(va.metrics[k])), h('td', { class: 'num' }, fmtMetric(vb.metrics[k])), delta(k)),
          ),
          h('tr', null, h('td', null, 'gate'), h('td', { class: 'num' }, gateBadge(va)), h('td', { class: 'num' }, gateBadge(vb)), h('td', null)),
          h(
            'tr',
            null,
            h('td', null, 'held-out rows'),
            h('td', { class: 'num' }, fmtNumber(va.metrics.test_rows)),
            h('td', { class: 'num' }, fmtNumber(vb.metrics.test_rows)),
            h('td', null),
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'grid two' },
      h('section', { class: 'card chart' }, h('h2', null, 'ROC curves'), rocPlot([va, vb], 420)),
      h('section', { class: 'card chart' }, h('h2', null, 'Precision–recall'), prPlot([va, vb], 420)),
    ),
    h('section', { class: 'card chart', id: 'importance' }, h('h2', null, 'Feature importance'), importancePlot([va, vb], 760)),
  );
}

function servingCard(s: Model['serving'][number]): HTMLElement {
  const card = h('section', { class: 'card', id: 'serving' }, h('h2', null, 'Serving: ', h('a', { href: href('node', s.node) }, s.node)));
  if (s.error) card.append(h('p', { class: 'error-text' }, s.error));
  if (!s.byRisk.length) {
    card.append(h('p', { class: 'muted' }, s.table ? `${s.table} has no predictions yet.` : 'No batch table: this serve node scores online only.'));
    return card;
  }
  const total = s.byRisk.reduce((t, r) => t + r.rows, 0);
  const levels = ['high', 'medium', 'low'].filter((l) => s.byRisk.some((r) => r.level === l));
  const hist = s.histogram.map((b) => ({ ...b, level: b.from >= s.riskLevels.high ? 'high' : b.from >= s.riskLevels.medium ? 'medium' : 'low' }));
  card.append(
    h('p', { class: 'muted' }, `${fmtNumber(total)} predictions in ${s.table} · high ≥ ${s.riskLevels.high}, medium ≥ ${s.riskLevels.medium}`),
    h(
      'div',
      { class: 'grid two' },
      Plot.plot({
        width: 380,
        height: 240,
        x: { domain: levels, label: null },
        y: { label: '↑ customers', grid: true },
        color: { domain: Object.keys(RISK_COLORS), range: Object.values(RISK_COLORS) },
        marks: [
          Plot.barY(s.byRisk, { x: 'level', y: 'rows', fill: 'level', rx: 2 }),
          Plot.text(s.byRisk, { x: 'level', y: 'rows', text: (d) => `${fmtNumber(d.rows)} (${((100 * d.rows) / total).toFixed(1)}%)`, dy: -8 }),
          Plot.ruleY([0]),
        ],
      }),
      Plot.plot({
        width: 480,
        height: 240,
        x: { domain: [0, 1], label: `${s.probabilityColumn ?? 'probability'} →` },
        y: { label: '↑ rows', grid: true },
        color: { domain: Object.keys(RISK_COLORS), range: Object.values(RISK_COLORS) },
        marks: [
          Plot.rectY(hist, { x1: 'from', x2: 'to', y: 'rows', fill: 'level', inset: 0.5 }),
          Plot.ruleX([s.riskLevels.medium, s.riskLevels.high], { stroke: '#0f172a', strokeDasharray: '3 3' }),
          Plot.ruleY([0]),
        ],
      }),
    ),
  );
  return card;
}
