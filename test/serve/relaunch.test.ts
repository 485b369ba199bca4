// src/cli/relaunch.ts: which `asgard` commands run again in a node started with the server's young
// generation, and where that node's garbage collector runs (the process itself is tested in
// test/serve/cli.test.ts).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realtimeOf, relaunchArgs, SERVE_NODE_FLAGS, ServeGcError, serveNodeFlags } from '../../src/cli/relaunch.js';

describe('relaunchArgs', async () => {
  it('re-launches serve with the flags after node’s own arguments, and nothing else', async () => {
    expect(await relaunchArgs(['serve', 'churn.asg'], ['--import', 'tsx'], {}, 8)).toEqual(['--import', 'tsx', ...SERVE_NODE_FLAGS]);
    expect(await relaunchArgs(['apply', 'churn.asg'], [])).toBeUndefined();
    expect(await relaunchArgs(['serve', '--help'], [])).toBeUndefined();
  });

  it('leaves a node that already has a young-generation flag (the re-launched one, or the user’s choice) or a debugger attached', async () => {
    expect(await relaunchArgs(['serve', 'churn.asg'], [...SERVE_NODE_FLAGS])).toBeUndefined();
    expect(await relaunchArgs(['serve', 'churn.asg'], ['--max-semi-space-size=32'])).toBeUndefined();
    expect(await relaunchArgs(['serve', 'churn.asg'], ['--inspect'])).toBeUndefined();
    expect(await relaunchArgs(['serve', 'churn.asg'], ['--inspect-brk=9230'])).toBeUndefined();
  });

  it('keeps the GC on the main thread on a machine of two cores or fewer (its helper threads would take the event loop’s core), unless ASGARD_SERVE_GC says otherwise', async () => {
    expect(await relaunchArgs(['serve', 'churn.asg'], [], {}, 2)).toEqual([...SERVE_NODE_FLAGS, '--single-threaded-gc']);
    expect(await relaunchArgs(['serve', 'churn.asg'], [], {}, 1)).toEqual([...SERVE_NODE_FLAGS, '--single-threaded-gc']);
    expect(serveNodeFlags({}, 4)).toEqual([...SERVE_NODE_FLAGS]);
    expect(serveNodeFlags({ ASGARD_SERVE_GC: 'parallel' }, 2)).toEqual([...SERVE_NODE_FLAGS]);
    expect(serveNodeFlags({ ASGARD_SERVE_GC: 'main' }, 16)).toEqual([...SERVE_NODE_FLAGS, '--single-threaded-gc']);
    expect(serveNodeFlags({ ASGARD_SERVE_GC: '' }, 16)).toEqual([...SERVE_NODE_FLAGS]);
  });

  it('keeps the young generation and the optimized code when idle (no memory reducer)', () => {
    expect(SERVE_NODE_FLAGS).toEqual(['--min-semi-space-size=64', '--max-semi-space-size=64', '--no-memory-reducer']);
  });

  it('refuses an ASGARD_SERVE_GC that is neither main nor parallel, naming it', () => {
    expect(() => serveNodeFlags({ ASGARD_SERVE_GC: 'single' }, 2)).toThrow(new ServeGcError('ASGARD_SERVE_GC must be main or parallel, got "single"'));
  });
});

describe('a real-time server (chrt --fifo --reset-on-fork … asgard serve)', () => {
  it('reads the policy from /proc/PID/stat', () => {
    const stat = (policy: number, prio: number) => `42 (node (x) y) S ${Array.from({ length: 34 }, (_, i) => i).join(' ')} 0 1 ${prio} ${policy} 0 0 0`;
    expect(realtimeOf(stat(0, 0))).toBeUndefined();
    expect(realtimeOf(stat(1, 10))).toEqual({ policy: '--fifo', priority: 10 });
    expect(realtimeOf(stat(2, 5))).toEqual({ policy: '--rr', priority: 5 });
    expect(realtimeOf(stat(3, 0))).toBeUndefined(); // SCHED_BATCH
    expect(realtimeOf(readFileSync('/proc/self/stat', 'utf8'))).toBeUndefined();
  });

  it('gives the re-launched process’s main thread the first process’s policy, and nothing it starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-rt-'));
    const child = join(dir, 'child.mjs');
    // The re-launched process: waits (up to 5 s) for its policy to change, prints it and its own child's.
    writeFileSync(
      child,
      `import { readFileSync } from 'node:fs'; import { execFileSync } from 'node:child_process';
const f = (s) => s.slice(s.lastIndexOf(')') + 2).split(' ');
const me = () => f(readFileSync('/proc/self/stat', 'utf8'));
const end = Date.now() + 5000;
while (me()[38] === '0' && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
const kid = f(execFileSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }));
console.log(JSON.stringify({ self: [me()[38], me()[37]], child: [kid[38], kid[37]] }));
`,
    );
    const relaunchTs = resolve('src/cli/relaunch.ts');
    const starter = `import(${JSON.stringify(relaunchTs)}).then((m) => m.relaunch([], ${JSON.stringify(child)}, [])).then((c) => process.exit(c))`;
    const allowed = spawnSync('chrt', ['--fifo', '1', 'true']).status === 0;
    const run = spawnSync('chrt', ['--fifo', '--reset-on-fork', '7', process.execPath, '--import', 'tsx', '-e', starter], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (allowed) {
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ self: ['1', '7'], child: ['0', '0'] });
    } else {
      // No right to real-time scheduling here: chrt itself refuses, and asgard is never started.
      expect(run.status).not.toBe(0);
    }
  }, 90_000);
});
