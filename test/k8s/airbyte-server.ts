// TEST-ONLY Airbyte API server: Airbyte itself cannot run here. Every request is checked against the
// official Airbyte public API (../shared/schemas/airbyte/airbyte-api.openapi.yaml): the path and
// method must be an operation of it, query parameters ones it declares, and a body must validate
// against the operation's request schema — a source's or destination's `configuration` against the
// connector's own schema (source-postgres, source-mysql, destination-s3), a custom source's against
// the connection specification of the low-code manifest published under its `definitionId`
// (publishDeclarative). A request that fails is answered 400 and recorded in `invalid`. Sources,
// destinations and connections are kept in memory (deleting a source or a destination deletes the
// connections that use it, as Airbyte does); a sync job goes pending → running → succeeded (or
// failed, as the test directs), with the record and byte counts the test gives. Nothing moves data:
// the job states are played.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { errorsOf, schemasDir, validators } from '../targets/schemas.js';

type Obj = Record<string, any>;

export interface AirbyteStandInOptions {
  /** How a sync of this connection ends (default: succeeded with 10 records). */
  readonly jobs?: (connection: Obj) => { status: 'succeeded' | 'failed'; rows?: number; bytes?: number };
}

const doc = load(readFileSync(join(schemasDir, 'airbyte', 'airbyte-api.openapi.yaml'), 'utf8')) as Obj;

/** The API's operation for `method path`: its template and declaration. */
function operation(method: string, path: string): { template: string; op: Obj } | undefined {
  for (const [template, ops] of Object.entries(doc.paths as Record<string, Obj>)) {
    const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (re.test(path) && ops[method.toLowerCase()]) return { template, op: ops[method.toLowerCase()] };
  }
  return undefined;
}

export class AirbyteStandIn {
  readonly workspaceId = randomUUID();
  readonly sources = new Map<string, Obj>();
  readonly destinations = new Map<string, Obj>();
  readonly connections = new Map<string, Obj>();
  readonly jobs = new Map<number, Obj & { polls: number }>();
  /** Custom source definitions published (publishDeclarative): their low-code manifest, by definition id. */
  readonly definitions = new Map<string, Obj>();
  /** Every request, as `METHOD /path`. */
  readonly requests: string[] = [];
  /** Requests that did not conform to the OpenAPI document, with why. */
  readonly invalid: string[] = [];
  private server?: Server;
  private nextJob = 1;
  url = '';

  constructor(private readonly opts: AirbyteStandInOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const { status, json } = this.handle(req.method ?? 'GET', req.url ?? '/', body);
        if (status === 204) res.writeHead(204).end();
        else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }

  /**
   * Publishes a low-code connector manifest (the compiled tree's `airbyte/custom/<source>.manifest.yaml`)
   * as a custom source definition of the workspace and returns its definition id: what a user does in
   * Airbyte's Connector Builder ("publish"), as the tree's airbyte/README.md asks, before exporting
   * the id as `AIRBYTE_DEFINITION_ID_<SOURCE>`. The public API document this server checks requests
   * against has no operation for it, so it is a method here, not a request. Creating a source with
   * an unknown `definitionId` is refused; with a published one, its configuration must satisfy the
   * manifest's `spec.connection_specification`.
   */
  publishDeclarative(manifest: Obj): string {
    const spec = manifest?.spec?.connection_specification;
    if (manifest?.type !== 'DeclarativeSource' || !Array.isArray(manifest.streams) || manifest.streams.length === 0 || spec?.type !== 'object')
      throw new Error('not a low-code connector manifest: a DeclarativeSource with streams and spec.connection_specification is expected');
    const id = randomUUID();
    this.definitions.set(id, manifest);
    return id;
  }

  private bad(what: string): { status: number; json: Obj } {
    this.invalid.push(what);
    return { status: 400, json: { type: 'https://reference.airbyte.com/reference/errors', title: 'bad-request', status: 400, detail: what } };
  }

  private check(schemaName: string, value: unknown, configuration?: object): string | undefined {
    const v = configuration
      ? validators().airbyteRequest(schemaName, configuration)
      : validators().airbyte(schemaName, { $ref: `#/components/schemas/${schemaName}` });
    return v(value) ? undefined : `${schemaName}: ${errorsOf(v)}`;
  }

  /** The schema a request's `configuration` must satisfy: its connector's, or a custom source's manifest's (a PATCH: the source's own). */
  private configSchema(kind: 'source' | 'destination', body: Obj, id: string | undefined): object {
    const type = body.configuration?.[kind === 'source' ? 'sourceType' : 'destinationType'];
    if (type) return { $ref: `#/components/schemas/${kind}-${type}` };
    const definitionId = kind === 'source' ? (body.definitionId ?? this.sources.get(id ?? '')?.definitionId) : undefined;
    const manifest = definitionId ? this.definitions.get(definitionId) : undefined;
    if (!manifest) return { type: 'object' };
    const { $schema: _, ...spec } = manifest.spec.connection_specification as Obj;
    return spec;
  }

  handle(method: string, rawUrl: string, rawBody: string): { status: number; json: Obj } {
    const url = new URL(rawUrl, 'http://x');
    const path = url.pathname.replace(/^\/v1/, '');
    this.requests.push(`${method} ${path}`);
    const found = operation(method, path);
    if (!found) return this.bad(`${method} ${path} is not an operation of the Airbyte API`);
    const declared = new Set(((found.op.parameters ?? []) as Obj[]).filter((p) => p.in === 'query').map((p) => p.name));
    for (const k of url.searchParams.keys()) if (!declared.has(k)) return this.bad(`${method} ${found.template}: unknown query parameter ${k}`);
    let body: Obj = {};
    const id = path.split('/')[2];
    const ref = found.op.requestBody?.content?.['application/json']?.schema?.$ref as string | undefined;
    if (ref) {
      try {
        body = JSON.parse(rawBody) as Obj;
      } catch {
        return this.bad(`${method} ${found.template}: the body is not JSON`);
      }
      const name = ref.split('/').pop()!;
      const kind = name.startsWith('Source') ? 'source' : name.startsWith('Destination') ? 'destination' : undefined;
      const err = kind && body.configuration !== undefined ? this.check(name, body, this.configSchema(kind, body, id)) : this.check(name, body);
      if (err) return this.bad(`${method} ${found.template}: ${err}`);
    }
    const list = (m: Map<string, Obj>) => ({
      status: 200,
      json: { data: [...m.values()].filter((x) => (url.searchParams.get('workspaceIds') ?? x.workspaceId) === x.workspaceId) },
    });
    switch (`${method} ${found.template}`) {
      case 'GET /sources':
        return list(this.sources);
      case 'GET /destinations':
        return list(this.destinations);
      case 'GET /connections':
        return list(this.connections);
      case 'POST /sources': {
        // SourceCreateRequest: "One of configuration.sourceType or definitionId must be provided."
        if (body.definitionId === undefined && body.configuration.sourceType === undefined)
          return this.bad('POST /sources: neither configuration.sourceType nor definitionId');
        // Airbyte's own connectors are named by sourceType here; a definitionId must be one published.
        if (body.definitionId !== undefined && !this.definitions.has(body.definitionId))
          return this.bad(`POST /sources: no source definition ${body.definitionId} in the workspace`);
        const s = {
          sourceId: randomUUID(),
          name: body.name,
          sourceType: body.configuration.sourceType ?? 'custom',
          ...(body.definitionId !== undefined ? { definitionId: body.definitionId } : {}),
          workspaceId: body.workspaceId,
          configuration: body.configuration,
        };
        this.sources.set(s.sourceId, s);
        return { status: 200, json: s };
      }
      case 'PATCH /sources/{sourceId}': {
        const s = this.sources.get(id);
        if (!s) return { status: 404, json: { detail: `no source ${id}` } };
        Object.assign(s, body);
        return { status: 200, json: s };
      }
      case 'POST /destinations': {
        const d = {
          destinationId: randomUUID(),
          name: body.name,
          destinationType: body.configuration.destinationType,
          workspaceId: body.workspaceId,
          configuration: body.configuration,
        };
        this.destinations.set(d.destinationId, d);
        return { status: 200, json: d };
      }
      case 'PATCH /destinations/{destinationId}': {
        const d = this.destinations.get(id);
        if (!d) return { status: 404, json: { detail: `no destination ${id}` } };
        Object.assign(d, body);
        return { status: 200, json: d };
      }
      case 'POST /connections': {
        if (!this.sources.has(body.sourceId)) return this.bad(`POST /connections: no source ${body.sourceId}`);
        if (!this.destinations.has(body.destinationId)) return this.bad(`POST /connections: no destination ${body.destinationId}`);
        const c = { connectionId: randomUUID(), workspaceId: this.sources.get(body.sourceId)!.workspaceId, dataResidency: 'auto', ...body };
        this.connections.set(c.connectionId, c);
        return { status: 200, json: c };
      }
      case 'PATCH /connections/{connectionId}': {
        const c = this.connections.get(id);
        if (!c) return { status: 404, json: { detail: `no connection ${id}` } };
        Object.assign(c, body);
        return { status: 200, json: c };
      }
      // As Airbyte does, deleting a source or a destination deletes the connections that use it.
      case 'DELETE /sources/{sourceId}':
      case 'DELETE /destinations/{destinationId}': {
        const source = found.template.startsWith('/sources');
        const field = source ? 'sourceId' : 'destinationId';
        if (!(source ? this.sources : this.destinations).delete(id)) return { status: 404, json: { detail: `no ${field.slice(0, -2)} ${id}` } };
        for (const [cid, c] of this.connections) if (c[field] === id) this.connections.delete(cid);
        return { status: 204, json: {} };
      }
      case 'DELETE /connections/{connectionId}':
        if (!this.connections.delete(id)) return { status: 404, json: { detail: `no connection ${id}` } };
        return { status: 204, json: {} };
      case 'POST /jobs': {
        const c = this.connections.get(body.connectionId);
        if (!c) return { status: 404, json: { detail: `no connection ${body.connectionId}` } };
        const j = {
          jobId: this.nextJob++,
          status: 'pending',
          jobType: body.jobType,
          startTime: new Date().toISOString(),
          connectionId: c.connectionId,
          polls: 0,
        };
        this.jobs.set(j.jobId, j);
        return { status: 200, json: this.jobJson(j) };
      }
      case 'GET /jobs/{jobId}': {
        const j = this.jobs.get(Number(id));
        if (!j) return { status: 404, json: { detail: `no job ${id}` } };
        j.polls++;
        if (j.polls === 1) j.status = 'running';
        else if (j.status === 'running') {
          const end = this.opts.jobs?.(this.connections.get(j.connectionId)!) ?? { status: 'succeeded', rows: 10, bytes: 1000 };
          Object.assign(j, { status: end.status, rowsSynced: end.rows ?? 0, bytesSynced: end.bytes ?? 0 });
        }
        return { status: 200, json: this.jobJson(j) };
      }
      default:
        return { status: 501, json: { detail: `${method} ${found.template} is not played by the test server` } };
    }
  }

  private jobJson(j: Obj): Obj {
    const { polls: _p, ...rest } = j;
    const err = this.check('JobResponse', rest);
    if (err) this.invalid.push(`response: ${err}`);
    return rest;
  }
}
