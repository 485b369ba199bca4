// The Airbyte API client of `apply --profile kubernetes` (src/kube/airbyte.ts) against the test
// server (./airbyte-server.ts), which checks every request against the official Airbyte OpenAPI
// document and plays the sync jobs: objects are found by name (a second apply creates nothing),
// placeholders are filled from ids and the environment, records and bytes are reported, the objects
// of a removed connector are deleted and no other, a failed job and a missing variable are clear
// errors that carry no secret value.

import { randomUUID } from 'node:crypto';
import { load } from 'js-yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Airbyte } from '../../src/kube/airbyte.js';
import { compileChurn } from '../targets/churn.js';
import { AirbyteStandIn } from './airbyte-server.js';

let tree: Map<string, string>;
let server: AirbyteStandIn | undefined;

const ENV = {
  CUSTOMER_DB_PASSWORD: 'pw-not-to-be-printed',
  TRANSACTIONS_DB_PASSWORD: 'pw-2',
  // The other connector's host, database and user come from its URL (the compiled split of url = env(…)).
  TRANSACTIONS_DB_URL: 'mysql://reader@db.internal:3306/orders',
  CUSTOMER_DB_URL_HOST: '127.0.0.1',
  CUSTOMER_DB_URL_DATABASE: 'customers',
  CUSTOMER_DB_URL_USER: 'asgard',
  AWS_ACCESS_KEY_ID: 'test-key-id',
  AWS_SECRET_ACCESS_KEY: 'test-secret-key',
  S3_ENDPOINT: 'http://127.0.0.1:59000',
};

beforeAll(async () => {
  const r = await compileChurn();
  tree = r.files!;
});

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function client(env: Record<string, string> = ENV, jobs?: ConstructorParameters<typeof AirbyteStandIn>[0]) {
  server = new AirbyteStandIn(jobs);
  const url = await server.start();
  return new Airbyte({ url, workspaceId: server.workspaceId, env, timeoutSeconds: 30, pollMs: 10 }, tree);
}

describe('Airbyte through its public API', () => {
  it('creates the destination, source and connection, syncs, and reports records and bytes; every request conforms', async () => {
    const a = await client(ENV, { jobs: () => ({ status: 'succeeded', rows: 1234, bytes: 56789 }) });
    const progress: string[] = [];
    const r = await a.sync('customer_db', (m) => progress.push(m));
    expect(r).toMatchObject({ rows: 1234, bytes: 56789 });
    expect(server!.invalid).toEqual([]);
    expect(server!.destinations.size).toBe(1);
    expect([...server!.sources.values()].map((s) => s.name)).toEqual(['churn-customer_db']);
    const conn = [...server!.connections.values()][0];
    expect(conn.name).toBe('churn-customer_db-to-bronze');
    expect(conn.sourceId).toBe([...server!.sources.keys()][0]);
    expect(conn.destinationId).toBe([...server!.destinations.keys()][0]);
    const src = [...server!.sources.values()][0];
    expect(src.configuration.password).toBe('pw-not-to-be-printed');
    expect(src.configuration.host).toBe('127.0.0.1');
    expect(progress.some((m) => /running/.test(m))).toBe(true);
    // Two streams of one connector share one sync.
    expect(await a.sync('customer_db')).toBe(r);
    expect(server!.jobs.size).toBe(1);
  });

  it('a second apply finds everything by name: updated in place, nothing created twice', async () => {
    const first = await client();
    await first.sync('customer_db');
    await first.sync('transaction_system');
    const again = new Airbyte({ ...first.opts }, tree);
    await again.sync('customer_db');
    await again.sync('transaction_system');
    expect(server!.invalid).toEqual([]);
    expect(server!.destinations.size).toBe(1);
    expect(server!.sources.size).toBe(2);
    expect(server!.connections.size).toBe(2);
    expect(again.requests.filter((r) => r.startsWith('POST /sources') || r.startsWith('POST /destinations') || r.startsWith('POST /connections'))).toEqual([]);
    expect(again.requests.filter((r) => r.startsWith('PATCH '))).toHaveLength(5);
    const tx = [...server!.sources.values()].find((x) => x.name === 'churn-transaction_system')!;
    expect([tx.configuration.host, tx.configuration.database, tx.configuration.username]).toEqual(['db.internal', 'orders', 'reader']);
  });

  it("a custom (declarative) source: its compiled manifest published, created under that definition id, its configuration checked against the manifest's spec", async () => {
    server = new AirbyteStandIn();
    const url = await server.start();
    // What the tree's airbyte/README.md asks of the user: publish custom/<source>.manifest.yaml, export its definition id.
    const definitionId = server.publishDeclarative(load(tree.get('airbyte/custom/support_api.manifest.yaml')!) as Record<string, unknown>);
    const env = {
      ...ENV,
      SUPPORT_API_URL: 'http://tickets.internal:8080',
      SUPPORT_API_TOKEN: 'token-not-to-be-printed',
      AIRBYTE_DEFINITION_ID_SUPPORT_API: definitionId,
    };
    const a = new Airbyte({ url, workspaceId: server.workspaceId, env, timeoutSeconds: 30, pollMs: 10 }, tree);
    await a.sync('support_api');
    // Again, as a second apply: the source is found by name and patched, its configuration checked the same way.
    await new Airbyte({ ...a.opts }, tree).sync('support_api');
    expect(server.invalid).toEqual([]);
    expect([...server.sources.values()].map((s) => [s.name, s.definitionId, s.configuration])).toEqual([
      ['churn-support_api', definitionId, { base_url: 'http://tickets.internal:8080', api_token: 'token-not-to-be-printed' }],
    ]);
    expect(server.requests.filter((r) => r.startsWith('PATCH /sources/'))).toHaveLength(1);
    // Refused: a definition id never published, a configuration the manifest's spec does not admit, neither id nor sourceType.
    const create = (body: object) => server!.handle('POST', '/v1/sources', JSON.stringify({ name: 'x', workspaceId: server!.workspaceId, ...body })).status;
    expect(create({ definitionId: randomUUID(), configuration: { base_url: 'u', api_token: 't' } })).toBe(400);
    expect(create({ definitionId, configuration: { base_url: 'u' } })).toBe(400);
    expect(create({ configuration: { base_url: 'u', api_token: 't' } })).toBe(400);
    expect(server.invalid).toHaveLength(3);
    expect(() => server!.publishDeclarative({ type: 'DeclarativeSource', streams: [] })).toThrow(/not a low-code connector manifest/);
  });

  it("deletes what it made for connectors the spec no longer has, found by asgard's names: connection, source, and the destination once no source is left; nothing else", async () => {
    const a = await client();
    await a.sync('customer_db');
    await a.sync('transaction_system');
    const s = server!;
    const add = <T extends Record<string, unknown>>(m: Map<string, T>, id: string, x: T) => m.set(String(x[id]), x);
    // Not churn's: a source under churn's name for a connector `x`, synced to another pipeline's destination.
    const other = { destinationId: randomUUID(), name: 'other-bronze', destinationType: 's3', workspaceId: s.workspaceId, configuration: {} };
    const foreign = { sourceId: randomUUID(), name: 'churn-x', sourceType: 'postgres', workspaceId: s.workspaceId, configuration: {} };
    add(s.destinations, 'destinationId', other);
    add(s.sources, 'sourceId', foreign);
    add(s.connections, 'connectionId', {
      connectionId: randomUUID(),
      name: 'churn-x-to-bronze',
      sourceId: foreign.sourceId,
      destinationId: other.destinationId,
      workspaceId: s.workspaceId,
    });
    // Left by an apply that stopped between creating a source and its connection.
    add(s.sources, 'sourceId', { sourceId: randomUUID(), name: 'churn-gone', sourceType: 'postgres', workspaceId: s.workspaceId, configuration: {} });
    const names = (m: Map<string, { name?: unknown }>) => [...m.values()].map((x) => x.name).sort();

    // transaction_system removed from the spec.
    const next = new Airbyte({ ...a.opts }, tree);
    expect(await next.sweep('churn', new Set(['customer_db', 'support_api']))).toEqual([
      'Airbyte connection churn-transaction_system-to-bronze (its source is no longer in the spec)',
      'Airbyte source churn-transaction_system (no longer in the spec)',
      'Airbyte source churn-gone (no longer in the spec)',
    ]);
    expect(names(s.sources)).toEqual(['churn-customer_db', 'churn-x']);
    expect(names(s.connections)).toEqual(['churn-customer_db-to-bronze', 'churn-x-to-bronze']);
    expect(names(s.destinations)).toEqual(['churn-bronze', 'other-bronze']);
    // No source left in the spec: the destination goes too.
    expect(await next.sweep('churn', new Set())).toEqual([
      'Airbyte connection churn-customer_db-to-bronze (its source is no longer in the spec)',
      'Airbyte source churn-customer_db (no longer in the spec)',
      'Airbyte destination churn-bronze (no source of the spec needs it)',
    ]);
    expect([names(s.sources), names(s.connections), names(s.destinations)]).toEqual([['churn-x'], ['churn-x-to-bronze'], ['other-bronze']]);
    // Nothing left to delete: it only reads.
    expect(await next.sweep('churn', new Set())).toEqual([]);
    expect(next.requests.filter((r) => !r.startsWith('GET ')).map((r) => r.replace(/[0-9a-f-]{36}$/, 'ID'))).toEqual([
      'DELETE /connections/ID',
      'DELETE /sources/ID',
      'DELETE /sources/ID',
      'DELETE /connections/ID',
      'DELETE /sources/ID',
      'DELETE /destinations/ID',
    ]);
    expect(s.invalid).toEqual([]);
  });

  it('a failed sync job is an error naming the job and the connection', async () => {
    const a = await client(ENV, { jobs: () => ({ status: 'failed' }) });
    await expect(a.sync('customer_db')).rejects.toThrow(/Airbyte sync job 1 of connection [0-9a-f-]{36} failed/);
  });

  it('a placeholder without a value names the variable and the file, never a value', async () => {
    const { CUSTOMER_DB_PASSWORD: _, ...env } = ENV;
    const a = await client(env);
    const e = await a.sync('customer_db').catch((x: Error) => x);
    expect((e as Error).message).toMatch(/airbyte\/sources\/customer_db\.yaml: \$\{CUSTOMER_DB_PASSWORD\} has no value: export CUSTOMER_DB_PASSWORD/);
    expect((e as Error).message).not.toContain('test-secret-key');
  });

  it('the test server refuses what the OpenAPI document does not allow (it is not a yes-machine)', async () => {
    const s = new AirbyteStandIn();
    expect(
      s.handle('POST', '/v1/sources', JSON.stringify({ name: 'x', workspaceId: s.workspaceId, configuration: { sourceType: 'postgres', host: 'h' } })).status,
    ).toBe(400);
    expect(s.handle('GET', '/v1/sources?workspace=1', '').status).toBe(400);
    expect(s.handle('POST', '/v1/syncs', '{}').status).toBe(400);
    expect(s.invalid).toHaveLength(3);
  });
});
