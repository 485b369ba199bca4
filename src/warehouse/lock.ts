// The apply lock of a remote state, as one object taken with a conditional write: `If-None-Match: *`
// creates it only when nobody holds it, and the holder releases it with a delete conditioned on the
// ETag it created (`If-Match`), so a release never removes somebody else's lock. The object records
// who, on which host, since when, for which operation and plan. A lock whose holder crashed stays
// until a person breaks it with `asgard force-unlock SPEC LOCK_ID` (as Terraform's force-unlock):
// another machine cannot tell a crashed holder from a slow one, so it is never taken silently.

import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { PreconditionFailed, type ObjectStore } from './object-store.js';

export interface LockInfo {
  readonly id: string;
  /** The user that took it. */
  readonly who: string;
  readonly host: string;
  readonly pid: number;
  /** ISO-8601 time it was taken. */
  readonly created: string;
  /** `apply`, `serve batch`… */
  readonly operation: string;
  /** The plan being applied, when there is one. */
  readonly planId?: string;
  readonly version: string;
}

/** Somebody else holds the lock. The message names the holder and how to break a crashed holder's lock. */
export class LockHeld extends Error {
  constructor(
    readonly holder: LockInfo | undefined,
    readonly where: string,
    readonly spec: string,
  ) {
    super(
      holder
        ? `the state is locked: ${holder.operation} by ${holder.who}@${holder.host} (pid ${holder.pid}) since ${holder.created}` +
            `${holder.planId ? `, plan ${holder.planId}` : ''}; lock ID ${holder.id} at ${where}. ` +
            `If that run crashed, break the lock with: asgard force-unlock ${spec} ${holder.id}`
        : `the state is locked (${where}) and the lock could not be read; retry, or inspect it`,
    );
  }
}

/** force-unlock was given another ID than the lock's, or there is no lock. */
export class LockMismatch extends Error {}

export interface HeldLock {
  readonly info: LockInfo;
  /** Record the plan id once the plan is made (a conditional replace of our own lock object). */
  annotate(planId: string): Promise<void>;
  /** Remove the lock if it is still ours; throws when it was broken and taken by someone else. */
  release(): Promise<void>;
}

export class ObjectLock {
  constructor(
    readonly store: ObjectStore,
    /** Object key of the lock, e.g. `.asgard/locks/churn.lock`. */
    readonly key: string,
    /** How the user names the spec in a force-unlock hint. */
    readonly spec: string,
  ) {}

  get where(): string {
    return `${this.store.location}/${this.key}`;
  }

  /** Take the lock or throw LockHeld naming the holder. */
  async acquire(what: { readonly operation: string; readonly planId?: string; readonly version?: string }): Promise<HeldLock> {
    const info: LockInfo = {
      id: randomUUID(),
      who: safeUser(),
      host: hostname(),
      pid: process.pid,
      created: new Date().toISOString(),
      operation: what.operation,
      ...(what.planId ? { planId: what.planId } : {}),
      version: what.version ?? '',
    };
    let etag: string;
    try {
      etag = (await this.store.put(this.key, JSON.stringify(info, null, 2) + '\n', { ifNoneMatch: '*' })).etag;
    } catch (e) {
      if (e instanceof PreconditionFailed) throw new LockHeld(await this.read(), this.where, this.spec);
      throw e;
    }
    let released = false;
    let current = info;
    return {
      get info() {
        return current;
      },
      annotate: async (planId: string) => {
        const next = { ...current, planId };
        try {
          etag = (await this.store.put(this.key, JSON.stringify(next, null, 2) + '\n', { ifMatch: etag })).etag;
          current = next;
        } catch (e) {
          if (e instanceof PreconditionFailed) throw new LockHeld(await this.read(), this.where, this.spec);
          throw e;
        }
      },
      release: async () => {
        if (released) return;
        try {
          await this.store.delete(this.key, { ifMatch: etag });
          released = true;
        } catch (e) {
          if (e instanceof PreconditionFailed) {
            const now = await this.read();
            released = true;
            if (now) throw new LockHeld(now, this.where, this.spec);
            return; // broken by force-unlock and not taken since: nothing to release
          }
          throw e;
        }
      },
    };
  }

  /** The current holder, or undefined when the lock is free. */
  async read(): Promise<LockInfo | undefined> {
    const got = await this.store.get(this.key);
    if (!got) return undefined;
    try {
      return JSON.parse(got.body.toString('utf8')) as LockInfo;
    } catch {
      return { id: '?', who: '?', host: '?', pid: 0, created: '?', operation: 'unreadable lock object', version: '' };
    }
  }

  /** Break the lock whose ID is `id` (and only that one). Returns what it removed. */
  async forceUnlock(id: string): Promise<LockInfo> {
    const got = await this.store.get(this.key);
    if (!got) throw new LockMismatch(`there is no lock at ${this.where}: nothing to unlock`);
    const info = JSON.parse(got.body.toString('utf8')) as LockInfo;
    if (info.id !== id) {
      throw new LockMismatch(
        `the lock at ${this.where} has ID ${info.id}, not ${id} (held by ${info.who}@${info.host} since ${info.created}); nothing was unlocked`,
      );
    }
    try {
      await this.store.delete(this.key, { ifMatch: got.etag });
    } catch (e) {
      if (e instanceof PreconditionFailed) throw new LockMismatch(`the lock at ${this.where} changed while unlocking; run the command again`);
      throw e;
    }
    return info;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
