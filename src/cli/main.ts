// The `asgard` process: run the CLI on the real streams, then exit with its code once stdout has
// drained (so a large JSON document is never cut off, and a handle an executor left open — a
// database pool, a timer — cannot keep the process alive after the work is done).
//
// Why --liftoff-only: the SQL toolkit (@polyglot-sql/sdk) is a large WebAssembly module. V8 compiles
// it quickly with its baseline compiler, then re-compiles it with TurboFan on background threads,
// and process exit waits for those threads: 10-15 s after a command that transpiled one query, on a
// busy 2-core machine. Baseline code is fast enough for parsing specs; the flag must be set before
// the module is compiled, hence the dynamic import below.
import { setFlagsFromString } from 'node:v8';

if (process.env.ASGARD_WASM_TIER_UP !== '1') setFlagsFromString('--liftoff-only');

const { processIO, runCli } = await import('./run.js');
const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
