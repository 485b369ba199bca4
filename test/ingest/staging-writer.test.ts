// The staged file a connector writes (src/ingest/staging.ts StagingWriter) when its read fails. A
// write still in flight when the failed read destroyed the file raised an 'error' event nobody
// listened to: `asgard apply` died with a stack trace and no JSON summary when a MariaDB server was
// cut mid-read (CI, test/adversarial/source-death.test.ts, 1 run in ~40). Run in a child process,
// where an unheard error ends the process as it ended asgard.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StagingWriter } from '../../src/ingest/staging.js';

const STAGING = resolve(import.meta.dirname, '../../src/ingest/staging.ts');

describe('StagingWriter', () => {
  it('a file destroyed with a write in flight raises nothing (20 times in a child process)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-staging-'));
    const script = `
      import { StagingWriter } from ${JSON.stringify(STAGING)};
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      for (let i = 0; i < 20; i++) {
        const w = new StagingWriter(${JSON.stringify(dir)} + '/f' + i + '.csv');
        await sleep(10); // the file is open
        w.line('x'.repeat(1 << 19) + '\\n'); // a write goes to the disk
        w.destroy(); // the read failed meanwhile
        await w.drained(); // a caller waiting to write again is let go
        await sleep(20);
      }
      process.stdout.write('survived');
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('survived');
  });

  it('a write error is reported by close, not thrown from an event', async () => {
    const w = new StagingWriter(join(tmpdir(), 'asgard-no-such-folder', 'f.csv'));
    w.line('a,b\n');
    await expect(w.close()).rejects.toThrow(/ENOENT/);
    await w.drained();
  });
});
