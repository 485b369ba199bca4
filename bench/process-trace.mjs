// `node --import ./bench/process-trace.mjs …`: when ASGARD_BENCH_TRACE names a file, writes to it
// at exit what the process cost — its CPU time (user + system, process.cpuUsage) and every HTTP
// request it started (node:http/https and fetch), each with its time since the process started,
// method, host and path, and every connection those requests used (by host) — so bench/k8s.bench.ts can count round trips per server (API server,
// S3, Airbyte) and compare CPU rather than wall time on a loaded machine. Nothing of asgard's own
// code knows about it.
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

const file = process.env.ASGARD_BENCH_TRACE;
if (file) {
  const requests = [];
  const at = () => Math.round(performance.now());
  // Connections used by node:http/https requests (each new one to the API server a TLS handshake), by host.
  const sockets = [];
  const seen = new WeakSet();
  dc.subscribe('http.client.request.start', ({ request }) => {
    const host = request.getHeader?.('host') ?? request.host;
    requests.push({ ms: at(), method: request.method, host, path: String(request.path).split('?')[0] });
    const used = (socket) => {
      if (seen.has(socket)) return;
      seen.add(socket);
      sockets.push({ ms: at(), host });
    };
    if (request.socket) used(request.socket);
    else request.once('socket', used);
  });
  dc.subscribe('undici:request:create', ({ request }) => {
    requests.push({ ms: at(), method: request.method, host: new URL(request.origin).host, path: String(request.path).split('?')[0] });
  });
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, wallMs: at(), requests, sockets }) + '\n');
  });
}
