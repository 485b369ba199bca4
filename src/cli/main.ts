// The `asgard` process: run the CLI on the real streams, then exit with its code once stdout has
// drained (so a large JSON document is never cut off, and a handle an executor left open — a
// database pool, a timer — cannot keep the process alive after the work is done).

import { processIO, runCli } from './run.js';

const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
