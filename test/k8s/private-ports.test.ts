// The ports a private API server and etcd start on (test/helpers/ports.ts). A CI run failed when it
// started etcd on fixed ports inside the ephemeral range and an outgoing connection already held the
// peer port.

import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralLow, freePortsBelowEphemeral } from '../helpers/ports.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function hold(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(void held.push(s)));
  });
}

describe('ports for a private API server', () => {
  it('are consecutive and below the ephemeral range', async () => {
    const ports = await freePortsBelowEphemeral(3);
    expect(ports).toEqual([ports[0], ports[0] + 1, ports[0] + 2]);
    expect(ports[0]).toBeGreaterThanOrEqual(10_000);
    expect(ports[2]).toBeLessThan(ephemeralLow());
  });

  it('steps past a run that holds a port someone listens on (here, the peer port)', async () => {
    const [first] = await freePortsBelowEphemeral(5);
    await hold(first + 2);
    const ports = await freePortsBelowEphemeral(3, first);
    expect(ports[0]).toBeGreaterThan(first + 2);
    for (const p of ports) await hold(p);
  });
});
