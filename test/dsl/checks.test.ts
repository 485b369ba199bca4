// The check items of the language (docs/language.md, "Checks"): names given or derived, the
// expression / relationships / freshness kinds, and the incremental settings they sit beside.

import { describe, expect, it } from 'vitest';
import { loadPipelineText } from '../../src/dsl/load.js';
import type { ModelNode, SourceNode } from '../../src/ir/types.js';

const spec = (body: string) => `pipeline p {
  source files file {
    path = "./data/x.csv"
    stream readings { primary_key = [station, day]  cursor = at
      check freshness(at, warn_after = 6h, error_after = 2d)
    }
    stream stations { primary_key = station }
  }
${body}
}
`;

const load = (body: string) => loadPipelineText(spec(body), '/tmp/p.asg');
const codes = (body: string) => load(body).diagnostics.map((d) => `${d.code} ${d.span?.line}:${d.span?.column} ${d.message}`);

describe('checks', () => {
  it('derives a name for every check, takes a given one, and turns expression and relationships into queries', () => {
    const r = load(`
  model daily {
    sql """ SELECT station, day, kwh FROM bronze.readings """
    check not_null(station)
    check sql """ SELECT * FROM gold.daily WHERE kwh < 0 """
    check sql(name = "no_future_days") """ SELECT * FROM gold.daily WHERE day > CURRENT_DATE """
    check sql """ SELECT * FROM gold.daily WHERE kwh > 1e6 """
    check expression("kwh >= 0 AND kwh < 100000")
    check relationships(station, to = bronze.stations.station)
  }`);
    expect(r.diagnostics).toEqual([]);
    const m = r.ir!.nodes.find((n) => n.id === 'gold.daily') as ModelNode;
    expect(m.checks.map((c) => c.name)).toEqual([
      'not_null(station)',
      'sql_1',
      'no_future_days',
      'sql_3',
      'expression(kwh >= 0 AND kwh < 100000)',
      'relationships(station, bronze.stations.station)',
    ]);
    // The parent of a relationship is a dependency: the check runs after it.
    expect(m.inputs).toEqual(['bronze.readings', 'bronze.stations']);
    expect(m.checks[5].to).toEqual({ table: 'bronze.stations', column: 'station' });
    expect(m.checks[4].sql?.normalized).toMatch(/NOT/);
    const s = r.ir!.nodes.find((n) => n.id === 'bronze.readings') as SourceNode;
    expect(s.stream.checks).toEqual([
      expect.objectContaining({ kind: 'freshness', name: 'freshness(at)', column: 'at', warnAfterSeconds: 21600, errorAfterSeconds: 172800 }),
    ]);
  });

  it('reports bad checks where they are written', () => {
    const d = codes(`
  model daily {
    sql """ SELECT station, day, kwh FROM bronze.readings """
    check sql(name = "dup") """ SELECT 1 """
    check sql(name = "dup") """ SELECT 2 """
    check expression(42)
    check expression("kwh >=> 0")
    check relationships(station, to = bronze.stationz.station)
    check freshness(day, error_after = 1d)
  }`);
    expect(d).toEqual([
      expect.stringMatching(/^ASG2005 13:5 model `daily` has two checks named `dup`/),
      expect.stringMatching(/^ASG2018 14:22 `expression` takes one row-level boolean as a string/),
      expect.stringMatching(/^ASG3001 15:29 SQL syntax error: .* \(at `>`\)/), // the caret under the `>` inside the string
      expect.stringMatching(/^ASG3002 16:39 SQL reads `bronze.stationz`, but no node produces that table/), // under the `to` value
      expect.stringMatching(/^ASG2018 17:11 `freshness` checks are not allowed in model `daily`/),
    ]);
  });

  it('incremental_by without unique_key warns that late rows are missed; lookback needs both', () => {
    const d = codes(`
  model a { materialized = incremental  incremental_by = day
    sql """ SELECT * FROM bronze.readings """ }
  model b { materialized = incremental  incremental_by = day  lookback = 2d
    sql """ SELECT * FROM bronze.readings """ }
  model c { materialized = incremental  incremental_by = day  unique_key = [station, day]  lookback = 2d
    sql """ SELECT * FROM bronze.readings """ }`);
    expect(d).toEqual([
      expect.stringMatching(/^ASG2030 10:41 model `a` takes only rows with `day` newer than the newest it holds: a late row/),
      expect.stringMatching(/^ASG2030 12:41 /),
      expect.stringMatching(/^ASG2011 12:63 `lookback` re-reads rows the table already holds/),
    ]);
    const ir = load(`
  model c { materialized = incremental  incremental_by = day  unique_key = [station, day]  lookback = 2d
    sql """ SELECT * FROM bronze.readings """ }`).ir!;
    expect(ir.nodes.find((n) => n.id === 'gold.c')).toMatchObject({ incrementalBy: 'day', uniqueKey: ['station', 'day'], lookbackSeconds: 172800 });
  });
});
