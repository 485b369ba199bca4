// The S3 implementation of ObjectStore (./object-store.ts), through @aws-sdk/client-s3.
// Credentials come from the AWS default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE
// and ~/.aws, SSO, web identity, instance roles) and never from the spec. Endpoint, region and
// path-style addressing come from the profile (see s3SettingsFromProfile). Requests are retried with
// exponential backoff by the SDK's standard retry strategy; files above `partSize` go up in
// multipart uploads. Every failure is an ObjectStoreError naming the location and what to check,
// or a PreconditionFailed for a conditional write that lost.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { checkKey, normalEtag, ObjectStoreError, PreconditionFailed, type ObjectInfo, type ObjectStore, type PutCondition } from './object-store.js';

// The AWS SDK (CommonJS) loads when the first S3 store is made: a command on a local warehouse
// never pays for it (about half a second of start-up).
type AwsSdk = typeof import('@aws-sdk/client-s3') & typeof import('@aws-sdk/lib-storage') & typeof import('@smithy/node-http-handler');
let sdk: AwsSdk | undefined;
function aws(): AwsSdk {
  const req = createRequire(import.meta.url);
  sdk ??= { ...req('@aws-sdk/client-s3'), ...req('@aws-sdk/lib-storage'), ...req('@smithy/node-http-handler') } as AwsSdk;
  return sdk;
}

export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's root). */
  readonly prefix: string;
}

export interface S3Settings {
  /** `http://127.0.0.1:59000` for an S3-compatible server; absent for AWS itself. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
  readonly pathStyle?: boolean;
  /** Attempts per request, the first included (default 4). */
  readonly maxAttempts?: number;
  /** Multipart part size in bytes (default 8 MiB; S3's minimum is 5 MiB). */
  readonly partSize?: number;
  /**
   * The environment the default chain's first link reads (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_SESSION_TOKEN): the command's own, which is process.env except in in-process runs. Without
   * those variables the rest of the chain (profiles, SSO, web identity, instance roles) applies.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** `s3://bucket/prefix` (or `s3a://`, Hadoop's spelling) → bucket and prefix; undefined for other locations. */
export function parseS3Url(url: string): S3Location | undefined {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) return undefined;
  return { bucket: m[1], prefix: m[2].replace(/^\/+|\/+$/g, '') };
}

export function isS3Url(url: string): boolean {
  return parseS3Url(url) !== undefined;
}

/**
 * S3 settings from a profile's settings (already resolved to values): `s3_endpoint` or `s3.endpoint`,
 * `s3_region` / `s3.region`, `s3_path_style` / `s3.path_style`. A set endpoint defaults to path-style.
 * AWS_REGION / AWS_DEFAULT_REGION give the region when the profile does not.
 */
export function s3SettingsFromProfile(
  settings: Readonly<Record<string, string | number | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): S3Settings {
  const pick = (name: string) => settings[`s3_${name}`] ?? settings[`s3.${name}`];
  const endpoint = pick('endpoint');
  const region = pick('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const pathStyle = pick('path_style');
  return {
    env,
    ...(endpoint !== undefined && endpoint !== '' ? { endpoint: String(endpoint) } : {}),
    ...(region !== undefined && region !== '' ? { region: String(region) } : {}),
    pathStyle: pathStyle === undefined ? endpoint !== undefined && endpoint !== '' : pathStyle === true || pathStyle === 'true',
  };
}

export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly partSize: number;

  constructor(
    readonly where: S3Location,
    readonly settings: S3Settings = {},
  ) {
    this.location = `s3://${where.bucket}${where.prefix ? '/' + where.prefix : ''}`;
    this.partSize = Math.max(5 * 1024 * 1024, settings.partSize ?? 8 * 1024 * 1024);
    const config: S3ClientConfig = {
      region: settings.region ?? 'us-east-1',
      forcePathStyle: settings.pathStyle ?? false,
      maxAttempts: settings.maxAttempts ?? 4,
      retryMode: 'standard',
      // Fail fast on an address nobody listens on; the retry strategy backs off between attempts.
      requestHandler: new (aws().NodeHttpHandler)({ connectionTimeout: 3_000, requestTimeout: 120_000 }),
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.env?.AWS_ACCESS_KEY_ID && settings.env.AWS_SECRET_ACCESS_KEY
        ? {
            credentials: {
              accessKeyId: settings.env.AWS_ACCESS_KEY_ID,
              secretAccessKey: settings.env.AWS_SECRET_ACCESS_KEY,
              ...(settings.env.AWS_SESSION_TOKEN ? { sessionToken: settings.env.AWS_SESSION_TOKEN } : {}),
            },
          }
        : {}),
      // Only the checksums S3 always supported: S3-compatible servers may not know the newer ones.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    // The pinned SDK (package.json) runs on the Node 20 asgard supports; its notice about future
    // versions needing Node 22 would only clutter every command's stderr.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new (aws().S3Client)(config);
  }

  private key(key: string): string {
    checkKey(key);
    return this.where.prefix ? `${this.where.prefix}/${key}` : key;
  }

  async get(key: string) {
    try {
      const r = await this.client.send(new (aws().GetObjectCommand)({ Bucket: this.where.bucket, Key: this.key(key) }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
      return { body, etag: normalEtag(r.ETag) };
    } catch (e) {
      if (isMissingKey(e)) return undefined;
      throw this.explain(e, 'read', key);
    }
  }

  async getIfChanged(key: string, etag: string) {
    try {
      const r = await this.client.send(new (aws().GetObjectCommand)({ Bucket: this.where.bucket, Key: this.key(key), IfNoneMatch: `"${normalEtag(etag)}"` }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
      return { body, etag: normalEtag(r.ETag) };
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304) return 'unchanged' as const;
      if (isMissingKey(e)) return undefined;
      throw this.explain(e, 'read', key);
    }
  }

  async head(key: string) {
    try {
      const r = await this.client.send(new (aws().HeadObjectCommand)({ Bucket: this.where.bucket, Key: this.key(key) }));
      return { key, size: r.ContentLength ?? 0, etag: normalEtag(r.ETag) };
    } catch (e) {
      if (isMissingKey(e)) return undefined;
      throw this.explain(e, 'read', key);
    }
  }

  async put(key: string, body: Buffer | string, cond: PutCondition = {}) {
    try {
      const r = await this.client.send(
        new (aws().PutObjectCommand)({
          Bucket: this.where.bucket,
          Key: this.key(key),
          Body: typeof body === 'string' ? Buffer.from(body) : body,
          ...(cond.ifNoneMatch ? { IfNoneMatch: cond.ifNoneMatch } : {}),
          ...(cond.ifMatch !== undefined ? { IfMatch: `"${normalEtag(cond.ifMatch)}"` } : {}),
        }),
      );
      return { etag: normalEtag(r.ETag) };
    } catch (e) {
      if (isPrecondition(e)) throw new PreconditionFailed(this.location, key);
      throw this.explain(e, 'write', key);
    }
  }

  async upload(key: string, file: string) {
    const size = statSync(file).size;
    try {
      if (size <= this.partSize) {
        const r = await this.client.send(
          new (aws().PutObjectCommand)({ Bucket: this.where.bucket, Key: this.key(key), Body: createReadStream(file), ContentLength: size }),
        );
        return { etag: normalEtag(r.ETag) };
      }
      const up = new (aws().Upload)({
        client: this.client,
        params: { Bucket: this.where.bucket, Key: this.key(key), Body: createReadStream(file) },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      const r = await up.done();
      return { etag: normalEtag(r.ETag) };
    } catch (e) {
      throw this.explain(e, 'write', key);
    }
  }

  async download(key: string, file: string) {
    try {
      const r = await this.client.send(new (aws().GetObjectCommand)({ Bucket: this.where.bucket, Key: this.key(key) }));
      // Into a temporary file renamed into place: a reader never sees half an object.
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await pipeline(r.Body as Readable, createWriteStream(tmp));
        renameSync(tmp, file);
      } finally {
        rmSync(tmp, { force: true });
      }
      return true;
    } catch (e) {
      if (isMissingKey(e)) return false;
      throw this.explain(e, 'read', key);
    }
  }

  async delete(key: string, cond: { readonly ifMatch?: string } = {}) {
    try {
      await this.client.send(
        new (aws().DeleteObjectCommand)({
          Bucket: this.where.bucket,
          Key: this.key(key),
          ...(cond.ifMatch !== undefined ? { IfMatch: `"${normalEtag(cond.ifMatch)}"` } : {}),
        }),
      );
    } catch (e) {
      if (isPrecondition(e)) throw new PreconditionFailed(this.location, key);
      if (isMissingKey(e) && cond.ifMatch === undefined) return;
      if (isMissingKey(e)) throw new PreconditionFailed(this.location, key);
      throw this.explain(e, 'delete', key);
    }
  }

  async list(prefix: string) {
    const out: ObjectInfo[] = [];
    const base = this.where.prefix ? `${this.where.prefix}/` : '';
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(new (aws().ListObjectsV2Command)({ Bucket: this.where.bucket, Prefix: base + prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) {
          if (o.Key) out.push({ key: o.Key.slice(base.length), size: o.Size ?? 0, etag: normalEtag(o.ETag) });
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.explain(e, 'list', prefix);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Close the client's sockets (a CLI run ends sooner). */
  destroy(): void {
    this.client.destroy();
  }

  /** Turn an SDK error into a message a user can act on: what, where, what to check. */
  private explain(e: unknown, op: string, key: string): ObjectStoreError {
    const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
    const where = `${this.location}/${key}`;
    const endpoint = this.settings.endpoint ?? 'AWS S3';
    const code = err.code ?? err.cause?.code ?? err.name ?? '';
    const status = err.$metadata?.httpStatusCode;
    if (
      ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'TimeoutError', 'EAI_AGAIN'].includes(code) ||
      /ECONNREFUSED|ENOTFOUND|socket hang up/.test(err.message ?? '')
    ) {
      return new ObjectStoreError(
        `cannot ${op} ${where}: the S3 endpoint ${endpoint} cannot be reached (${code || err.message}); check the profile's s3_endpoint and that the server runs`,
      );
    }
    if (err.name === 'NoSuchBucket' || code === 'NoSuchBucket') {
      return new ObjectStoreError(
        `cannot ${op} ${where}: the bucket "${this.where.bucket}" does not exist at ${endpoint}; create it or fix the warehouse location`,
      );
    }
    if (
      ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'Forbidden'].includes(err.name ?? '') ||
      status === 403
    ) {
      return new ObjectStoreError(
        `cannot ${op} ${where}: ${endpoint} refused the credentials (${err.name}); check the AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws)`,
      );
    }
    if (err.name === 'CredentialsProviderError' || /Could not load credentials/i.test(err.message ?? '')) {
      return new ObjectStoreError(
        `cannot ${op} ${where}: no AWS credentials were found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials)`,
      );
    }
    return new ObjectStoreError(`cannot ${op} ${where}: ${err.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}`);
  }
}

function isMissingKey(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket');
}

function isPrecondition(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    err.name === 'PreconditionFailed' ||
    err.$metadata?.httpStatusCode === 412 ||
    err.name === 'ConditionalRequestConflict' ||
    err.$metadata?.httpStatusCode === 409
  );
}
