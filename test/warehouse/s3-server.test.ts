// The S3 server the project runs (versitygw, scripts/s3-server.sh) honours the protocol the lock and
// the state's compare-and-swap rely on: conditional writes (If-None-Match: *, If-Match) and
// conditional deletes answer 412 when the condition does not hold, and exactly one of many racing
// creates wins. Then S3ObjectStore over it: round trips, multipart uploads, listing, errors.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStoreError, PreconditionFailed } from '../../src/warehouse/object-store.js';
import { S3ObjectStore, parseS3Url, s3SettingsFromProfile } from '../../src/warehouse/s3-store.js';
import { freshBucket, freshStore, rawClient, s3Server, useAwsEnv } from '../helpers/s3.js';

const status = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
};

describe('the S3 server honours conditional writes', () => {
  let bucket: string;
  const c = () => rawClient();
  beforeAll(async () => {
    s3Server();
    bucket = await freshBucket('cond');
  });

  it('If-None-Match: * creates an absent key and fails with 412 when it exists', async () => {
    const k = 'lock-a';
    expect(await status(c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'first', IfNoneMatch: '*' })))).toBe(200);
    expect(await status(c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'second', IfNoneMatch: '*' })))).toBe(412);
    const got = await c().send(new GetObjectCommand({ Bucket: bucket, Key: k }));
    expect(await got.Body!.transformToString()).toBe('first');
  });

  it('If-Match replaces only the version whose ETag it names (a stale ETag gets 412)', async () => {
    const k = 'state-a';
    const v1 = await c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'v1' }));
    const v2 = await c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'v2', IfMatch: v1.ETag }));
    expect(v2.ETag).not.toBe(v1.ETag);
    expect(await status(c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'v3', IfMatch: v1.ETag })))).toBe(412);
    const got = await c().send(new GetObjectCommand({ Bucket: bucket, Key: k }));
    expect(await got.Body!.transformToString()).toBe('v2');
  });

  it('DeleteObject with a stale If-Match fails with 412 and keeps the object', async () => {
    const k = 'lock-b';
    const v1 = await c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'one' }));
    const v2 = await c().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'two' }));
    expect(await status(c().send(new DeleteObjectCommand({ Bucket: bucket, Key: k, IfMatch: v1.ETag })))).toBe(412);
    expect(await status(c().send(new GetObjectCommand({ Bucket: bucket, Key: k })))).toBe(200);
    expect(await status(c().send(new DeleteObjectCommand({ Bucket: bucket, Key: k, IfMatch: v2.ETag })))).toBe(200);
    expect(await status(c().send(new GetObjectCommand({ Bucket: bucket, Key: k })))).toBe(404);
  });

  it('of 8 racing If-None-Match: * creates exactly one wins', async () => {
    const k = `race-${randomBytes(3).toString('hex')}`;
    const codes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => status(rawClient().send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `writer ${i}`, IfNoneMatch: '*' })))),
    );
    expect(codes.filter((x) => x === 200)).toHaveLength(1);
    expect(codes.filter((x) => x !== 200).every((x) => x === 412 || x === 409)).toBe(true);
  });
});

describe('S3ObjectStore', () => {
  let store: S3ObjectStore;
  const dir = mkdtempSync(join(tmpdir(), 'asgard-s3-'));
  beforeAll(async () => {
    useAwsEnv();
    store = await freshStore('warehouse', { partSize: 5 * 1024 * 1024 });
  });
  afterAll(() => store?.destroy());

  it('round-trips objects under its prefix and lists them by key', async () => {
    await store.put('a/x.json', '{"x":1}');
    await store.put('a/y.json', Buffer.from('yy'));
    await store.put('b/z.json', 'z');
    expect((await store.get('a/x.json'))!.body.toString()).toBe('{"x":1}');
    expect(await store.get('a/missing')).toBeUndefined();
    expect((await store.list('a/')).map((o) => o.key)).toEqual(['a/x.json', 'a/y.json']);
    await store.delete('a/x.json');
    await store.delete('a/never-there');
    expect((await store.list('a/')).map((o) => o.key)).toEqual(['a/y.json']);
  });

  it('maps 412 to PreconditionFailed for creates, replaces and deletes', async () => {
    const first = await store.put('cas', 'one', { ifNoneMatch: '*' });
    await expect(store.put('cas', 'two', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailed);
    const second = await store.put('cas', 'two', { ifMatch: first.etag });
    await expect(store.put('cas', 'three', { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(store.delete('cas', { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailed);
    await store.delete('cas', { ifMatch: second.etag });
    expect(await store.get('cas')).toBeUndefined();
  });

  it('uploads a file larger than the part size in a multipart upload, byte for byte', async () => {
    const big = randomBytes(12 * 1024 * 1024 + 17);
    const f = join(dir, 'big.bin');
    writeFileSync(f, big);
    const r = await store.upload('big/file.bin', f);
    // A multipart ETag is "<md5 of the part md5s>-<parts>": 3 parts of at most 5 MiB.
    expect(r.etag).toMatch(/-3$/);
    const back = join(dir, 'back.bin');
    expect(await store.download('big/file.bin', back)).toBe(true);
    expect(readFileSync(back).equals(big)).toBe(true);
    expect(await store.download('big/none.bin', join(dir, 'none'))).toBe(false);
  });
});

describe('S3 failures name the location and what to check', () => {
  beforeAll(() => useAwsEnv());

  it('an unreachable endpoint', async () => {
    const s = new S3ObjectStore({ bucket: 'b', prefix: 'p' }, { endpoint: 'http://127.0.0.1:9', pathStyle: true, maxAttempts: 2 });
    const e = await s.get('k').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect((e as Error).message).toMatch(/cannot read s3:\/\/b\/p\/k: the S3 endpoint http:\/\/127\.0\.0\.1:9 cannot be reached/);
  });

  it('a missing bucket', async () => {
    const s = new S3ObjectStore({ bucket: `no-such-${randomBytes(4).toString('hex')}`, prefix: '' }, { endpoint: s3Server().endpoint, pathStyle: true });
    const e = await s.put('k', 'v').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect((e as Error).message).toMatch(/the bucket "no-such-[0-9a-f]+" does not exist/);
  });

  it('wrong credentials (never echoed)', async () => {
    const bucket = await freshBucket('creds');
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret-0123';
    try {
      const s = new S3ObjectStore({ bucket, prefix: '' }, { endpoint: s3Server().endpoint, pathStyle: true });
      const e = await s.put('k', 'v').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ObjectStoreError);
      expect((e as Error).message).toMatch(/refused the credentials/);
      expect((e as Error).message).not.toContain('not-the-secret-0123');
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });
});

describe('locations and settings', () => {
  it('parses s3:// and s3a:// locations', () => {
    expect(parseS3Url('s3://lake/warehouse/')).toEqual({ bucket: 'lake', prefix: 'warehouse' });
    expect(parseS3Url('s3a://lake')).toEqual({ bucket: 'lake', prefix: '' });
    expect(parseS3Url('./.asgard/warehouse')).toBeUndefined();
  });

  it('reads endpoint, region and path-style from profile settings; an endpoint implies path-style', () => {
    expect(s3SettingsFromProfile({ s3_endpoint: 'http://127.0.0.1:59000' }, {})).toEqual({ env: {}, endpoint: 'http://127.0.0.1:59000', pathStyle: true });
    expect(s3SettingsFromProfile({ 's3.region': 'eu-west-1', 's3.path_style': false }, {})).toEqual({ env: {}, region: 'eu-west-1', pathStyle: false });
    expect(s3SettingsFromProfile({}, { AWS_REGION: 'us-west-2' })).toMatchObject({ region: 'us-west-2', pathStyle: false });
  });
});
