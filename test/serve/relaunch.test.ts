// src/cli/relaunch.ts: which `asgard` commands run again in a node started with the server's young
// generation, and where that node's garbage collector runs (the process itself is tested in
// test/serve/cli.test.ts).

import { describe, expect, it } from 'vitest';
import { relaunchArgs, SERVE_NODE_FLAGS, ServeGcError, serveNodeFlags } from '../../src/cli/relaunch.js';

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
