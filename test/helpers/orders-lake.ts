// The orders fixture of the lakehouse tests (test/warehouse/remote-state, test/spark/cluster-apply,
// test/spark/pg-catalog-cluster, test/k8s/spark-run): the orders stream, a pipeline that reads it
// from a CSV file, cleanses it and sums it per country, and asgard as a process (a test can signal
// it, and it loads what a user's process loads).

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../cli/helpers.js';

/** The orders stream (key order_id, cursor placed_at), as a file or a database source declares it. */
export const ORDERS_STREAM = `stream orders {
      primary_key = order_id
      cursor      = placed_at
      columns     = { order_id = "BIGINT"  country = "VARCHAR"  amount = "DOUBLE"  placed_at = "TIMESTAMP" }
    }`;

/** The cleanse's SQL: the valid orders, the country upper-cased. */
export const ORDERS_CLEAN_SQL = 'SELECT order_id, UPPER(country) AS country, amount, placed_at FROM bronze.orders WHERE amount > 0';

export interface OrdersPipeline {
  readonly name: string;
  /** The CSV file (order_id,country,amount,placed_at) the source reads. */
  readonly csv: string;
  /** The profile block(s), indented as inside the pipeline. */
  readonly profiles: string;
  /** The spec's own `warehouse` (default `./.asgard/warehouse`; null: none). */
  readonly warehouse?: string | null;
  readonly cleanseSql?: string;
  /** More nodes, after the cleanse orders_clean. */
  readonly extra?: string;
}

/** bronze.orders from the CSV, silver.orders_clean (checked not null and unique), gold.revenue_by_country. */
export function ordersPipeline(o: OrdersPipeline): string {
  const warehouse = o.warehouse === null ? '' : `  warehouse = "${o.warehouse ?? './.asgard/warehouse'}"\n\n`;
  return `pipeline ${o.name} {
${warehouse}  source files file {
    path = "${o.csv}"
    ${ORDERS_STREAM}
  }

  cleanse orders_clean {
    sql """ ${o.cleanseSql ?? ORDERS_CLEAN_SQL} """
    check not_null(order_id)
    check unique(order_id)
  }
${o.extra ?? ''}
  model revenue_by_country {
    materialized = table
    sql """ SELECT country, COUNT(*) AS orders, SUM(amount) AS revenue FROM silver.orders_clean GROUP BY country """
  }

${o.profiles}
}
`;
}

export interface Proc {
  code: number;
  stdout: string;
  stderr: string;
}

/** `asgard ARGS` as a process, as a user runs it (bin/asgard.js: never stale code); `started` gets the process (to signal it). */
export function asgardProcess(args: string[], opts: { cwd: string; env: Record<string, string> }, started?: (p: ChildProcess) => void): Promise<Proc> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin', 'asgard.js'), ...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started?.(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}
