// `asgard serve`: the HTTP API (docs/http.md) on node:http (no framework).
//   POST /mlops/inference            online scoring (inference.ts, the hot path), by features or by entity
//   POST /mlops/inference/batch      table scoring into a gold snapshot (batch.ts)
//   GET  /health                     every component's status
//   GET  /mlops/models               the registry, `models list --format json` shape
//   GET  /mlops/models/{name}/metrics[?version=N]
//   GET  /features/{view}/{key}      online features: the entity's latest feature row
//   POST /data-products/query        one read-only SELECT on engines in low-priority processes (query-door.ts); JSON, or NDJSON streamed (query-answer.ts)
//   GET  /, /app.js, /app.css        the site of `asgard docs` (src/docs/), built from the state of the moment
// With a serve node's `auth = { token = secret(…) }`, batch and the query door need the bearer token (auth.ts).
// Bad input never crashes the server and never gets a 500: every handler's errors are HttpErrors;
// anything else is logged (without the request body) and answered 500 as a bug.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FeaturesNode, PipelineIR } from '../ir/types.js';
import type { Workspace } from '../workspace/workspace.js';
import { runBatch } from './batch.js';
import { HttpError, parseJson, readBody, sendBody, sendError, sendJson, sendRaw } from './http.js';
import { collectSiteData, siteSchemas } from '../docs/site-data.js';
import { indexHtml, SiteAssetsMissing, siteAssets } from '../docs/site-files.js';
import { infer, MAX_INPUTS, type EntityLookup } from './inference.js';
import { modelSummary } from '../ml/registry.js';
import { ModelStore } from './model-store.js';
import { QueryBody, zodDetails } from './validate.js';
import { readServedState } from './state.js';
import { ServeAuth } from './auth.js';
import { JsonAnswer, NdjsonAnswer } from './query-answer.js';
import { WarehouseAccess } from './warehouse-access.js';
import { type DoorPolicy, QUERY_MEMORY_LIMIT, QueryDoor } from './query-door.js';
import { REMOTE_TTL_MS, ServedRemote } from './remote-sync.js';

export const BODY_LIMIT = 1 << 20; // 1 MiB
const NDJSON_ACCEPTED = /\bapplication\/x-ndjson\b/i;
/** On shutdown: how long requests already on the wire get to arrive. */
const SETTLE_MS = 300;

export interface ServeOptions {
  readonly ir: PipelineIR;
  /** Where the registry, state and warehouse are (src/workspace/workspace.ts). */
  readonly workspace: Workspace;
  readonly bodyLimit?: number;
  readonly maxInputs?: number;
  /** Where unexpected errors are reported (stderr by default). */
  readonly log?: (line: string) => void;
  /** The spec's path as the site shows it (default: the IR's file). */
  readonly specPath?: string;
  /** Where `secret(…)` references are read (process.env by default): the serve nodes' auth tokens. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The query door's time limit per query (QUERY_TIMEOUT_MS by default). */
  readonly queryTimeoutMs?: number;
  /** With a warehouse on S3: how long a pulled remote state is served before a request checks it (REMOTE_TTL_MS by default). */
  readonly remoteTtlMs?: number;
  /** How the query door's engines yield the CPU ('idle' by default, query-door.ts). */
  readonly doorPolicy?: DoorPolicy;
}

export interface AsgardServer {
  readonly server: Server;
  readonly store: ModelStore;
  /** The query door's engine processes. */
  readonly door: QueryDoor;
  /** With a warehouse on S3: pull the remote state, registry and snapshots (listen does it when not done yet). */
  pullRemote(): Promise<void>;
  listen(port: number, host: string): Promise<{ port: number; host: string }>;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), release sessions. */
  close(graceMs?: number): Promise<void>;
}

export function createAsgardServer(opts: ServeOptions): AsgardServer {
  const { ir, workspace } = opts;
  const warehouse = workspace.warehouse(ir);
  const stateStore = workspace.state(ir);
  const bodyLimit = opts.bodyLimit ?? BODY_LIMIT;
  const maxInputs = opts.maxInputs ?? MAX_INPUTS;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const auth = ServeAuth.of(ir, opts.env ?? process.env);
  const store = new ModelStore(ir, workspace.registry());
  const data = new WarehouseAccess(ir, stateStore, warehouse);
  const door = new QueryDoor({
    ir,
    stateDir: stateStore.stateDir,
    warehouseRoot: warehouse.root,
    warehouseUri: warehouse.tables.store.rootUri,
    memoryLimit: QUERY_MEMORY_LIMIT,
    policy: opts.doorPolicy ?? 'idle',
  });
  // A warehouse on S3: the state, registry and snapshots are a working copy of the bucket's (remote-sync.ts).
  const remoteState = workspace.remote(ir);
  const remote = remoteState ? new ServedRemote(remoteState, opts.remoteTtlMs ?? REMOTE_TTL_MS, log) : undefined;
  const views = new Map<string, FeaturesNode>();
  for (const n of ir.nodes) if (n.kind === 'features') views.set(n.name, n).set(n.id, n);
  /** Inference by entity: the model's feature view, its latest row per entity (online). */
  const lookup: EntityLookup = (m, entities) => {
    const view = views.get(m.schema.view);
    if (!view)
      throw new HttpError(404, 'unknown_view', `${m.name} v${m.version} was trained on ${m.schema.view}, which this spec no longer defines`, {
        view: m.schema.view,
      });
    return data.entityFeatures(view, entities);
  };
  let pulled: Promise<void> | undefined;
  const pullRemote = (): Promise<void> => (pulled ??= remote ? remote.pullNow() : Promise.resolve());
  const startedAt = Date.now();
  let inflight = 0;
  let closing = false;

  async function route(req: IncomingMessage, res: ServerResponse, started: number): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    // Everything but inference and the site's static files reads the state or the registry.
    if (remote && path !== '/mlops/inference' && path !== '/mlops/inference/batch' && path !== '/app.js' && path !== '/app.css') await remote.fresh();

    if (path === '/mlops/inference') {
      allow(method, 'POST');
      remote?.nudge();
      const body = parseJson(await readBody(req, bodyLimit));
      sendRaw(res, 200, await infer(store, body, started, maxInputs, lookup));
      return;
    }
    if (path === '/mlops/inference/batch') {
      allow(method, 'POST');
      auth.check(req);
      const body = parseJson(await readBody(req, bodyLimit));
      const batch = () => runBatch(body, ir, stateStore, warehouse, store);
      sendJson(res, 200, await (remote ? remote.exclusive('serve batch', batch) : batch()));
      return;
    }
    if (path === '/health') {
      allow(method, 'GET');
      sendJson(res, 200, await health());
      return;
    }
    if (path === '/mlops/models') {
      allow(method, 'GET');
      sendJson(res, 200, { models: [...store.models.keys()].sort().map((name) => modelJson(name)) });
      return;
    }
    let m = /^\/mlops\/models\/([^/]+)\/metrics$/.exec(path);
    if (m) {
      allow(method, 'GET');
      const name = decode(m[1]);
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const vs = params.get('version');
      if (vs !== null && !/^[1-9][0-9]{0,8}$/.test(vs)) throw new HttpError(400, 'invalid_query', 'version must be a positive integer', { field: 'version' });
      const idx = store.models.has(name) ? store.index(name) : undefined;
      if (!idx) throw new HttpError(404, 'unknown_model', `unknown model ${JSON.stringify(name)}`, { model_name: name });
      const v = vs !== null ? idx.versions.find((x) => x.version === Number(vs)) : (store.registry.servingVersion(name) ?? idx.versions.at(-1));
      if (!v) throw new HttpError(404, 'unknown_version', `model ${name} has no version ${vs}`, { model_name: name, model_version: Number(vs) });
      sendJson(res, 200, { model_name: name, model_version: v.version, promoted: v.promoted, created_at: v.createdAt, gate: v.gate, metrics: v.metrics });
      return;
    }
    m = /^\/features\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      allow(method, 'GET');
      const viewName = decode(m[1]);
      const key = decode(m[2]);
      const view = views.get(viewName);
      if (!view)
        throw new HttpError(404, 'unknown_view', `unknown feature view ${JSON.stringify(viewName)}`, {
          view: viewName,
          known: ir.nodes.filter((n) => n.kind === 'features').map((n) => n.name),
        });
      const row = await data.features(view, key);
      if (!row)
        throw new HttpError(404, 'unknown_entity', `${view.entity.name} ${JSON.stringify(key)} has no features in ${view.name}`, {
          view: view.name,
          [view.entity.joinKey]: key,
        });
      sendJson(res, 200, { view: view.name, entity: { [view.entity.joinKey]: key }, event_timestamp: row.timestamp, features: row.values });
      return;
    }
    if (path === '/data-products/query') {
      allow(method, 'POST');
      auth.check(req);
      const body = parseJson(await readBody(req, bodyLimit));
      const parsed = QueryBody.safeParse(body);
      if (!parsed.success) throw new HttpError(400, 'invalid_body', ...zodDetails(parsed.error));
      if (NDJSON_ACCEPTED.test(String(req.headers.accept ?? ''))) {
        const out = new NdjsonAnswer(res);
        try {
          out.end(await door.query(parsed.data.sql, out, parsed.data.limit, opts.queryTimeoutMs));
        } catch (e) {
          if (!out.started || !(e instanceof HttpError)) throw e;
          out.fail(e);
        }
        return;
      }
      const out = new JsonAnswer();
      sendRaw(res, 200, out.body(await door.query(parsed.data.sql, out, parsed.data.limit, opts.queryTimeoutMs)));
      return;
    }
    if (path === '/' || path === '/index.html') {
      allow(method, 'GET');
      const state = readServedState(stateStore);
      const site = await collectSiteData({ ir, specPath: opts.specPath ?? ir.file, workspace, state, schemas: await siteSchemas(ir, state) });
      sendBody(res, 'text/html; charset=utf-8', indexHtml(site));
      return;
    }
    if (path === '/app.js' || path === '/app.css') {
      allow(method, 'GET');
      let asset: Buffer;
      try {
        asset = siteAssets().get(path.slice(1))!;
      } catch (e) {
        if (e instanceof SiteAssetsMissing) throw new HttpError(503, 'site_not_built', e.message);
        throw e;
      }
      sendBody(res, path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', asset);
      return;
    }
    throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
  }

  /** Load the served version of every model and score one row, so the first request is not the slow one. */
  async function warmUp(): Promise<void> {
    for (const name of store.models.keys()) {
      try {
        const v = store.resolveVersion(name);
        const m = await store.load(name, v.version);
        await m.scorer.scoreColumns(m.scorer.blankColumns(1), 1);
      } catch {
        // Not trained or not promoted yet: /health says so, and requests get their 404.
      }
    }
  }

  function modelJson(name: string) {
    const idx = store.index(name);
    return modelSummary(name, idx?.versions ?? []);
  }

  async function health() {
    const components: Record<string, Record<string, unknown>> = {};
    try {
      const models = [...store.models.keys()].map((name) => ({
        name,
        served: store.index(name) ? (store.registry.servingVersion(name)?.version ?? null) : null,
      }));
      const missing = models.filter((m) => m.served === null).map((m) => m.name);
      components.registry = {
        status: missing.length ? 'degraded' : 'ok',
        models,
        ...(missing.length ? { message: `no promoted version of ${missing.join(', ')}` } : {}),
      };
    } catch (e) {
      components.registry = { status: 'down', message: (e as Error).message };
    }
    try {
      const tables = await data.tables();
      components.warehouse = { status: tables.length ? 'ok' : 'degraded', tables: tables.length };
    } catch (e) {
      components.warehouse = { status: 'down', message: String((e as Error).message).split('\n')[0] };
    }
    components.models = { status: 'ok', loaded: store.loaded() };
    components.query_door = { status: 'ok', ...door.load() };
    if (remote) components.remote_state = remote.health();
    const statuses = Object.values(components).map((c) => c.status);
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok';
    return { status, pipeline: ir.name, uptime_seconds: Math.round((Date.now() - startedAt) / 1000), components };
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    inflight++;
    res.on('close', () => {
      inflight--;
    });
    if (closing) res.setHeader('connection', 'close');
    route(req, res, started).catch((e: unknown) => {
      if (e instanceof HttpError) sendError(res, e);
      else {
        log(`asgard serve: internal error on ${req.method} ${(req.url ?? '').split('?')[0]}: ${(e as Error)?.stack ?? e}`);
        sendError(res, new HttpError(500, 'internal', 'internal error; the server logged it'));
      }
      // A request whose body we stopped reading must not be left hanging, nor a stream cut by a bug.
      if (!req.complete) req.resume();
      if (res.headersSent && !res.writableEnded) res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end(
        'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"bad_request","message":"malformed HTTP request"}}',
      );
    else socket.destroy();
  });

  return {
    server,
    store,
    door,
    pullRemote,
    async listen(port, host) {
      await pullRemote();
      await warmUp();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address();
          resolve({ port: typeof a === 'object' && a ? a.port : port, host });
        });
      });
    },
    async close(graceMs = 10_000) {
      closing = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Requests already on the wire when the signal came (connected, headers not parsed yet) count
      // as in flight too: give them a short window to arrive before idle connections are closed.
      const deadline = Date.now() + graceMs;
      await new Promise((r) => setTimeout(r, Math.min(SETTLE_MS, graceMs)));
      while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      await store.close();
      await data.close();
      await door.close();
    },
  };
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new HttpError(405, 'method_not_allowed', `use ${expected} here, not ${method}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'invalid_path', `malformed percent-encoding in ${JSON.stringify(s)}`);
  }
}
