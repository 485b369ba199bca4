// Loopback ports for a server a test starts mid-suite on ports it must name in advance (etcd takes
// its peer port as well as its client port). They come from below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), where no outgoing connection can take one between the
// choice and the server's bind: a CI run once lost etcd's peer port to one
// ("listen tcp 127.0.0.1:52394: bind: address already in use").

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first port of the range the kernel picks outgoing connections' local ports from. */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    /* not Linux: use Linux's default */
  }
  return 32768;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const FROM = 10_000;

/**
 * `count` consecutive ports, each free on 127.0.0.1, all in [10000, the ephemeral range). The search
 * starts at `first` (by default a random port, so that two test processes rarely try the same ones)
 * and goes round the whole span before it gives up.
 */
export async function freePortsBelowEphemeral(count: number, first?: number): Promise<number[]> {
  const span = ephemeralLow() - count - FROM;
  if (span <= 0) throw new Error(`no room below the ephemeral range (${ephemeralLow()}) for ${count} ports`);
  const start = first === undefined ? Math.floor(Math.random() * span) : first - FROM;
  for (let i = 0; i < span; i++) {
    const low = FROM + ((start + i) % span);
    const ports = Array.from({ length: count }, (_, k) => low + k);
    let free = true;
    for (const p of ports) if (!(await canListen(p))) free = false;
    if (free) return ports;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1 below ${ephemeralLow()}`);
}
