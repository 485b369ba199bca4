// The pure rules of ingestion: declared-type compatibility, type mapping, lookback arithmetic,
// connection-setting precedence (password secret over URL password) and URL redaction.

import { describe, expect, it } from 'vitest';
import { declaredAccepts, mysqlToDuck, postgresToDuck } from '../../src/ingest/types.js';
import { lookBack } from '../../src/ingest/source-executor.js';
import { dbConnection, redactUrls } from '../../src/ingest/connection.js';

describe('declared types', () => {
  it.each([
    ['BIGINT', 'INTEGER', true],
    ['INTEGER', 'BIGINT', false],
    ['BIGINT', 'UBIGINT', false],
    ['UBIGINT', 'UINTEGER', true],
    ['DECIMAL(10,2)', 'DECIMAL(10,2)', true],
    ['DECIMAL(12,2)', 'DECIMAL(10,2)', true],
    ['DECIMAL(10,2)', 'DECIMAL(12,2)', false],
    ['DECIMAL(10,1)', 'DECIMAL(10,2)', false],
    ['DECIMAL(21,2)', 'BIGINT', true],
    ['DECIMAL(20,2)', 'BIGINT', false],
    ['DOUBLE', 'DECIMAL(10,2)', true],
    ['VARCHAR', 'TIMESTAMPTZ', true],
    ['TIMESTAMP', 'TIMESTAMPTZ', false],
    ['TIMESTAMPTZ', 'TIMESTAMP', false],
    ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ', true],
    ['numeric(10, 2)', 'DECIMAL(10,2)', true],
    ['JSON', 'JSON', true],
    ['INTEGER', 'VARCHAR', false],
  ])('%s holds %s: %s', (declared, source, ok) => {
    expect(declaredAccepts(declared, source)).toBe(ok);
  });

  it('maps source catalogs to exact DuckDB types', () => {
    expect(postgresToDuck('numeric', 'numeric', 10, 2)).toBe('DECIMAL(10,2)');
    expect(postgresToDuck('numeric', 'numeric', null, null)).toBe('VARCHAR');
    expect(postgresToDuck('numeric', 'numeric', 50, 2)).toBe('VARCHAR');
    expect(postgresToDuck('timestamp with time zone', 'timestamptz', null, null)).toBe('TIMESTAMPTZ');
    expect(postgresToDuck('jsonb', 'jsonb', null, null)).toBe('JSON');
    expect(mysqlToDuck('bigint', 'bigint(20) unsigned', 20, 0, false)).toBe('UBIGINT');
    expect(mysqlToDuck('datetime', 'datetime(6)', null, null, false)).toBe('TIMESTAMP');
    expect(mysqlToDuck('timestamp', 'timestamp', null, null, false)).toBe('TIMESTAMPTZ');
    expect(mysqlToDuck('longtext', 'longtext', null, null, true)).toBe('JSON');
    expect(mysqlToDuck('decimal', 'decimal(65,2)', 65, 2, false)).toBe('VARCHAR');
  });
});

describe('lookback', () => {
  it('moves timestamp, date and integer cursors back by the window', () => {
    expect(lookBack('2025-11-10 00:30:00.250000', 3600, 'TIMESTAMP')).toBe('2025-11-09 23:30:00.250000');
    expect(lookBack('2025-03-01', 86400, 'DATE')).toBe('2025-02-28');
    expect(lookBack('9007199254740993', 10, 'BIGINT')).toBe('9007199254740983');
    expect(lookBack('2025-11-10 00:30:00', undefined, 'TIMESTAMP')).toBe('2025-11-10 00:30:00');
  });
});

describe('connection settings', () => {
  it('the password secret overrides the URL; the URL password serves when the secret is unset; `where` never holds it', () => {
    const a = dbConnection('postgres', { url: 'postgres://asgard:from-url@db.example:6543/customers', password: 'from-secret' });
    expect(a).toMatchObject({ host: 'db.example', port: 6543, database: 'customers', user: 'asgard', password: 'from-secret' });
    const b = dbConnection('mysql', { url: 'mysql://asgard:p%40ss@127.0.0.1/orders' });
    expect(b).toMatchObject({ port: 3306, password: 'p@ss', where: 'mysql 127.0.0.1:3306/orders' });
    const c = dbConnection('postgres', { host: 'h', port: 5433, database: 'd', user: 'u' });
    expect(c).toMatchObject({ host: 'h', port: 5433, database: 'd', user: 'u', password: undefined });
    expect(() => dbConnection('postgres', { url: 'postgres://h/' })).toThrow(/names no database/);
    expect(JSON.stringify([a.where, b.where])).not.toMatch(/from-url|from-secret|p@ss/);
  });

  it('redacts user:password@ in any URL', () => {
    expect(redactUrls('failed: postgres://asgard:s3cret@10.0.0.1:5432/db and mysql://u:p@h/x')).toBe(
      'failed: postgres://asgard:***@10.0.0.1:5432/db and mysql://u:***@h/x',
    );
  });
});
