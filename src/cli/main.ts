// The `asgard` process entry. A repeated `asgard plan` whose output is proven unchanged is printed
// again here, before anything else loads (src/cli/plan-replay.ts: a handful of modules, no V8 flags
// to set); every other command, and a plan that must be made, runs the CLI (src/cli/process.ts).

const argv = process.argv.slice(2);
const replay = argv[0] === 'plan' ? await import('./plan-replay.js') : undefined;
const invocation = replay && {
  argv,
  cwd: process.cwd(),
  stdoutIsTTY: !!process.stdout.isTTY,
  stderrIsTTY: !!process.stderr.isTTY,
  env: process.env,
};
const hit = invocation && replay.replayed(invocation);
if (hit) {
  process.exitCode = hit.code;
  process.stdout.write(hit.out, () => process.exit(hit.code));
} else {
  const { runProcess } = await import('./process.js');
  // Only a plan command line a later process may replay records what it prints.
  await runProcess(argv, invocation && replay.replayableArgs(argv) ? { replay, invocation } : undefined);
}
