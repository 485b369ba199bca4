// Test access to the real S3-compatible server (versitygw) that scripts/s3-server.sh builds and
// starts on loopback, plus a fresh bucket per test so test files can run in parallel.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore, type S3Settings } from '../../src/warehouse/s3-store.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface S3Env {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

let cached: S3Env | undefined;

/** The server's endpoint and credentials; starts (and on first use builds) it when ASGARD_S3_ENDPOINT is not set. */
export function s3Server(): S3Env {
  if (cached) return cached;
  const e = process.env;
  if (e.ASGARD_S3_ENDPOINT && e.ASGARD_S3_ACCESS_KEY && e.ASGARD_S3_SECRET_KEY) {
    cached = { endpoint: e.ASGARD_S3_ENDPOINT, accessKey: e.ASGARD_S3_ACCESS_KEY, secretKey: e.ASGARD_S3_SECRET_KEY };
    return cached;
  }
  const out = execFileSync('bash', ['-c', 'source scripts/s3-server.sh && s3_server_up >&2 && env -0'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_200_000,
  });
  const vars: Record<string, string> = {};
  for (const kv of out.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  cached = { endpoint: vars.ASGARD_S3_ENDPOINT, accessKey: vars.ASGARD_S3_ACCESS_KEY, secretKey: vars.ASGARD_S3_SECRET_KEY };
  return cached;
}

/** The AWS default chain's variables for the test server, for child processes and the SDK. */
export function awsEnv(s = s3Server()): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s.accessKey, AWS_SECRET_ACCESS_KEY: s.secretKey, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
}

/** Put the test server's credentials in this process's environment (the SDK's default chain reads them). */
export function useAwsEnv(): S3Env {
  const s = s3Server();
  Object.assign(process.env, awsEnv(s));
  return s;
}

/** A raw SDK client on the test server (for setup and for checking the protocol itself). */
export function rawClient(s = s3Server()): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Create a bucket with a random name and return it. */
export async function freshBucket(prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  const c = rawClient();
  try {
    await c.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    c.destroy();
  }
  return name;
}

/** An S3ObjectStore on a fresh bucket (credentials from the default chain: call useAwsEnv first). */
export async function freshStore(prefix = 'wh', settings: S3Settings = {}): Promise<S3ObjectStore> {
  const s = s3Server();
  const bucket = await freshBucket();
  return new S3ObjectStore({ bucket, prefix }, { endpoint: s.endpoint, region: 'us-east-1', pathStyle: true, ...settings });
}
