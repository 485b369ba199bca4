// Child process for bench/serve.bench.ts: runs `asgard serve`'s server on a prepared registry so
// autocannon (in the parent) does not share an event loop with it. Argument: a JSON file
// {"ir", "spec", "stateDir"} (the warehouse is the spec's, beside it); prints the port on stdout, exits on SIGTERM.

import { readFileSync } from 'node:fs';
import { createAsgardServer } from '../src/serve/server.js';
import { Workspace } from '../src/workspace/workspace.js';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const srv = createAsgardServer({ ir: cfg.ir, workspace: Workspace.open(cfg.spec, { stateDir: cfg.stateDir }) });
const { port } = await srv.listen(0, '127.0.0.1');
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => {
  srv.close(2000).then(() => process.exit(0));
});
