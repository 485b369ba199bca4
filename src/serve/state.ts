// The server's reading of the pipeline state. A state file that cannot be read while `serve` runs
// (corrupt, truncated, not a valid asgard state: an interrupted copy, a hand edit) is 503
// `state_unreadable` with the reason, on every endpoint that needs the state — never a 500 and never
// data of a state the server could not read. Models already loaded keep answering (inference does
// not read the state), and the next request after the file is fixed reads it again.

import { relative } from 'node:path';
import { StateError, type PipelineState, type StateStore } from '../planner/state-store.js';
import { HttpError } from './http.js';

export function readServedState(store: StateStore): PipelineState {
  try {
    return store.read();
  } catch (e) {
    throw e instanceof StateError ? unreadable(store, e) : e;
  }
}

/** The 503 of an unreadable state; the message names the state file inside the state folder, not the server's path. */
export function unreadable(store: StateStore, e: StateError): HttpError {
  const reason = e.message.split(store.file).join(relative(store.stateDir, store.file)).split('\n')[0];
  return new HttpError(503, 'state_unreadable', `the pipeline state cannot be read, so no data is served until it is fixed: ${reason}`, undefined, 5);
}
