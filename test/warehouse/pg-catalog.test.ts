// The shared Iceberg catalog chosen by a profile: `catalog_uri = "jdbc:postgresql://…"` with the
// user and a secret() password puts every table asgard writes in the SQL catalog's two tables in
// PostgreSQL (the project's own server here), exactly as Spark's JdbcCatalog and pyiceberg's
// SqlCatalog lay them out, so pyiceberg reads them from there; the password is in no file, output
// or message; a bad catalog setting is refused before any work. Two writers committing the same
// table through that catalog: one wins, the other gets a conflict naming the table, nothing is lost.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../src/engine/duckdb.js';
import { StateStore, type PipelineState } from '../../src/planner/state-store.js';
import { catalogFromUri, CommitConflict } from '../../src/warehouse/iceberg/catalog.js';
import { SqliteCatalog } from '../../src/warehouse/iceberg/catalog.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { cli } from '../cli/helpers.js';
import { asgardRows, canonical, pyicebergAt } from '../helpers/pyiceberg.js';
import { filesContaining, services } from '../helpers/services.js';

const spec = (catalog: string) => `pipeline shared_lake {
  source shop file {
    path = "./orders.csv"
    stream orders {
      primary_key = order_id
      columns     = { order_id = "BIGINT"  country = "VARCHAR"  amount = "DOUBLE" }
    }
  }

  model revenue {
    materialized = table
    partition_by = [country]
    sql """ SELECT country, SUM(amount) AS revenue, COUNT(*) AS orders FROM bronze.orders GROUP BY country """
  }

  profile shared {
    target = local
${catalog}
  }
}
`;

const SHARED = `    catalog_uri      = env("LAKE_CATALOG_URI")
    catalog_user     = env("LAKE_CATALOG_USER")
    catalog_password = secret("LAKE_CATALOG_PASSWORD")`;

describe('a PostgreSQL Iceberg catalog chosen by a profile', () => {
  const dbs: string[] = [];
  let admin: pg.Client;
  let cfg: { host: string; port: number; user: string; password: string };

  beforeAll(async () => {
    const s = services();
    const base = new URL(s.CUSTOMER_DB_URL);
    cfg = { host: base.hostname, port: Number(base.port), user: decodeURIComponent(base.username), password: s.CUSTOMER_DB_PASSWORD };
    admin = new pg.Client({ ...cfg, database: 'postgres' });
    await admin.connect();
  });
  afterAll(async () => {
    for (const db of dbs) await admin?.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin?.end();
  });

  /** A database of its own for one test's catalog, and the environment the profile reads it from. */
  const catalogDb = async () => {
    const db = `lake_cat_${Math.random().toString(16).slice(2, 10)}`;
    await admin.query(`CREATE DATABASE "${db}"`);
    dbs.push(db);
    return {
      db,
      env: { LAKE_CATALOG_URI: `jdbc:postgresql://${cfg.host}:${cfg.port}/${db}`, LAKE_CATALOG_USER: cfg.user, LAKE_CATALOG_PASSWORD: cfg.password },
    };
  };
  const catalogRows = async (db: string) => {
    const c = new pg.Client({ ...cfg, database: db });
    await c.connect();
    try {
      return (await c.query('SELECT catalog_name, table_namespace, table_name, metadata_location FROM iceberg_tables ORDER BY 2, 3')).rows;
    } finally {
      await c.end();
    }
  };
  const workspace = (catalog = SHARED) => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-pg-catalog-'));
    writeFileSync(join(dir, 'orders.csv'), 'order_id,country,amount\n1,NL,10\n2,DE,5\n3,NL,2.5\n4,FR,7\n');
    writeFileSync(join(dir, 'p.asg'), spec(catalog));
    return dir;
  };

  it("apply --profile registers every table in PostgreSQL, none in SQLite; pyiceberg reads them there with asgard's rows; the password is nowhere", async () => {
    const { db, env } = await catalogDb();
    const dir = workspace();
    const r = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const state = new StateStore(join(dir, '.asgard'), 'shared_lake').read() as PipelineState;
    const tables = ['bronze.orders', 'gold.revenue'];
    expect(await catalogRows(db)).toEqual(
      tables.map((t) => ({
        catalog_name: 'iceberg',
        table_namespace: t.split('.')[0],
        table_name: t.split('.')[1],
        metadata_location: state.nodes[t].snapshot!.metadataLocation,
      })),
    );
    const local = join(dir, '.asgard', 'warehouse', 'catalog.db');
    if (existsSync(local)) expect(await new SqliteCatalog(local).list()).toEqual([]);

    const py = pyicebergAt(`postgresql+psycopg2://${cfg.user}:${encodeURIComponent(cfg.password)}@${cfg.host}:${cfg.port}/${db}`, {}, ...tables);
    expect(py.tables).toEqual(tables);
    const wh = new Warehouse(join(dir, '.asgard', 'warehouse'));
    for (const [i, t] of tables.entries()) {
      const n = state.nodes[t];
      expect(py.reads[i].current, t).toBe(n.snapshot!.id);
      expect(canonical(py.reads[i].rows), t).toEqual(canonical(await asgardRows(wh, n.snapshot!, n.schema!)));
    }
    expect(py.reads[1].spec.map((f) => f.name)).toEqual(['country']);

    expect(filesContaining(dir, cfg.password)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(cfg.password);

    // A second apply finds every table where the first left it: nothing to do.
    const again = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes', '--format', 'json'], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(new StateStore(join(dir, '.asgard'), 'shared_lake').read().nodes['gold.revenue'].snapshot!.id).toBe(state.nodes['gold.revenue'].snapshot!.id);
  }, 600_000);

  it('refuses a password written in the spec or in catalog_uri, and an unreachable catalog names itself (no stack trace, nothing written)', async () => {
    const { db, env } = await catalogDb();
    const literal = workspace(`    catalog_uri = env("LAKE_CATALOG_URI")\n    catalog_password = "hunter2-in-the-spec"`);
    const a = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes'], { cwd: literal, env });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/p\.asg:\d+:\d+.*catalog_password.*secret\("NAME"\) or env\("NAME"\)/);

    const inUri = workspace(`    catalog_uri = env("LAKE_CATALOG_URI")`);
    const b = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes'], {
      cwd: inUri,
      env: { LAKE_CATALOG_URI: `jdbc:postgresql://${cfg.user}:${cfg.password}@${cfg.host}:${cfg.port}/${db}` },
    });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('profile shared: catalog_uri must not carry a password: give it as catalog_password = secret("NAME")');
    expect(b.stderr).not.toContain(cfg.password);

    const down = workspace();
    const c = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes'], {
      cwd: down,
      env: { ...env, LAKE_CATALOG_URI: `jdbc:postgresql://127.0.0.1:1/${db}` },
    });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`the Iceberg catalog postgres://${cfg.user}@127.0.0.1:1/${db}`);
    expect(c.stderr).not.toMatch(/\n\s+at /);
    expect(c.stderr).not.toContain(cfg.password);
    expect(new StateStore(join(down, '.asgard'), 'shared_lake').read().nodes).toEqual({});
  }, 600_000);

  it('two writers committing the same table through it: exactly one wins, the other is refused naming the table, and nothing is lost', async () => {
    const { db, env } = await catalogDb();
    const dir = workspace();
    const r = await cli(['apply', 'p.asg', '--profile', 'shared', '--yes'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const before = new StateStore(join(dir, '.asgard'), 'shared_lake').read().nodes['gold.revenue'];
    const root = join(dir, '.asgard', 'warehouse');
    // Two writers (two clients of the catalog, as two engines or people), each from the current snapshot.
    const writers = ['AA', 'BB'].map((country) => ({
      country,
      wh: new Warehouse(root, undefined, { catalog: catalogFromUri(env.LAKE_CATALOG_URI, { user: cfg.user, password: cfg.password }) }),
    }));
    const conns = await Promise.all(writers.map(() => openDuck()));
    try {
      const pending = await Promise.all(writers.map((w) => w.wh.begin('gold.revenue', before.schema!, ['country'])));
      await Promise.all(
        writers.map((w, i) => conns[i].run(w.wh.copySql(pending[i], `SELECT '${w.country}' AS country, 1.0::DOUBLE AS revenue, 1::BIGINT AS orders`))),
      );
      const results = await Promise.allSettled(writers.map((w, i) => w.wh.commit(pending[i], conns[i], { base: before.snapshot })));
      const won = results.flatMap((x, i) => (x.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(CommitConflict);
      expect(String(lost.reason.message)).toContain('iceberg table gold.revenue was changed by another writer in the catalog postgres://');
      const winner = (results[won[0]] as PromiseFulfilledResult<Awaited<ReturnType<Warehouse['commit']>>>).value;
      expect((await catalogRows(db)).find((x) => x.table_name === 'revenue')?.metadata_location).toBe(winner.metadataLocation);
      // The winner's snapshot holds the old rows and its own; the applied snapshot is still whole; the loser left no file.
      const rows = (s: typeof winner) => asgardRows(writers[0].wh, s, before.schema!);
      const old = canonical(await rows(before.snapshot!));
      expect(old.length).toBe(3);
      expect(canonical(await rows(winner))).toEqual(
        canonical([...(await rows(before.snapshot!)), { country: writers[won[0]].country, revenue: 1, orders: 1 }]),
      );
      const loser = 1 - won[0];
      expect(existsSync(pending[loser].dir)).toBe(false);
      expect(await writers[0].wh.missingSnapshot(before.snapshot!)).toBeUndefined();
    } finally {
      for (const c of conns) c.closeSync();
      for (const w of writers) await w.wh.tables.catalog.close();
    }
  }, 600_000);
});
