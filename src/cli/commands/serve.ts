// `asgard serve SPEC [--port 8000] [--host 127.0.0.1]`: the HTTP API of docs/http.md over the
// spec's registry and warehouse, until SIGTERM/SIGINT (then in-flight requests finish and it exits 0).

import { relative } from 'node:path';
import { createAsgardServer } from '../../serve/server.js';
import { ServeConfigError } from '../../serve/auth.js';
import { CliError, EXIT, type Command } from '../command.js';
import { loadValidSpec, workspaceOf } from '../spec.js';
import { remoteError } from '../remote.js';
import { formatsOf, note, show } from '../view.js';
import { serveView } from '../views/serve.js';

export const command: Command = {
  usage: 'asgard serve SPEC [--port 8000] [--host 127.0.0.1]',
  help: `
Starts the HTTP API: POST /mlops/inference (online scoring with the newest promoted version, or the
model_version asked for; of feature rows, or of entities by their key with the features looked up
online: {"model_name", "entities": [{"<join_key>": 42}]}), POST /mlops/inference/batch (score a table into the serve node's gold
table), GET /mlops/models, GET /mlops/models/{name}/metrics, GET /health,
GET /features/{view}/{key} (the entity's latest feature row) and POST /data-products/query (one
read-only SELECT; JSON, or streamed as NDJSON with Accept: application/x-ndjson). GET / is the site of \`asgard docs\` (graph, nodes, lineage, runs, models), made
from the state of the moment. A version promoted by a later \`asgard apply\` is served without a restart.
Errors are JSON {"error": {"code", "message", "details"}}: 400 bad body or feature key (naming the
field), 401 batch or query without the bearer token when a serve node sets \`auth = { token =
secret("…") }\`, 404 unknown model/version/entity, 413 body over 1 MiB, more than 1,000 inputs or a
query result over 32 MiB, 422 a feature missing, not a number or beyond float32, 503 the query door
busy or the state file unreadable (docs/http.md).
With a warehouse on S3 (\`--profile\` whose warehouse is s3://…) the state, registry and tables are
pulled from the bucket before listening, and a request checks for a newer state (another apply's) at
most every 2 s: one conditional read, and the newer state is pulled and served. Batch scoring then
holds the remote lock. SIGTERM or Ctrl-C stops accepting, lets running requests finish and exits 0.

Examples:
  asgard serve pipelines/churn.asg
  asgard serve pipelines/churn.asg --port 9000 --host 0.0.0.0
  curl -s localhost:8000/mlops/inference -d '{"model_name": "customer_churn_predictor", "inputs": [{...}]}'`,
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'port to listen on (default 8000; 0 picks a free one)' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to bind (default 127.0.0.1)' },
  ],
  formats: formatsOf(serveView),
  async run(ctx) {
    const portText = ctx.str('port') ?? '8000';
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new CliError(`--port must be a number from 0 to 65535, got ${JSON.stringify(portText)}`);
    const host = ctx.str('host') ?? '127.0.0.1';
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    let srv;
    try {
      srv = createAsgardServer({
        ir: spec.ir,
        workspace: workspaceOf(ctx, spec),
        log: (l) => ctx.err(l + '\n'),
        specPath: relative(ctx.io.cwd, spec.file) || spec.file,
        env: ctx.io.env,
      });
    } catch (e) {
      if (e instanceof ServeConfigError) throw new CliError(e.message, EXIT.invalid);
      throw e;
    }
    // A warehouse on S3: serve a working copy pulled from the bucket (a failure exits 1 naming the location).
    await srv.pullRemote().catch(remoteError);
    let addr;
    try {
      addr = await srv.listen(Number(portText), host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(
        `cannot listen on ${host}:${portText}: ${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
        EXIT.failed,
      );
    }
    const url = `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
    show(ctx, serveView, { pipeline: spec.ir.name, url, port: addr.port, host: addr.host, models: [...srv.store.models.keys()] });
    // The first signal stops the server; another one changes nothing (Ctrl-C reaches this process
    // from the terminal and again through the first process of src/cli/relaunch.ts).
    let stopping = false;
    let stopped = () => {};
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      note(ctx, [{ err: `asgard serve: ${sig}, finishing in-flight requests\n` }]);
      srv.close(10_000).then(stopped, stopped);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await new Promise<void>((resolve) => (stopped = resolve));
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return EXIT.ok;
  },
};
