// src/cli/relaunch.ts: which `asgard` commands run again in a node started with the server's young
// generation (the process itself is tested in test/serve/cli.test.ts).

import { describe, expect, it } from 'vitest';
import { relaunchArgs, SERVE_NODE_FLAGS } from '../../src/cli/relaunch.js';

describe('relaunchArgs', () => {
  it('re-launches serve with the flags after node’s own arguments, and nothing else', () => {
    expect(relaunchArgs(['serve', 'churn.asg'], ['--import', 'tsx'])).toEqual(['--import', 'tsx', ...SERVE_NODE_FLAGS]);
    expect(relaunchArgs(['apply', 'churn.asg'], [])).toBeUndefined();
    expect(relaunchArgs(['serve', '--help'], [])).toBeUndefined();
  });

  it('leaves a node that already has a young-generation flag (the re-launched one, or the user’s choice) or a debugger attached', () => {
    expect(relaunchArgs(['serve', 'churn.asg'], [...SERVE_NODE_FLAGS])).toBeUndefined();
    expect(relaunchArgs(['serve', 'churn.asg'], ['--max-semi-space-size=32'])).toBeUndefined();
    expect(relaunchArgs(['serve', 'churn.asg'], ['--inspect'])).toBeUndefined();
    expect(relaunchArgs(['serve', 'churn.asg'], ['--inspect-brk=9230'])).toBeUndefined();
  });
});
