// Sources under a kubernetes profile are synced by Airbyte through its public API (the compiled
// airbyte/ payloads, src/targets/airbyte/): the destination, each source and its connection are
// found by name in the workspace and updated, or created, so applying twice makes no second copy;
// then a sync job is started and polled until it ends, and its records and bytes are reported.
// `${NAME}` placeholders of the payloads are filled at apply time: ids from the objects just
// created or found, everything else (env() and secret() references) from the environment. Values
// are sent to Airbyte only, never written or printed (errors name fields and placeholders only).
// What applies made for connectors the spec no longer has is deleted by name too (sweep).

import { load } from 'js-yaml';
import type { FileMap } from '../targets/files.js';
import { envName } from '../targets/pipeline.js';

export class AirbyteError extends Error {}

export interface AirbyteOptions {
  /** The API's base URL, e.g. http://airbyte-server:8006/v1 (the public API's `/v1`). */
  readonly url: string;
  readonly workspaceId: string;
  /** A bearer token (an application's access token), when the server needs one. */
  readonly token?: string;
  /** Where the values of the payloads' `${NAME}` placeholders come from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pollMs?: number;
  readonly timeoutSeconds: number;
  readonly signal?: AbortSignal;
}

export interface SyncResult {
  readonly jobId: number;
  readonly rows?: number;
  readonly bytes?: number;
}

type Payload = Record<string, unknown>;
type Kind = 'sources' | 'destinations' | 'connections';
const ID_FIELD = { sources: 'sourceId', destinations: 'destinationId', connections: 'connectionId' } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `${X_HOST}`, `${X_DATABASE}`, `${X_USER}`: the compiled split of a `url = env("X")` connection
 * (src/targets/airbyte/connectors.ts), taken from that URL when the parts are not set themselves.
 */
function fromUrl(env: AirbyteOptions['env'], name: string): string | undefined {
  const m = /^(.+)_(HOST|DATABASE|USER)$/.exec(name);
  const raw = m ? env[m[1]] : undefined;
  if (!m || !raw) return undefined;
  try {
    const u = new URL(raw);
    const part = m[2] === 'HOST' ? u.hostname : m[2] === 'DATABASE' ? u.pathname.replace(/^\//, '') : u.username;
    return part ? decodeURIComponent(part) : undefined;
  } catch {
    return undefined;
  }
}

export class Airbyte {
  private destination?: Promise<string>;
  private readonly syncs = new Map<string, Promise<SyncResult>>();
  /** Requests sent, as `METHOD /path` (the bench and tests count them). */
  readonly requests: string[] = [];

  constructor(
    readonly opts: AirbyteOptions,
    /** The compiled tree, or how to get it (compiled once, when the first sync needs it). */
    private readonly tree: FileMap | (() => Promise<FileMap>),
  ) {}

  private async file(path: string): Promise<Payload> {
    const tree = typeof this.tree === 'function' ? await this.tree() : this.tree;
    const text = tree.get(`airbyte/${path}`);
    if (text === undefined) throw new AirbyteError(`the compiled tree has no airbyte/${path}`);
    return load(text) as Payload;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.opts.url.replace(/\/+$/, '')}${path}`;
    this.requests.push(`${method} ${path.split('?')[0]}`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new AirbyteError(
        `cannot reach the Airbyte API at ${this.opts.url} (${method} ${path.split('?')[0]}): ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { detail?: string; title?: string; message?: string };
        detail = j.detail ?? j.message ?? j.title ?? detail;
      } catch {
        // not JSON
      }
      throw new AirbyteError(`Airbyte API ${method} ${path.split('?')[0]} answered ${res.status}: ${detail}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** The objects of `kind` in the workspace, page after page, until `stop` says one is found. */
  private async list(kind: Kind, stop?: (x: Payload) => boolean): Promise<Payload[]> {
    const all: Payload[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.call<{ data?: Payload[] }>(
        'GET',
        `/${kind}?workspaceIds=${encodeURIComponent(this.opts.workspaceId)}&limit=100&offset=${offset}`,
      );
      const data = page.data ?? [];
      all.push(...data);
      if (data.length < 100 || (stop && data.some(stop))) return all;
    }
  }

  /** The object of `kind` named `name` in the workspace (every page), or undefined. */
  private async findByName(kind: Kind, name: string): Promise<Payload | undefined> {
    const named = (x: Payload) => x.name === name;
    return (await this.list(kind, named)).find(named);
  }

  /**
   * Delete what applies of `pipeline` made for connectors the spec no longer has, found by the names
   * asgard gives them (src/targets/airbyte/airbyte.ts): `<pipeline>-<connector>-to-bronze`
   * connections that lead to the pipeline's destination, then `<pipeline>-<connector>` sources that
   * no connection left uses (a connection of something else keeps its source), then the
   * `<pipeline>-bronze` destination once `keep` is empty and no connection uses it. Returns what was
   * deleted, with why; nothing to delete costs three lists.
   */
  async sweep(pipeline: string, keep: ReadonlySet<string>): Promise<string[]> {
    const [connections, sources, destinations] = await Promise.all([this.list('connections'), this.list('sources'), this.list('destinations')]);
    const destination = destinations.find((d) => d.name === `${pipeline}-bronze`);
    // The connector a name of asgard's form is for (connector names are identifiers), or undefined.
    const connectorOf = (name: unknown, suffix: string) => {
      const prefix = `${pipeline}-`;
      if (typeof name !== 'string' || !name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
      const c = name.slice(prefix.length, name.length - suffix.length);
      return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(c) ? c : undefined;
    };
    const gone = (name: unknown, suffix: string) => {
      const c = connectorOf(name, suffix);
      return c !== undefined && !keep.has(c);
    };
    const deleted: string[] = [];
    const remove = async (kind: Kind, x: Payload, why: string) => {
      await this.call('DELETE', `/${kind}/${String(x[ID_FIELD[kind]])}`);
      deleted.push(`Airbyte ${kind.slice(0, -1)} ${String(x.name)} (${why})`);
    };
    const left: Payload[] = [];
    for (const c of connections) {
      if (destination && c.destinationId === destination.destinationId && gone(c.name, '-to-bronze')) {
        await remove('connections', c, 'its source is no longer in the spec');
      } else left.push(c);
    }
    for (const s of sources) {
      if (gone(s.name, '') && !left.some((c) => c.sourceId === s.sourceId)) await remove('sources', s, 'no longer in the spec');
    }
    if (destination && keep.size === 0 && !left.some((c) => c.destinationId === destination.destinationId)) {
      await remove('destinations', destination, 'no source of the spec needs it');
    }
    return deleted;
  }

  /** `${NAME}` placeholders filled: ids first, then the environment; a missing one is an error naming it. */
  private fill(value: unknown, ids: Record<string, string>, where: string): unknown {
    if (typeof value === 'string') {
      return value.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
        const v = ids[name] ?? this.opts.env[name] ?? fromUrl(this.opts.env, name);
        if (v === undefined || v === '') throw new AirbyteError(`${where}: \${${name}} has no value: export ${name} in the environment that runs asgard`);
        return v;
      });
    }
    if (Array.isArray(value)) return value.map((v) => this.fill(v, ids, where));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.fill(v, ids, where)]));
    return value;
  }

  private baseIds(): Record<string, string> {
    return { AIRBYTE_WORKSPACE_ID: this.opts.workspaceId };
  }

  /** Create or update (by name) the object described by the compiled file; its id. */
  private async upsert(kind: Kind, file: string, ids: Record<string, string>): Promise<string> {
    const payload = this.fill(await this.file(file), ids, `airbyte/${file}`) as Payload;
    const idField = ID_FIELD[kind];
    const found = await this.findByName(kind, String(payload.name));
    if (found) {
      const { workspaceId: _w, sourceId: _s, destinationId: _d, definitionId: _def, ...patch } = payload;
      // A connection's source and destination are fixed at creation; the rest is updated in place.
      await this.call(
        'PATCH',
        `/${kind}/${String(found[idField])}`,
        kind === 'sources' || kind === 'destinations' ? { name: patch.name, configuration: patch.configuration } : patch,
      );
      return String(found[idField]);
    }
    const created = await this.call<Payload>('POST', `/${kind}`, payload);
    return String(created[idField]);
  }

  private destinationId(): Promise<string> {
    this.destination ??= this.upsert('destinations', 'destination.yaml', this.baseIds());
    return this.destination;
  }

  /** Sync one connector's connection (once per apply, however many of its streams ask). */
  sync(connector: string, onProgress?: (message: string) => void): Promise<SyncResult> {
    let p = this.syncs.get(connector);
    if (!p) {
      p = this.runSync(connector, onProgress);
      this.syncs.set(connector, p);
    }
    return p;
  }

  private async runSync(connector: string, onProgress?: (message: string) => void): Promise<SyncResult> {
    const destinationId = await this.destinationId();
    const sourceKey = envName('AIRBYTE_SOURCE_ID', connector);
    const sourceId = await this.upsert('sources', `sources/${connector}.yaml`, this.baseIds());
    const connectionId = await this.upsert('connections', `connections/${connector}.yaml`, {
      ...this.baseIds(),
      AIRBYTE_DESTINATION_ID: destinationId,
      [sourceKey]: sourceId,
    });
    const job = await this.call<{ jobId: number; status: string }>('POST', '/jobs', { connectionId, jobType: 'sync' });
    onProgress?.(`Airbyte sync job ${job.jobId} ${job.status}`);
    const deadline = Date.now() + this.opts.timeoutSeconds * 1000;
    let status = job.status;
    while (true) {
      if (this.opts.signal?.aborted) throw new AirbyteError(`Airbyte sync job ${job.jobId}: apply was interrupted (the job goes on in Airbyte)`);
      const j = await this.call<{ jobId: number; status: string; rowsSynced?: number; bytesSynced?: number }>('GET', `/jobs/${job.jobId}`);
      if (j.status !== status) onProgress?.(`Airbyte sync job ${job.jobId} ${(status = j.status)}`);
      if (j.status === 'succeeded')
        return {
          jobId: j.jobId,
          ...(j.rowsSynced !== undefined ? { rows: j.rowsSynced } : {}),
          ...(j.bytesSynced !== undefined ? { bytes: j.bytesSynced } : {}),
        };
      if (j.status === 'failed' || j.status === 'cancelled') throw new AirbyteError(`Airbyte sync job ${j.jobId} of connection ${connectionId} ${j.status}`);
      if (Date.now() > deadline)
        throw new AirbyteError(`Airbyte sync job ${j.jobId} did not finish within ${this.opts.timeoutSeconds} s (its last status: ${j.status})`);
      await sleep(this.opts.pollMs ?? 1000);
    }
  }
}
