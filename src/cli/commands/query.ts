// `asgard query SPEC "SQL"`: read-only SQL over the applied warehouse.

import { CliError, EXIT, type Command } from '../command.js';
import { loadValidSpec } from '../spec.js';
import { warehouseOf } from '../engine-access.js';
import { formatsOf, show } from '../view.js';
import { resultSetView } from '../views/result-set.js';
import { openReadOnlyWarehouse, QueryError, runReadOnlyQuery } from '../../engine/query.js';

export const command: Command = {
  usage: 'asgard query SPEC "SQL" [--limit N] [--format text|json|csv]',
  help: `
Runs one SELECT (Spark SQL, like the spec's bodies) over the tables the last apply committed:
bronze.<stream>, silver.<cleanse>, gold.<model> and features.<view> (the latest row per entity);
the seed's iceberg.<layer>.<table> names work too. Anything but a single SELECT is refused, as are
functions that read files or URLs and tables outside the warehouse. --limit caps the rows (default
10000); --format json prints {"columns":[{"name","type"}],"rows":[{...}]} with 64-bit integers as
numbers when exact (else strings) and decimals as strings.

Examples:
  asgard query pipelines/churn.asg "SELECT status, count(*) AS n FROM silver.customers_cleaned GROUP BY status"
  asgard query pipelines/churn.asg "SELECT * FROM gold.customer_metrics LIMIT 5" --format json`,
  options: [
    { name: 'limit', type: 'string', arg: 'N', description: 'at most N rows (default 10000)' },
    { name: 'timeout', type: 'string', arg: 'SECONDS', description: 'stop the query after this long (default 300)' },
  ],
  formats: formatsOf(resultSetView),
  positionals: [2, 2],
  async run(ctx) {
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    const limit = positiveInt(ctx.str('limit') ?? '10000', '--limit');
    const timeout = positiveInt(ctx.str('timeout') ?? '300', '--timeout');
    const { state, warehouse } = await warehouseOf(ctx, spec.ir, spec.file);
    const conn = await openReadOnlyWarehouse(state, warehouse, spec.ir);
    try {
      const r = await runReadOnlyQuery(conn, ctx.positionals[1], { limit, timeoutMs: timeout * 1000 });
      show(ctx, resultSetView, { result: r, ...(r.truncated ? { note: `— truncated at --limit ${limit}` } : {}) });
      return EXIT.ok;
    } catch (e) {
      if (e instanceof QueryError) {
        if (e.code === 'refused' || e.code === 'invalid') throw new CliError(e.message, EXIT.invalid);
        throw new CliError(e.message, EXIT.failed);
      }
      throw e;
    } finally {
      conn.closeSync();
    }
  },
};

function positiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${flag} must be a positive integer, not "${s}"`);
  return n;
}
