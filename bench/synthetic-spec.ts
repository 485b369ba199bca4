// A synthetic spec of N nodes for the plan bench (used until/unless bench/gen-spec.ts provides one).
// Kept apart from plan.bench.ts because importing a bench module imports bench/run.ts, which runs.

/** 10% sources, 40% cleanses (one source each), 50% models (two upstream tables each). */
export function localSpec(nodes: number): string {
  const nSources = Math.round(nodes / 10);
  const nCleanses = Math.round((nodes * 4) / 10);
  const nModels = nodes - nSources - nCleanses;
  const out = ['pipeline synthetic {', '  warehouse = "./.asgard/warehouse"', ''];
  out.push('  source db postgres {', '    url = env("SYNTH_DB_URL", "postgres://synth@127.0.0.1:5432/synth")', '    password = secret("SYNTH_DB_PASSWORD")');
  for (let i = 0; i < nSources; i++) {
    out.push(`    stream s${i} {`, '      primary_key = id', '      cursor = updated_at');
    out.push('      columns = { id = "BIGINT"  amount = "DECIMAL(10,2)"  country = "VARCHAR"  updated_at = "TIMESTAMP" }', '    }');
  }
  out.push('  }', '');
  for (let i = 0; i < nCleanses; i++) {
    out.push(`  cleanse c${i} {`, `    description = "cleansed stream ${i % nSources}"`, '    sql """');
    out.push(`      SELECT id, CAST(amount AS DOUBLE) AS amount, UPPER(country) AS country, updated_at`);
    out.push(`      FROM bronze.s${i % nSources}`, `      WHERE amount > ${i % 7}`, '    """', '    check not_null(id)', '  }', '');
  }
  const tables = Array.from({ length: nCleanses }, (_, i) => `silver.c${i}`);
  for (let i = 0; i < nModels; i++) {
    const a = tables[(i * 7) % tables.length];
    const b = tables[(i * 13 + 5) % tables.length];
    out.push(`  model m${i} {`, '    materialized = table', '    sql """');
    out.push('      SELECT a.id, a.country, SUM(a.amount) AS amount, COUNT(b.id) AS matches, MAX(a.updated_at) AS updated_at');
    out.push(`      FROM ${a} a`, `      LEFT JOIN ${b} b ON a.id = b.id`, '      GROUP BY a.id, a.country', '    """', '  }', '');
    tables.push(`gold.m${i}`);
  }
  out.push('}', '');
  return out.join('\n');
}
