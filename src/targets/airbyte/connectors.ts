// Airbyte connector configurations for database sources, in the shape of the Airbyte API's own
// `source-postgres` / `source-mysql` schemas. Connection details that are env() references become
// `${NAME}` placeholders (a URL reference splits into `${NAME_HOST}`, `${NAME_DATABASE}`,
// `${NAME_USER}`); secrets are always `${NAME}` placeholders, never values.

import { extname } from 'node:path';
import type { Connector, Resolvable } from '../../ir/types.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { diag } from '../../diagnostics/catalogue.js';
import { Codes } from '../../diagnostics/catalogue.js';
import { placeholder } from '../settings.js';
import { envName } from '../pipeline.js';

const DEFAULT_PORT: Record<string, number> = { postgres: 5432, mysql: 3306 };

export interface DbConfig {
  host: string;
  port: number;
  database: string;
  username: string;
  password?: string;
}

export function dbConnectionConfig(c: Connector, diags: Diagnostic[]): DbConfig {
  const s = c.settings;
  const out: DbConfig = { host: '', port: DEFAULT_PORT[c.type] ?? 0, database: '', username: '' };
  const url = s.url;
  if (url?.kind === 'literal') {
    try {
      const u = new URL(String(url.value));
      out.host = u.hostname;
      if (u.port) out.port = Number(u.port);
      out.database = decodeURIComponent(u.pathname.replace(/^\//, ''));
      out.username = decodeURIComponent(u.username);
      // A password inside a literal URL is never copied out; `password = secret(…)` carries it.
    } catch {
      diags.push(diag(Codes.InvalidProfileSetting, `source \`${c.name}\`: \`url\` is not a URL`, c.span));
    }
  } else if (url) {
    out.host = `\${${envName(url.name, 'host')}}`;
    out.database = `\${${envName(url.name, 'database')}}`;
    out.username = `\${${envName(url.name, 'user')}}`;
  }
  const str = (v: Resolvable | undefined) => (v === undefined ? undefined : String(placeholder(v)));
  out.host = str(s.host) ?? out.host;
  out.database = str(s.database) ?? out.database;
  out.username = str(s.user) ?? str(s.username) ?? out.username;
  if (s.port) {
    if (s.port.kind === 'literal' && Number.isInteger(Number(s.port.value))) out.port = Number(s.port.value);
    else diags.push(diag(Codes.InvalidProfileSetting, `source \`${c.name}\`: Airbyte needs \`port\` as a literal integer`, c.span));
  }
  const pw = s.password;
  if (pw) {
    if (pw.kind === 'literal') {
      diags.push(
        diag(Codes.InvalidProfileSetting, `source \`${c.name}\`: \`password\` is a literal; compile writes secrets only as references`, c.span, {
          hint: `write \`password = secret("${envName(c.name, 'password')}")\``,
        }),
      );
    } else out.password = `\${${pw.name}}`;
  }
  for (const [k, v] of Object.entries({ host: out.host, database: out.database, username: out.username })) {
    if (!v)
      diags.push(diag(Codes.MissingProfileSetting, `source \`${c.name}\`: no \`${k === 'username' ? 'user' : k}\` (nor a \`url\` that gives it)`, c.span));
  }
  return out;
}

export function postgresConfiguration(c: Connector, diags: Diagnostic[]): Record<string, unknown> {
  const db = dbConnectionConfig(c, diags);
  const schema = c.settings.schema ? String(placeholder(c.settings.schema)) : 'public';
  return {
    sourceType: 'postgres',
    host: db.host,
    port: db.port,
    database: db.database,
    schemas: [schema],
    username: db.username,
    ...(db.password ? { password: db.password } : {}),
    // Cursor columns come from the spec's streams, so the standard (user-defined cursor) method.
    replication_method: { method: 'Standard' },
    tunnel_method: { tunnel_method: 'NO_TUNNEL' },
  };
}

export function mysqlConfiguration(c: Connector, diags: Diagnostic[]): Record<string, unknown> {
  const db = dbConnectionConfig(c, diags);
  return {
    sourceType: 'mysql',
    host: db.host,
    port: db.port,
    database: db.database,
    username: db.username,
    ...(db.password ? { password: db.password } : {}),
    replication_method: { method: 'STANDARD' },
    tunnel_method: { tunnel_method: 'NO_TUNNEL' },
  };
}

/** A file source's folder as written; one given as env() is decided by its default (the deployment reads the same kind of place). */
export function fileFolder(c: Connector): string {
  const folder = c.settings.path;
  return folder === undefined ? '' : folder.kind === 'literal' ? String(folder.value) : folder.kind === 'env' ? (folder.default ?? '') : '';
}

/** Are the source's files read where they are on S3 (else: uploaded to the warehouse bucket by apply)? */
export const readsFromS3 = (c: Connector): boolean => /^s3a?:\/\//.test(fileFolder(c));

/**
 * A `file` source as Airbyte's S3 source (`source-s3`): Airbyte's file source reads one file per
 * source and no globs, its S3 source reads a glob per stream. Files already on S3 (`path =
 * "s3://bucket/folder"`) are read where they are; local files are read from the warehouse bucket
 * under `filesKey` (`<prefix>/_asgard/<pipeline>/files/<connector>`), where `apply --profile`
 * uploads them first (src/cli/kube.ts). One stream per spec stream, its glob the stream's path.
 */
export function fileConfiguration(
  c: Connector,
  streams: readonly { readonly name: string; readonly path?: string; readonly span: Connector['span'] }[],
  bucket: {
    readonly bucket: string;
    readonly filesKey: string;
    readonly endpoint?: Resolvable;
    readonly region?: Resolvable;
    readonly accessKey: Resolvable;
    readonly secretKey: Resolvable;
  },
  diags: Diagnostic[],
): Record<string, unknown> | undefined {
  const where = fileFolder(c);
  const s3 = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(where);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where) && !s3) {
    diags.push(
      diag(
        Codes.UnsupportedConnector,
        `source \`${c.name}\`: Airbyte reads file sources from S3 or from files asgard uploads to the warehouse bucket; \`${where}\` is neither`,
        c.span,
      ),
    );
    return undefined;
  }
  const root = s3 ? s3[2].replace(/\/+$/, '') : bucket.filesKey;
  const formats: Record<string, string> = { csv: 'csv', tsv: 'csv', parquet: 'parquet', json: 'jsonl', ndjson: 'jsonl', jsonl: 'jsonl' };
  const out: Record<string, unknown>[] = [];
  for (const s of streams) {
    const rel = s.path ?? '';
    const format = c.settings.format?.kind === 'literal' ? String(c.settings.format.value) : extname(rel.toLowerCase().replace(/\.(gz|zst)$/, '')).slice(1);
    const filetype = formats[format];
    if (!rel || !filetype) {
      diags.push(
        diag(
          Codes.UnsupportedConnector,
          `source \`${c.name}\`, stream \`${s.name}\`: Airbyte's S3 source needs a stream \`path\` of CSV, Parquet or JSON lines files${rel ? ` (\`${rel}\` is ${format || 'of no known format'})` : ''}`,
          s.span,
        ),
      );
      continue;
    }
    out.push({ name: s.name, globs: [[root, rel].filter(Boolean).join('/')], format: { filetype }, validation_policy: 'Emit Record' });
  }
  return {
    sourceType: 's3',
    bucket: s3 ? s3[1] : bucket.bucket,
    streams: out,
    aws_access_key_id: String(placeholder(bucket.accessKey)),
    aws_secret_access_key: String(placeholder(bucket.secretKey)),
    ...(bucket.endpoint ? { endpoint: String(placeholder(bucket.endpoint)) } : {}),
    ...(bucket.region ? { region_name: String(placeholder(bucket.region)) } : {}),
  };
}
