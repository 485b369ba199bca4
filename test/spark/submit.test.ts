// spark-submit on the real Spark standalone cluster (scripts/spark-cluster.sh): a driver that fails
// reports its own error in the tail, secrets never reach the command line, the tail or a file left
// behind.

import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { driverTail, mask, sparkSubmit } from '../../src/spark/submit.js';
import { sparkCluster } from '../helpers/spark.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PY = process.env.ASGARD_SPARK_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

describe('driverTail and mask', () => {
  it('keeps a Python traceback whole and drops INFO chatter', () => {
    const lines = [
      '25/12/02 02:00:00 INFO SparkContext: Running Spark version 4.0.1',
      'some job output',
      'Traceback (most recent call last):',
      '  File "runner.py", line 3, in <module>',
      'pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] nope',
      '25/12/02 02:00:01 INFO ShutdownHookManager: Shutdown hook called',
    ];
    expect(driverTail(lines)).toBe(lines.slice(2, 5).join('\n'));
  });

  it('shortens a long output to its head and end', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const t = driverTail(lines, 10).split('\n');
    expect(t).toHaveLength(10);
    expect(t[t.length - 1]).toBe('line 99');
  });

  it('masks every occurrence of a secret', () => {
    expect(mask('key=abcd1234 again abcd1234', ['abcd1234'])).toBe('key=*** again ***');
  });
});

describe('sparkSubmit on the standalone cluster', () => {
  beforeAll(() => {
    sparkCluster();
  });

  it('a failing driver: exit code, its exception in the tail, the secret masked, no properties file left', async () => {
    const spark = sparkCluster();
    const dir = mkdtempSync(join(tmpdir(), 'asgard-submit-'));
    const job = join(dir, 'job.py');
    writeFileSync(
      job,
      [
        'import os, sys',
        'from pyspark.sql import SparkSession',
        'spark = SparkSession.builder.getOrCreate()',
        // The executors see the secret through spark.executorEnv, not through any argument.
        'seen = spark.sparkContext.parallelize([1, 2], 2).map(lambda _: os.environ.get("JOB_SECRET", "")).collect()',
        'print("executors saw the secret:", all(s == os.environ["JOB_SECRET"] for s in seen), flush=True)',
        'try:',
        '    spark.sql("SELECT no_such_column FROM range(3)").collect()',
        'except Exception as e:',
        '    raise RuntimeError("job failed, leaking " + os.environ["JOB_SECRET"]) from e',
      ].join('\n'),
    );
    const secret = 'Sup3r-s3cret-value';
    const workDir = join(dir, 'work');
    const r = await sparkSubmit({
      sparkHome: spark.sparkHome,
      javaHome: spark.javaHome || undefined,
      master: spark.master,
      name: 'asgard-test-failing-driver',
      main: job,
      args: [],
      conf: { 'spark.ui.enabled': 'false', 'spark.driver.memory': '512m', 'spark.executor.memory': '512m', 'spark.cores.max': '2', 'spark.pyspark.python': PY },
      env: { JOB_SECRET: secret },
      secrets: [secret],
      workDir,
    });
    expect(r.code).not.toBe(0);
    expect(r.tail).toContain('Traceback (most recent call last)');
    expect(r.tail).toMatch(/UNRESOLVED_COLUMN|no_such_column/);
    expect(r.tail).not.toContain(secret);
    expect(r.tail).toContain('***');
    expect(existsSync(join(workDir, 'spark.properties'))).toBe(false);
    expect(statSync(r.logFile).mode & 0o077).toBe(0);
    // The executors on the workers had the secret from spark.executorEnv.
    const log = readFileSync(r.logFile, 'utf8');
    expect(log).toContain('executors saw the secret: True');
    expect(log).toContain('job failed, leaking ***');
    expect(log).not.toContain(secret);
  }, 600_000);
});
