// The server's working copy of a remote state (a warehouse on `s3://…`, src/warehouse/remote-state.ts):
// pulled (state, registry, snapshots) before the server listens, and checked again by a request that
// reads it once the last check is older than the TTL — a conditional read of the state, so an
// unchanged state costs one small request and a newer one written by another apply is pulled
// (snapshots first, the state file last) and served from then on. Concurrent requests share one
// check. Inference never waits for the bucket: it only starts a check. When the bucket cannot be
// reached the last pulled copy keeps being served and /health says `degraded` with the reason.
// Batch scoring writes a snapshot: it holds the remote lock (as apply does), works on a fresh copy
// and pushes its state before releasing.

import { LockHeld } from '../warehouse/lock.js';
import type { RemoteState } from '../warehouse/remote-state.js';
import { HttpError } from './http.js';

/** How long a pulled remote state is served before a request checks the bucket again (ms). */
export const REMOTE_TTL_MS = 2_000;

export class ServedRemote {
  private checkedAt = -Infinity;
  private inflight?: Promise<void>;
  private lastError?: string;

  constructor(
    readonly remote: RemoteState,
    private readonly ttlMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Pull now (server start): a failure here is the caller's (the server does not start on nothing). */
  async pullNow(): Promise<void> {
    await this.remote.pull();
    this.checkedAt = performance.now();
    this.lastError = undefined;
  }

  /** The working copy, checked against the bucket when the last check is older than the TTL. */
  async fresh(): Promise<void> {
    if (performance.now() - this.checkedAt < this.ttlMs) return;
    this.inflight ??= this.check().finally(() => (this.inflight = undefined));
    await this.inflight;
  }

  /** Start a check when one is due, without waiting for it (the inference path). */
  nudge(): void {
    if (performance.now() - this.checkedAt >= this.ttlMs) void this.fresh();
  }

  private async check(): Promise<void> {
    try {
      await this.remote.pull();
      if (this.lastError) this.log(`asgard serve: ${this.remote.store.location} is reachable again`);
      this.lastError = undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (message !== this.lastError) this.log(`asgard serve: cannot check the remote state, serving the last pulled copy: ${message}`);
      this.lastError = message;
    } finally {
      this.checkedAt = performance.now();
    }
  }

  /** /health's component: ok, or degraded while the bucket cannot be reached. */
  health(): Record<string, unknown> {
    return {
      status: this.lastError ? 'degraded' : 'ok',
      location: this.remote.store.location,
      ...(this.lastError ? { message: `serving the last pulled copy: ${this.lastError}` } : {}),
    };
  }

  /**
   * Run a write (batch scoring) holding the remote lock on a freshly pulled copy; its state and
   * snapshots are pushed before the lock is released. Another holder is 409 `busy` naming it.
   */
  async exclusive<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    let held;
    try {
      held = await this.remote.lock('the spec').acquire({ operation });
    } catch (e) {
      if (e instanceof LockHeld)
        throw new HttpError(
          409,
          'busy',
          e.holder ? `the remote state is locked by ${e.holder.operation} (${e.holder.who}@${e.holder.host}); try again when it ends` : e.message,
        );
      throw unavailable(e);
    }
    try {
      await this.remote.pull().catch((e: unknown) => Promise.reject(unavailable(e)));
      this.checkedAt = performance.now();
      const out = await fn();
      await this.remote.flush().catch((e: unknown) => Promise.reject(unavailable(e)));
      return out;
    } finally {
      await this.remote.flush().catch(() => undefined);
      await held.release().catch((e: unknown) => this.log(`asgard serve: releasing the remote lock: ${(e as Error).message}`));
    }
  }
}

function unavailable(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  return new HttpError(503, 'remote_unavailable', `the remote state cannot be used: ${(e as Error).message}`, undefined, 5);
}
