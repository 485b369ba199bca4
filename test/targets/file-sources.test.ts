// File sources under a kubernetes profile (#10, #14): they compile to Airbyte's S3 source, and what
// compile refuses `validate --profile kubernetes` reports too, with the same code at the same place.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';

function spec(folder: string, path: string): string {
  return `pipeline lab {
  source drops file {
    path = "${folder}"
    stream readings {
      path        = "${path}"
      primary_key = id
      columns     = { id = "BIGINT"  value = "DOUBLE" }
    }
  }

  cleanse readings_clean {
    sql """ SELECT id, value FROM bronze.readings WHERE value IS NOT NULL """
  }

  profile kubernetes {
    namespace     = "lab"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://lab-lake/wh"
  }
}
`;
}

type Diag = { code: string; severity: string; line: number; column: number; message: string };

async function both(folder: string, path: string): Promise<{ validate: Diag[]; compile: Diag[]; compileCode: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'asg-file-k8s-'));
  writeFileSync(join(dir, 'lab.asg'), spec(folder, path));
  const v = await cli(['validate', 'lab.asg', '--profile', 'kubernetes', '--format', 'json'], { cwd: dir, env: { HOME: dir } });
  const c = await cli(['compile', 'lab.asg', '--profile', 'kubernetes', '--out', 'out', '--format', 'json'], { cwd: dir, env: { HOME: dir } });
  const errors = (out: string) =>
    (JSON.parse(out).diagnostics as Diag[])
      .filter((d) => d.severity === 'error')
      .map(({ code, line, column, message }) => ({ code, line, column, message }) as Diag);
  return { validate: errors(v.stdout), compile: errors(c.stdout), compileCode: c.code, dir };
}

describe('file sources under a kubernetes profile', () => {
  it("a local folder with a glob compiles (the glob is the stream's in Airbyte's S3 source); validate says the same", async () => {
    const r = await both('./drops', 'readings/*.csv');
    expect(r.validate).toEqual([]);
    expect(r.compile).toEqual([]);
    expect(r.compileCode).toBe(0);
  });

  it('files already on S3 are read where they are', async () => {
    const r = await both('s3://sensor-drops/incoming', 'readings/*.parquet');
    expect(r.compileCode).toBe(0);
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(join(r.dir, 'out', 'airbyte', 'sources', 'drops.yaml'), 'utf8');
    expect(text).toMatch(/bucket: sensor-drops/);
    expect(text).toMatch(/- incoming\/readings\/\*\.parquet/);
  });

  it('what Airbyte cannot read is refused by compile and by validate --profile kubernetes alike, at the same place', async () => {
    for (const [folder, path, why] of [
      ['https://example.com/drops', 'readings.csv', /`https:\/\/example\.com\/drops` is neither/],
      [
        './drops',
        'readings.xlsx',
        /stream `readings`: Airbyte's S3 source needs a stream `path` of CSV, Parquet or JSON lines files \(`readings.xlsx` is xlsx\)/,
      ],
    ] as const) {
      const r = await both(folder, path);
      expect(r.compileCode).toBe(2);
      expect(r.compile).toHaveLength(1);
      expect(r.compile[0].code).toBe('ASG4006');
      expect(r.compile[0].message).toMatch(why);
      expect(r.validate).toEqual(r.compile);
    }
  });
});
