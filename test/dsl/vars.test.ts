// Spec variables (docs/language.md, "Variables"): declared with a type and default, used in settings
// and SQL as var("name"), overridden with --var; a new value is the plan's reason for the nodes it
// reaches, and other tools' template syntax in SQL gets a message saying what to write instead.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineText } from '../../src/dsl/load.js';
import type { ModelNode, SourceNode } from '../../src/ir/types.js';
import { renderSql } from '../../src/sql/transpile.js';
import { cli } from '../cli/helpers.js';

const SPEC = `pipeline energy {
  var min_kwh { type = number  default = 0.5  description = "readings below are noise" }
  var region  { default = "north" }
  var days    { type = int  default = 2 }

  source meters file {
    path = "./readings.csv"
    stream readings { primary_key = [meter_id, ts]  lookback = 1d }
  }
  model usage {
    sql """ SELECT meter_id, ts, kwh, var('region') AS region FROM bronze.readings WHERE kwh >= var('min_kwh') """
  }
  model recent {
    materialized = incremental  incremental_by = ts  unique_key = [meter_id, ts]  lookback = 2d
    sql """ SELECT meter_id, ts FROM bronze.readings """
    check row_count(min = var("days"))
  }
}
`;

describe('variables', () => {
  it('substitutes values in settings and SQL, and records which node uses which', () => {
    const r = loadPipelineText(SPEC, '/tmp/energy.asg', { vars: { min_kwh: '1.25' } });
    expect(r.diagnostics).toEqual([]);
    const usage = r.ir!.nodes.find((n) => n.id === 'gold.usage') as ModelNode;
    expect(usage.vars).toEqual({ min_kwh: 1.25, region: 'north' });
    expect(usage.sql.normalized).toMatch(/var\('min_kwh'\)/i); // the fingerprinted SQL keeps the call
    expect(renderSql(usage.sql, { dialect: 'duckdb', tableRef: (id) => id }).sql).toMatch(/kwh >= CAST\(1\.25 AS DOUBLE\)/);
    expect(renderSql(usage.sql, { dialect: 'duckdb', tableRef: (id) => id }).sql).toMatch(/'north' AS region/);
    const recent = r.ir!.nodes.find((n) => n.id === 'gold.recent') as ModelNode;
    expect(recent.vars).toEqual({ days: 2 });
    expect(recent.checks[0]).toMatchObject({ kind: 'row_count', min: 2 });
    expect((r.ir!.nodes.find((n) => n.id === 'bronze.readings') as SourceNode).vars).toBeUndefined();
    expect(r.ir!.variables?.min_kwh).toMatchObject({ type: 'number', value: 1.25, from: 'cli' });
  });

  it('reports bad values, unknown names and other tools\u2019 templates at their place', () => {
    const bad = SPEC.replace("var('region')", "var('regoin')").replace('WHERE kwh', "WHERE {{ var('min_kwh') }} < kwh AND kwh > \${MIN_KWH} AND kwh");
    const r = loadPipelineText(bad, '/tmp/energy.asg', { vars: { days: 'two', nope: '1' } });
    const d = r.diagnostics.map((x) => `${x.code} ${x.span?.line}:${x.span?.column} ${x.message}${x.hint ? ` | ${x.hint}` : ''}`);
    expect(d).toEqual([
      expect.stringMatching(/^ASG2031 1:1 --var nope=…: the spec declares no variable `nope`/),
      expect.stringMatching(/^ASG2031 4:7 --var days=two: var `days` is of type `int`, so its value must be an integer/),
      expect.stringMatching(/^ASG2006 11:39 no variable `regoin` is declared \| did you mean `region`\?/),
      expect.stringMatching(/^ASG3010 11:90 asgard SQL is not a Jinja template: `\{\{ … \}\}` is not expanded \| write `var\('min_kwh'\)`/),
      expect.stringMatching(/^ASG3010 11:127 `\$\{MIN_KWH\}` is not expanded in SQL.* \| declare `var MIN_KWH/),
    ]);
  });

  it('a variable of the wrong type for a setting is one error, not a cascade about the settings beside it', () => {
    const r = loadPipelineText(SPEC.replace('lookback = 2d', 'lookback = var("days")'), '/tmp/energy.asg');
    expect(r.diagnostics.map((x) => `${x.code} ${x.span?.line}:${x.span?.column} ${x.message}`)).toEqual([
      expect.stringMatching(/^ASG2003 14:94 `lookback` must be a duration such as `30d`.*, got the number 2$/),
    ]);
  });

  it('--var on plan shows the variable as the reason for exactly the nodes it reaches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asg-vars-'));
    writeFileSync(join(dir, 'readings.csv'), 'meter_id,ts,kwh\n1,2025-01-01 00:00:00,0.2\n1,2025-01-01 01:00:00,2.0\n');
    writeFileSync(join(dir, 'energy.asg'), SPEC);
    const applied = await cli(['apply', 'energy.asg', '--yes', '--format', 'json'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    const plan = await cli(['plan', 'energy.asg', '--var', 'min_kwh=0.1', '--var', 'region=south', '--format', 'json'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const actions = JSON.parse(plan.stdout).actions as { node: string; action: string; reasons: string[] }[];
    expect(actions.filter((a) => a.action !== 'noop')).toEqual([
      expect.objectContaining({ node: 'gold.usage', action: 'update', reasons: ['var min_kwh changed (0.5 → 0.1)', 'var region changed ("north" → "south")'] }),
    ]);
    const wrong = await cli(['plan', 'energy.asg', '--var', 'min_kwh'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--var min_kwh: write --var NAME=VALUE/);
    const rows = await cli(['apply', 'energy.asg', '--yes', '--var', 'min_kwh=0.1', '--format', 'json'], { cwd: dir });
    expect(rows.code, rows.stderr).toBe(0);
    const q = await cli(['query', 'energy.asg', 'SELECT count(*) AS n FROM gold.usage', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(q.stdout).rows).toEqual([{ n: 2 }]);
  });
});
