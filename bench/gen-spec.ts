// A synthetic spec for the parse, plan and compile benches: source streams with declared columns and
// SQL cleanse/model nodes, each reading 1–3 earlier tables with realistic SQL (filters, casts, CTEs,
// joins, aggregates). Every table has the same columns, so every query is also valid to run.
// Deterministic: the same options give the same text.

export interface GenSpecOptions {
  /** Source streams (bronze tables). Default 50. */
  readonly sources?: number;
  /** SQL nodes: the first 40% are cleanses (silver), the rest models (gold). Default 1,000. */
  readonly sqlNodes?: number;
  /** Pipeline name. Default `synthetic`. */
  readonly name?: string;
}

const COLUMNS =
  'id = "BIGINT"  customer_id = "BIGINT"  amount = "DECIMAL(10,2)"  country = "VARCHAR"  status = "VARCHAR"  created_at = "TIMESTAMP"  updated_at = "TIMESTAMP"';
const STREAMS_PER_SOURCE = 10;

/** `generateSpec({ sources: 50, sqlNodes: 1000 })`; a bare number is a total node count (5% sources). */
export function generateSpec(opts: GenSpecOptions | number = {}): string {
  const o: GenSpecOptions =
    typeof opts === 'number' ? { sources: Math.max(1, Math.round(opts / 20)), sqlNodes: opts - Math.max(1, Math.round(opts / 20)) } : opts;
  const nSources = o.sources ?? 50;
  const nSql = o.sqlNodes ?? 1000;
  const nCleanse = Math.round(nSql * 0.4);
  let seed = 0x9e3779b9;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };

  const out: string[] = [
    `pipeline ${o.name ?? 'synthetic'} {`,
    '  warehouse    = "./.asgard/warehouse"',
    '  logical_time = env("ASGARD_LOGICAL_TIME", "2025-11-11T00:00:00Z")',
    '',
  ];
  const bronze: string[] = [];
  for (let s = 0; s * STREAMS_PER_SOURCE < nSources; s++) {
    const type = s % 2 === 0 ? 'postgres' : 'mysql';
    const port = type === 'postgres' ? 5432 : 3306;
    out.push(`  source db${s} ${type} {`);
    out.push(`    url      = env("DB${s}_URL", "${type}://synth@127.0.0.1:${port}/db${s}")`);
    out.push(`    password = secret("DB${s}_PASSWORD")`);
    out.push('    schedule = cron("0 */6 * * *")', '');
    for (let i = s * STREAMS_PER_SOURCE; i < Math.min(nSources, (s + 1) * STREAMS_PER_SOURCE); i++) {
      out.push(`    stream s${i} {`, '      primary_key = id', i % 3 === 0 ? '      mode        = full_refresh' : '      cursor      = updated_at');
      out.push(`      columns     = { ${COLUMNS} }`, '    }');
      bronze.push(`bronze.s${i}`);
    }
    out.push('  }', '');
  }

  const silver: string[] = [];
  const gold: string[] = [];
  for (let i = 0; i < nSql; i++) {
    const isCleanse = i < nCleanse;
    // Cleanses read bronze and earlier silver; models read silver and earlier gold.
    const pool = isCleanse ? (silver.length > 0 && rand(3) === 0 ? silver : bronze) : gold.length > 0 && rand(2) === 0 ? gold : silver;
    const k = 1 + rand(3);
    const reads: string[] = [];
    for (let j = 0; j < k; j++) {
      const t = pool[rand(pool.length)] ?? bronze[0];
      if (!reads.includes(t)) reads.push(t);
    }
    const name = isCleanse ? `c${i}` : `m${i - nCleanse}`;
    out.push(`  ${isCleanse ? 'cleanse' : 'model'} ${name} {`);
    out.push(`    description = "synthetic ${isCleanse ? 'cleanse' : 'model'} ${i} over ${reads.join(', ')}"`);
    if (isCleanse && i % 4 === 0) out.push('    partition_by = [country]');
    if (!isCleanse) out.push(`    materialized = ${i % 10 === 0 ? 'view' : 'table'}`);
    out.push('    sql """', ...sqlFor(reads, i).map((l) => `      ${l}`), '    """');
    out.push('    check not_null(id)');
    if (i % 5 === 0) out.push('    check accepted_values(status, ["active", "inactive", "premium"])');
    out.push('  }', '');
    (isCleanse ? silver : gold).push(`${isCleanse ? 'silver' : 'gold'}.${name}`);
  }
  out.push('}', '');
  return out.join('\n');
}

function sqlFor(reads: readonly string[], i: number): string[] {
  const [a, b, c] = reads;
  if (reads.length === 1) {
    return [
      'SELECT',
      '  id,',
      '  customer_id,',
      '  CAST(amount AS DECIMAL(10,2)) AS amount,',
      '  UPPER(TRIM(country)) AS country,',
      "  CASE WHEN status IN ('active', 'premium') THEN status ELSE 'inactive' END AS status,",
      '  created_at,',
      '  updated_at',
      `FROM ${i % 3 === 0 ? `iceberg.${a}` : a}`,
      `WHERE amount > ${i % 7} AND customer_id IS NOT NULL`,
    ];
  }
  if (reads.length === 2) {
    return [
      'WITH totals AS (',
      '  SELECT customer_id, SUM(amount) AS total, COUNT(*) AS n',
      `  FROM ${b}`,
      `  WHERE created_at >= CURRENT_DATE - INTERVAL ${30 + (i % 60)} DAYS`,
      '  GROUP BY customer_id',
      ')',
      'SELECT',
      '  x.id,',
      '  x.customer_id,',
      '  CAST(x.amount + COALESCE(t.total, 0) AS DECIMAL(10,2)) AS amount,',
      '  x.country,',
      "  CASE WHEN t.n > 5 THEN 'active' ELSE x.status END AS status,",
      '  x.created_at,',
      '  x.updated_at',
      `FROM ${a} x`,
      'LEFT JOIN totals t ON x.customer_id = t.customer_id',
    ];
  }
  return [
    'SELECT',
    '  x.id,',
    '  x.customer_id,',
    '  CAST(SUM(y.amount) AS DECIMAL(10,2)) AS amount,',
    '  MAX(x.country) AS country,',
    "  COALESCE(MAX(z.status), 'inactive') AS status,",
    '  MIN(x.created_at) AS created_at,',
    '  MAX(x.updated_at) AS updated_at',
    `FROM ${a} x`,
    `JOIN ${b} y ON x.customer_id = y.customer_id`,
    `LEFT JOIN ${c} z ON z.id = x.id`,
    `WHERE x.updated_at >= CURRENT_TIMESTAMP() - INTERVAL ${1 + (i % 48)} HOURS`,
    'GROUP BY x.id, x.customer_id',
  ];
}

export default generateSpec;
