// `asgard serve`: where it listens (text on stderr), or its JSON document once listening.

import type { View } from '../view.js';

export interface Listening {
  readonly pipeline: string;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly models: readonly string[];
}

export const serveView: View<Listening> = {
  text: (r) => [{ err: `asgard serve: ${r.pipeline} on ${r.url} (models: ${r.models.join(', ') || 'none'}); Ctrl-C to stop\n` }],
  json: (r) => ({ ok: true, url: r.url, port: r.port, host: r.host, models: r.models }),
};
