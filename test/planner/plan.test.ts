import { describe, expect, it } from 'vitest';
import { fingerprintPipeline, redactUrlPassword, sqlForFingerprint } from '../../src/planner/fingerprint.js';
import { buildPlan, diffSchemas, priorFromIr, type PriorNode } from '../../src/planner/plan.js';
import { renderPlanText } from '../../src/planner/plan-render.js';
import { renderPlanMarkdown } from '../../src/planner/plan-markdown.js';
import { cleanse, diamond, model, pipeline, source } from './fixtures.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { mulberry32 } from '../helpers/prng.js';

const planVs = (
  base: PipelineIR,
  next: PipelineIR,
  schemas?: { base?: Map<string, { name: string; type: string }[]>; next?: Map<string, { name: string; type: string }[]> },
) => buildPlan({ ir: next, prior: priorFromIr(base, schemas?.base), against: { kind: 'base', ref: 'base.asg' }, schemas: schemas?.next });
const byNode = (p: ReturnType<typeof buildPlan>) => Object.fromEntries(p.actions.map((a) => [a.node, a]));

describe('fingerprints', () => {
  it('hash the normalised SQL, never its text', () => {
    const a = diamond();
    const b = diamond();
    const reformatted = {
      ...b,
      nodes: b.nodes.map((n) => (n.kind === 'cleanse' ? { ...n, sql: { ...n.sql, text: `  -- a comment\n${n.sql.text}\n` } } : n)),
    } as PipelineIR;
    const fa = fingerprintPipeline(a);
    const fb = fingerprintPipeline(reformatted);
    for (const [id, f] of fa) expect(fb.get(id)!.fingerprint, id).toBe(f.fingerprint);
  });

  it('fold in the parents: an upstream SQL edit changes every dependent, not independent nodes', () => {
    const fa = fingerprintPipeline(diamond());
    const fb = fingerprintPipeline(diamond({ aSql: 'SELECT id FROM bronze.a WHERE id > 0' }));
    const changed = [...fa.keys()].filter((id) => fa.get(id)!.fingerprint !== fb.get(id)!.fingerprint);
    expect(changed).toEqual(['silver.a_clean', 'gold.m']);
  });

  it('keep descriptions out of the data fingerprint', () => {
    const fa = fingerprintPipeline(diamond());
    const fb = fingerprintPipeline(diamond({ aDesc: 'now documented' }));
    expect(fb.get('silver.a_clean')!.fingerprint).toBe(fa.get('silver.a_clean')!.fingerprint);
    expect(fb.get('silver.a_clean')!.metaFingerprint).not.toBe(fa.get('silver.a_clean')!.metaFingerprint);
  });

  it('record env and secret references, never values, and no URL password', () => {
    const ir = pipeline([
      source(
        's',
        {},
        {
          password: { kind: 'secret', name: 'DB_PASSWORD' },
          url: { kind: 'env', name: 'DB_URL', default: 'postgres://bob:hunter2@db:5432/x' },
          host: { kind: 'literal', value: 'mysql://root:pw1@h/db' },
        },
      ),
    ]);
    const def = JSON.stringify(fingerprintPipeline(ir).get('bronze.s')!.definition);
    expect(def).toContain('"secret":"DB_PASSWORD"');
    expect(def).toContain('"env":"DB_URL"');
    expect(def).not.toContain('hunter2');
    expect(def).not.toContain('pw1');
    expect(redactUrlPassword('postgres://bob:hunter2@db/x')).toBe('postgres://bob:***@db/x');
  });

  it('drop SQL comments and whitespace runs, but never inside quotes', () => {
    expect(sqlForFingerprint('/* lead */ SELECT a,  b FROM t /* x */ WHERE c = 1 -- tail\n')).toBe('SELECT a, b FROM t WHERE c = 1');
    expect(sqlForFingerprint('SELECT \'/* not a comment */  --\' AS x, "a  b" FROM t')).toBe('SELECT \'/* not a comment */  --\' AS x, "a  b" FROM t');
    expect(sqlForFingerprint("SELECT 'it''s  /*' FROM t")).toBe("SELECT 'it''s  /*' FROM t");
  });

  it('changes when a secret reference is renamed', () => {
    const mk = (name: string) => pipeline([source('s', {}, { password: { kind: 'secret', name } })]);
    expect(fingerprintPipeline(mk('A')).get('bronze.s')!.fingerprint).not.toBe(fingerprintPipeline(mk('B')).get('bronze.s')!.fingerprint);
  });
});

describe('plan', () => {
  it('creates everything against an empty state, in topological order', () => {
    const p = buildPlan({ ir: diamond(), prior: {} });
    expect(p.actions.map((a) => [a.node, a.action, a.reasons])).toEqual([
      ['bronze.a', 'create', ['never applied']],
      ['bronze.b', 'create', ['never applied']],
      ['silver.a_clean', 'create', ['never applied']],
      ['silver.b_clean', 'create', ['never applied']],
      ['gold.m', 'create', ['never applied']],
      ['gold.solo', 'create', ['never applied']],
    ]);
    expect(p.summary).toEqual({ create: 6, update: 0, replace: 0, delete: 0, noop: 0 });
    expect(byNode(p)['bronze.b'].downstream).toEqual(['silver.b_clean', 'gold.m', 'gold.solo']);
  });

  it('is all noop for an identical spec', () => {
    const p = planVs(diamond(), diamond());
    expect(p.actions.every((a) => a.action === 'noop')).toBe(true);
    expect(renderPlanText(p)).toContain('No changes.');
  });

  it('updates an edited node with the reason and cascades to its dependents', () => {
    const p = byNode(planVs(diamond(), diamond({ aSql: 'SELECT id FROM bronze.a WHERE id > 0' })));
    expect(p['silver.a_clean']).toMatchObject({ action: 'update', reasons: ['sql changed'], downstream: ['gold.m'] });
    expect(p['gold.m']).toMatchObject({ action: 'update', reasons: ['upstream silver.a_clean changed'] });
    expect(p['gold.solo'].action).toBe('noop');
    expect(p['bronze.a'].action).toBe('noop');
  });

  it('treats a description edit as a metadata-only update that does not cascade', () => {
    const p = byNode(planVs(diamond(), diamond({ aDesc: 'documented' })));
    expect(p['silver.a_clean']).toMatchObject({ action: 'update', metadataOnly: true, reasons: ['description changed (metadata only)'] });
    expect(p['gold.m'].action).toBe('noop');
  });

  it('names metadata edits made together with a data change', () => {
    const p = byNode(planVs(diamond(), diamond({ aSql: 'SELECT 5 AS id FROM bronze.a', aDesc: 'documented' })));
    expect(p['silver.a_clean']).toMatchObject({ action: 'update', reasons: ['sql changed', 'description changed'] });
    expect(p['silver.a_clean'].metadataOnly).toBeUndefined();
  });

  it('says "sql changed", not the logical-time dependency it implies', () => {
    const lt = { logicalTime: { kind: 'env', name: 'LT', default: '2025-01-01T00:00:00Z' } } as const;
    const mk = (sql: string) => pipeline([source('a'), cleanse('c', sql, ['bronze.a'])], lt);
    const p = byNode(planVs(mk('SELECT id, CURRENT_TIMESTAMP AS at FROM bronze.a'), mk('SELECT id FROM bronze.a')));
    expect(p['silver.c'].reasons).toEqual(['sql changed']);
    const q = byNode(
      planVs(
        mk('SELECT id, CURRENT_DATE AS d FROM bronze.a'),
        pipeline(mk('SELECT id, CURRENT_DATE AS d FROM bronze.a').nodes, { logicalTime: { kind: 'env', name: 'LT2' } }),
      ),
    );
    expect(q['silver.c'].reasons).toEqual(['logical_time changed']);
  });

  it('replaces on a partitioning change', () => {
    const p = byNode(planVs(diamond(), diamond({ aPartition: ['country'] })));
    expect(p['silver.a_clean']).toMatchObject({ action: 'replace', reasons: ['partition_by changed'] });
    expect(p['gold.m']).toMatchObject({ action: 'update', reasons: ['upstream silver.a_clean changed'] });
  });

  it('replaces an incremental model whose SQL changed', () => {
    const mk = (sql: string) => pipeline([source('a'), model('inc', sql, ['bronze.a'], { materialized: 'incremental', uniqueKey: ['id'] })]);
    expect(byNode(planVs(mk('SELECT id FROM bronze.a'), mk('SELECT id, 1 AS x FROM bronze.a')))['gold.inc'].action).toBe('replace');
  });

  it('names the changed connection setting and replaces the source', () => {
    const mk = (host: string) => pipeline([source('a', {}, { host: { kind: 'literal', value: host } })]);
    expect(byNode(planVs(mk('h1'), mk('h2')))['bronze.a']).toMatchObject({ action: 'replace', reasons: ['settings.host changed'] });
  });

  it('deletes nodes removed from the spec', () => {
    const next = pipeline(diamond().nodes.filter((n) => n.id !== 'gold.solo'));
    const p = planVs(diamond(), next);
    expect(p.actions.at(-1)).toMatchObject({ node: 'gold.solo', kind: 'model', action: 'delete', reasons: ['removed from spec'] });
    expect(p.summary.delete).toBe(1);
  });

  it('reports schema changes; a removed column is breaking and replaces the table', () => {
    const cols = (...c: string[]) => c.map((x) => ({ name: x.split(':')[0], type: x.split(':')[1] }));
    const base = new Map([['silver.a_clean', cols('id:BIGINT', 'email:VARCHAR', 'age:INTEGER')]]);
    const added = new Map([['silver.a_clean', cols('id:BIGINT', 'email:VARCHAR', 'age:INTEGER', 'city:VARCHAR')]]);
    const removed = new Map([['silver.a_clean', cols('id:BIGINT', 'age:BIGINT')]]);
    const edited = diamond({ aSql: 'SELECT id, email, age, city FROM bronze.a' });
    const a = byNode(planVs(diamond(), edited, { base, next: added }))['silver.a_clean'];
    expect(a).toMatchObject({ action: 'update', schemaChanges: [{ column: 'city', change: 'added', to: 'VARCHAR', breaking: false }] });
    const r = byNode(planVs(diamond(), edited, { base, next: removed }))['silver.a_clean'];
    expect(r.action).toBe('replace');
    expect(r.reasons).toEqual(['sql changed', 'column removed or retyped']);
    expect(r.schemaChanges).toEqual([
      { column: 'email', change: 'removed', from: 'VARCHAR', breaking: true },
      { column: 'age', change: 'type_changed', from: 'INTEGER', to: 'BIGINT', breaking: true },
    ]);
  });

  it('diffs schemas case-insensitively on names and types', () => {
    expect(diffSchemas([{ name: 'Id', type: 'bigint' }], [{ name: 'id', type: 'BIGINT' }])).toEqual([]);
  });

  it('plans against state entries (NodeState shape) the same way as against a base', () => {
    const fps = fingerprintPipeline(diamond());
    const prior: Record<string, PriorNode> = {};
    for (const f of fps.values()) prior[f.id] = { kind: f.kind, fingerprint: f.fingerprint, metaFingerprint: f.metaFingerprint, definition: f.definition };
    const p = buildPlan({ ir: diamond({ aSql: 'SELECT 1 AS id FROM bronze.a' }), prior, stateSerial: 7, stateLineage: 'L' });
    expect(p).toMatchObject({ stateSerial: 7, stateLineage: 'L', against: { kind: 'state' } });
    expect(p.summary).toEqual({ create: 0, update: 2, replace: 0, delete: 0, noop: 4 });
  });

  it('renders text and markdown with symbols, reasons, downstream and the summary line', () => {
    const next = pipeline([...diamond({ aSql: 'SELECT 2 AS id FROM bronze.a' }).nodes.filter((n) => n.id !== 'gold.solo'), cleanse('c_new', 'SELECT 1', [])]);
    const p = planVs(diamond(), next);
    const text = renderPlanText(p);
    expect(text).toContain('  ~ silver.a_clean');
    expect(text).toContain('  + silver.c_new');
    expect(text).toContain('  - gold.solo');
    expect(text).toContain('        downstream: gold.m');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Plan: 1 to create, 2 to update, 0 to replace, 1 to delete.');
    expect(text).not.toContain('\x1b[');
    expect(renderPlanText(p, { color: true })).toContain('\x1b[');
    const md = renderPlanMarkdown(p);
    expect(md).toContain('| `silver.a_clean` | cleanse | ~ update |');
    expect(md).toContain('- sql changed');
    expect(md.match(/<details>/g)?.length).toBe(4);
  });
});

describe('dag', () => {
  it('lists every transitive dependent in topological order, past 32 nodes', async () => {
    const { allDownstream, buildDag, downstreamOf } = await import('../../src/planner/dag.js');
    // a chain of 40 cleanses plus a side branch: bit positions cross word boundaries
    const nodes = [source('a'), ...Array.from({ length: 40 }, (_, i) => cleanse(`c${i}`, 'SELECT 1', [i === 0 ? 'bronze.a' : `silver.c${i - 1}`]))];
    nodes.push(model('side', 'SELECT 1', ['silver.c3', 'silver.c35']));
    const dag = buildDag(pipeline(nodes));
    const all = allDownstream(dag);
    for (const id of dag.order) expect(all.get(id), id).toEqual(downstreamOf(dag, id));
    expect(all.get('silver.c38')).toEqual(['silver.c39']);
    expect(all.get('bronze.a')).toHaveLength(41);
    expect(all.get('silver.c36')).toEqual(['silver.c37', 'silver.c38', 'silver.c39']);
  });

  it('lists every transitive dependent as downstreamOf does, on random graphs of up to 300 nodes', async () => {
    const { allDownstream, buildDag, downstreamOf } = await import('../../src/planner/dag.js');
    const random = mulberry32(12);
    for (let round = 0; round < 40; round++) {
      const n = 2 + Math.floor(random() * 300);
      const fanIn = random() * 3;
      // Inputs among the nodes before (a DAG; ids in another order than the topological one).
      const nodes = [
        source('s'),
        ...Array.from({ length: n }, (_, i) => {
          const inputs = new Set(['bronze.s']);
          for (let k = 0; k < fanIn; k++) {
            const j = Math.floor(random() * i);
            if (j < i) inputs.add(`silver.c${j}`);
          }
          return cleanse(`c${i}`, 'SELECT 1', [...inputs]);
        }),
      ];
      const dag = buildDag(pipeline(nodes));
      const all = allDownstream(dag);
      for (const id of dag.order) expect(all.get(id), `round ${round}: ${id}`).toEqual(downstreamOf(dag, id));
    }
  });
});
