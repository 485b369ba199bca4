// The `asgard` process entry. A repeated `asgard plan` whose output is proven unchanged is printed
// again here, before anything else loads (src/cli/plan-replay.cts; bin/asgard.js asks it first, before
// Node's ES module loader starts, and its answer is remembered); every other command, and a plan that
// must be made, runs the CLI (src/cli/process.ts).

const argv = process.argv.slice(2);
const replay = argv[0] === 'plan' ? await import('./plan-replay.cjs') : undefined;
if (!replay?.replayProcess()) {
  const { runProcess } = await import('./process.js');
  // Only a plan command line a later process may replay records what it prints.
  await runProcess(argv, replay?.replayableArgs(argv) ? { replay, invocation: replay.processInvocation() } : undefined);
}
