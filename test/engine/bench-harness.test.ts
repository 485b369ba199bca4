// bench/engine-harness.ts: a harness's folder (bronze tables, warehouse, bare DuckDB's output, 60-300 MB
// a run) is removed when its process exits; before, every bench and profile run left its own behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('bench engine harness', () => {
  it('removes the folders of its harnesses when the process exits', () => {
    const code = `
      import { writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { EngineHarness } from './bench/engine-harness.ts';
      const a = new EngineHarness();
      const b = new EngineHarness();
      writeFileSync(join(a.dir, 'x.parquet'), 'x');
      console.log(JSON.stringify([a.dir, b.dir]));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
    const dirs = JSON.parse(out.trim().split('\n').at(-1)!) as string[];
    expect(dirs).toHaveLength(2);
    expect(new Set(dirs).size).toBe(2);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });
});
