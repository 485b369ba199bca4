// Each target's table of what it does per node kind (`kinds`, src/targets/registry.ts KindRole)
// against what it compiles for pipelines/churn.asg, which has a node of every kind: a target
// compiles Kubernetes objects labelled with a node exactly when it `runs` that node's kind, and the
// runner of each kind is what `apply --profile kubernetes` runs the node by (src/kube/deploy.ts).
// Also: the objects read back from the tree without parsing it again (src/targets/files.ts
// yamlDocuments) are what parsing gives.

import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/dsl/load.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { runnerOf, targets } from '../../src/targets/registry.js';
import { NODE_LABEL, kubeObjects } from '../../src/targets/k8s-objects.js';
import { yamlDocuments } from '../../src/targets/files.js';
import { CHURN, compileChurn } from './churn.js';

let ir: PipelineIR;
let files: Map<string, string>;

beforeAll(async () => {
  ir = loadPipeline(CHURN, { sqlCachePath: false }).ir!;
  // churn's profile names an Iceberg SQL catalog: the dbt and feast targets run their nodes only there (dbt/jobs.ts, feast/jobs.ts).
  const r = await compileChurn();
  files = r.files!;
}, 120_000);

describe("targets' roles per node kind", () => {
  it('churn has a node of every kind the tables name', () => {
    const kinds = new Set(ir.nodes.map((n) => n.kind));
    for (const t of targets)
      expect(
        Object.keys(t.kinds).filter((k) => !kinds.has(k as never)),
        t.name,
      ).toEqual([]);
  });

  it('a target compiles objects labelled with a node exactly when it runs the node’s kind, and names what it compiles', () => {
    for (const t of targets) {
      const own = new Map([...files].filter(([p]) => p.startsWith(`${t.name}/`)));
      const labelled = new Set(kubeObjects(own).flatMap((x) => x.object.metadata.labels?.[NODE_LABEL] ?? []));
      for (const n of ir.nodes) {
        const role = t.kinds[n.kind];
        expect(labelled.has(n.id), `${t.name} ${role} ${n.id}`).toBe(role === 'runs');
        if (role === 'syncs' && n.kind === 'source')
          expect(
            [...own.keys()].some((p) => p.includes(`/${n.connector.name}.`)),
            `${t.name} ${n.id}`,
          ).toBe(true);
        if (role === 'compiles')
          expect(
            [...own.values()].some((text) => text.includes(n.name)),
            `${t.name} ${n.id}`,
          ).toBe(true);
      }
    }
  });

  it('every kind has at most one runner; sources are synced, the others run as objects or not at all', () => {
    for (const kind of new Set(ir.nodes.map((n) => n.kind))) {
      const runners = targets.filter((t) => t.kinds[kind] === 'runs' || t.kinds[kind] === 'syncs');
      expect(runners.length, kind).toBeLessThanOrEqual(1);
      const { runner } = runnerOf(kind);
      expect(runner?.target).toBe(runners[0]?.name);
      if (runner?.role === 'syncs') expect(kind).toBe('source');
    }
  });
});

describe('compiled YAML read back', () => {
  it('gives for every file of the tree what parsing its text gives', () => {
    const yaml = [...files].filter(([p]) => /\.ya?ml$/.test(p));
    expect(yaml.length).toBeGreaterThan(10);
    for (const [path, text] of yaml) expect(yamlDocuments(text), path).toEqual(loadAll(text));
  });
});
