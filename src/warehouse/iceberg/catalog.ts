// The Iceberg SQL catalog (iceberg-java's JdbcCatalog, pyiceberg's SqlCatalog; Trino's `jdbc`
// catalog type): two tables, `iceberg_tables` (one row per table, pointing at its current metadata
// JSON) and `iceberg_namespace_properties`, created exactly as those implementations create them, so
// Spark, pyiceberg and Trino open the same catalog asgard writes. docs/lakehouse.md says why.
//
// A commit is a compare-and-swap on `metadata_location`:
//   UPDATE iceberg_tables SET metadata_location = new, previous_metadata_location = old
//    WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = old
// One row changed: this writer won. None: someone committed in between, and this commit is refused
// (CommitConflict). Readers follow metadata_location only, so they see the old snapshot or the new
// one, never half of one.
//
// SQLite (better-sqlite3) is the embedded default: a file, no server. PostgreSQL (pg) is for a
// catalog shared by a team and by Spark/Trino clusters.

import type Database from 'better-sqlite3';
import type pg from 'pg';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

// The SQLite driver (native, CommonJS) loads when a catalog is first opened, as pg does (below): a
// command that opens none, such as `plan --base`, never pays for it (test/cli/startup.test.ts).
const sqliteDriver = (): typeof Database => createRequire(import.meta.url)('better-sqlite3') as typeof Database;

export interface TableIdent {
  readonly namespace: string;
  readonly name: string;
}

/** The table changed underneath (another writer committed first), or already exists on create. */
export class CommitConflict extends Error {}

export interface IcebergCatalog {
  /** The `catalog_name` column: the name engines configure the catalog under (e.g. Spark's `iceberg`). */
  readonly name: string;
  /** Where the catalog is, for messages (never with a password). */
  readonly where: string;
  /** The current metadata location, or undefined when the table does not exist. */
  load(t: TableIdent): Promise<string | undefined>;
  /** Register a new table; CommitConflict when it exists. */
  create(t: TableIdent, metadataLocation: string): Promise<void>;
  /** Compare-and-swap the table's metadata location; CommitConflict when it is no longer `expected`. */
  commit(t: TableIdent, expected: string, next: string): Promise<void>;
  drop(t: TableIdent): Promise<void>;
  list(namespace?: string): Promise<TableIdent[]>;
  /** Record the namespace as JdbcCatalog.createNamespace does (property `exists` = `true`). */
  ensureNamespace(namespace: string): Promise<void>;
  /** How another engine's JDBC client (Spark's JdbcCatalog) reaches this catalog. */
  jdbc(): JdbcAccess;
  /** Load the driver it opens with (no connection, no file): see Warehouse.warmUp. */
  warm?(): void;
  close(): Promise<void>;
}

/** A JDBC client's view of a catalog: its URL (never with credentials), the credentials apart. */
export interface JdbcAccess {
  readonly uri: string;
  readonly user?: string;
  readonly password?: string;
  /**
   * Whether several writers may commit at once. SQLite has a single writer: two Spark drivers
   * committing together fail with SQLITE_BUSY even with a long busy timeout, so their jobs run one
   * at a time; PostgreSQL locks the one row a commit swaps.
   */
  readonly concurrentWriters: boolean;
}

/** A `catalog_uri` that names no catalog asgard can open, or carries a password. */
export class CatalogUriError extends Error {}

/**
 * The catalog a profile's `catalog_uri` names: `jdbc:postgresql://host[:port]/database` (as Spark's
 * JdbcCatalog takes it; `postgresql://` also accepted), the user from `user` or the URL's `?user=`,
 * the password only from `password` (a secret() or env() reference in the profile: a URL carrying one
 * is refused, so no password is ever in a spec, a compiled sparkConf or a message).
 */
export function catalogFromUri(uri: string, opts: { readonly user?: string; readonly password?: string; readonly name?: string } = {}): IcebergCatalog {
  const m = /^(?:jdbc:)?(postgres(?:ql)?):\/\//i.exec(uri);
  if (!m)
    throw new CatalogUriError(
      `catalog_uri "${redact(uri)}" is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database); the embedded default needs none (SQLite in the warehouse)`,
    );
  let u: URL;
  try {
    u = new URL(uri.replace(/^jdbc:/i, '').replace(/^postgres(?:ql)?:/i, 'postgres:'));
  } catch {
    throw new CatalogUriError(`catalog_uri "${redact(uri)}" is not a valid URL (jdbc:postgresql://host:port/database)`);
  }
  if (u.password || u.searchParams.has('password'))
    throw new CatalogUriError('catalog_uri must not carry a password: give it as catalog_password = secret("NAME")');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new CatalogUriError(`catalog_uri "${uri}" names no database (jdbc:postgresql://host:port/database)`);
  const user = opts.user ?? (u.username ? decodeURIComponent(u.username) : (u.searchParams.get('user') ?? undefined));
  return new PostgresCatalog(
    {
      host: u.hostname,
      port: u.port ? Number(u.port) : 5432,
      database,
      ...(user ? { user } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    },
    opts.name,
  );
}

const redact = (uri: string): string => uri.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');

// The DDL of iceberg-java's JdbcUtil (schema V0) and pyiceberg's SqlCatalog.
const CREATE_TABLES =
  'CREATE TABLE IF NOT EXISTS iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, ' +
  'table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), ' +
  'PRIMARY KEY (catalog_name, table_namespace, table_name))';
const CREATE_NAMESPACE_PROPERTIES =
  'CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, ' +
  'property_key VARCHAR(255), property_value VARCHAR(1000), PRIMARY KEY (catalog_name, namespace, property_key))';

const conflict = (t: TableIdent, catalog: string) =>
  new CommitConflict(`iceberg table ${t.namespace}.${t.name} was changed by another writer in the catalog ${catalog}; the commit was refused`);

/** The embedded default: the SQL catalog in a SQLite file. */
export class SqliteCatalog implements IcebergCatalog {
  private db?: Database.Database;

  constructor(
    readonly file: string,
    readonly name = 'iceberg',
  ) {}

  get where(): string {
    return this.file;
  }

  warm(): void {
    sqliteDriver();
  }

  private open(): Database.Database {
    if (this.db) return this.db;
    mkdirSync(dirname(this.file), { recursive: true });
    const db = new (sqliteDriver())(this.file, { timeout: 10_000 });
    db.exec(CREATE_TABLES);
    db.exec(CREATE_NAMESPACE_PROPERTIES);
    this.db = db;
    return db;
  }

  async load(t: TableIdent): Promise<string | undefined> {
    const row = this.open()
      .prepare('SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?')
      .get(this.name, t.namespace, t.name) as { metadata_location: string | null } | undefined;
    return row?.metadata_location ?? undefined;
  }

  async create(t: TableIdent, metadataLocation: string): Promise<void> {
    await this.ensureNamespace(t.namespace);
    try {
      this.open()
        .prepare(
          'INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location) VALUES (?, ?, ?, ?, NULL)',
        )
        .run(this.name, t.namespace, t.name, metadataLocation);
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw conflict(t, this.where);
      throw e;
    }
  }

  async commit(t: TableIdent, expected: string, next: string): Promise<void> {
    const r = this.open()
      .prepare(
        'UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? ' +
          'WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?',
      )
      .run(next, expected, this.name, t.namespace, t.name, expected);
    if (r.changes !== 1) throw conflict(t, this.where);
  }

  async drop(t: TableIdent): Promise<void> {
    this.open().prepare('DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?').run(this.name, t.namespace, t.name);
  }

  async list(namespace?: string): Promise<TableIdent[]> {
    const rows = (
      namespace === undefined
        ? this.open().prepare('SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ? ORDER BY 1, 2').all(this.name)
        : this.open()
            .prepare('SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? ORDER BY 1, 2')
            .all(this.name, namespace)
    ) as { table_namespace: string; table_name: string }[];
    return rows.map((r) => ({ namespace: r.table_namespace, name: r.table_name }));
  }

  async ensureNamespace(namespace: string): Promise<void> {
    this.open()
      .prepare('INSERT OR IGNORE INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)')
      .run(this.name, namespace, 'exists', 'true');
  }

  jdbc(): JdbcAccess {
    // sqlite-jdbc gives up on a locked database after 3 s by default: wait for asgard's commits.
    return { uri: `jdbc:sqlite:${this.file}?busy_timeout=120000`, concurrentWriters: false };
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

/** The SQL catalog in PostgreSQL: shared by a team, a CI and Spark/Trino clusters. */
export class PostgresCatalog implements IcebergCatalog {
  private pool?: pg.Pool;
  private ready?: Promise<void>;

  constructor(
    private readonly config: pg.PoolConfig,
    readonly name = 'iceberg',
  ) {}

  get where(): string {
    const c = this.config;
    if (c.connectionString) {
      const u = new URL(c.connectionString);
      u.password = '';
      return u.toString();
    }
    return `postgres://${c.user ?? ''}@${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? ''}`;
  }

  jdbc(): JdbcAccess {
    const c = this.config;
    const at = c.connectionString ? new URL(c.connectionString) : undefined;
    const host = at?.hostname ?? c.host ?? 'localhost';
    const port = at?.port || c.port || 5432;
    const database = at ? decodeURIComponent(at.pathname.replace(/^\//, '')) : (c.database ?? '');
    const user = at?.username ? decodeURIComponent(at.username) : c.user;
    const password = at?.password ? decodeURIComponent(at.password) : typeof c.password === 'string' ? c.password : undefined;
    return {
      uri: `jdbc:postgresql://${host}:${port}/${database}`,
      ...(user ? { user } : {}),
      ...(password !== undefined ? { password } : {}),
      concurrentWriters: true,
    };
  }

  private async q(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    try {
      if (!this.pool) {
        // Loaded here, not at import: a warehouse on the SQLite catalog never loads the driver.
        const { default: driver } = await import('pg');
        // allowExitOnIdle: an idle pool does not keep a finished command's process alive.
        this.pool ??= new driver.Pool({ max: 2, allowExitOnIdle: true, ...this.config });
        // An idle connection the server closed (restart, admin) is dropped; the next query opens another.
        this.pool.on('error', () => undefined);
      }
      this.ready ??= (async () => {
        // Two clients creating the same table at once: one gets a unique violation on the system
        // catalog (23505) or "already exists" (42P07) although the table is there.
        for (const ddl of [CREATE_TABLES, CREATE_NAMESPACE_PROPERTIES]) {
          await this.pool!.query(ddl).catch((e: { code?: string }) => {
            if (e.code !== '23505' && e.code !== '42P07') throw e;
          });
        }
      })().catch((e) => {
        this.ready = undefined;
        throw e;
      });
      await this.ready;
      return await this.pool.query(sql, params);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw e;
      // The driver's messages name neither the catalog nor, for a refused connection, the database.
      throw new Error(`the Iceberg catalog ${this.where}: ${(e as Error).message}`);
    }
  }

  async load(t: TableIdent): Promise<string | undefined> {
    const r = await this.q('SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3', [
      this.name,
      t.namespace,
      t.name,
    ]);
    return r.rows[0]?.metadata_location ?? undefined;
  }

  async create(t: TableIdent, metadataLocation: string): Promise<void> {
    await this.ensureNamespace(t.namespace);
    try {
      await this.q(
        'INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location) VALUES ($1, $2, $3, $4, NULL)',
        [this.name, t.namespace, t.name, metadataLocation],
      );
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw conflict(t, this.where);
      throw e;
    }
  }

  async commit(t: TableIdent, expected: string, next: string): Promise<void> {
    const r = await this.q(
      'UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2 ' +
        'WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $2',
      [next, expected, this.name, t.namespace, t.name],
    );
    if (r.rowCount !== 1) throw conflict(t, this.where);
  }

  async drop(t: TableIdent): Promise<void> {
    await this.q('DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3', [this.name, t.namespace, t.name]);
  }

  async list(namespace?: string): Promise<TableIdent[]> {
    const r =
      namespace === undefined
        ? await this.q('SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = $1 ORDER BY 1, 2', [this.name])
        : await this.q('SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 ORDER BY 1, 2', [
            this.name,
            namespace,
          ]);
    return r.rows.map((x) => ({ namespace: x.table_namespace, name: x.table_name }));
  }

  async ensureNamespace(namespace: string): Promise<void> {
    await this.q(
      'INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [this.name, namespace, 'exists', 'true'],
    );
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
    this.ready = undefined;
  }
}
