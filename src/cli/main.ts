// The `asgard` process entry. A repeated `asgard plan` whose output is proven unchanged is printed
// again here, before anything else loads (src/cli/plan-replay.cts; bin/asgard.js asks it first, before
// Node's ES module loader starts, and its answer is remembered); every other command, and a plan that
// must be made, runs the CLI (src/cli/process.ts).
//
// No top-level await: the bundle's entry is then CommonJS (dist/bundle/main.cjs), which bin/asgard.js
// loads with V8's code cache (src/cli/code-cache.cts). A failure here is an unhandled rejection:
// printed, with exit code 1 (by Node, or by runProcess's safety net once it is set).

async function main(argv: readonly string[]): Promise<void> {
  const replay = argv[0] === 'plan' ? await import('./plan-replay.cjs') : undefined;
  if (replay?.replayProcess()) return;
  const { runProcess } = await import('./process.js');
  // Only a plan command line a later process may replay records what it prints.
  await runProcess(argv, replay?.replayableArgs(argv) ? { replay, invocation: replay.processInvocation() } : undefined);
}

void main(process.argv.slice(2));
