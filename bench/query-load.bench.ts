// The query door's isolation (issue #11): online inference and /health while the query door runs
// heavy queries. `asgard serve` (bench/serve-server.ts, its own process, pinned to SERVER_CORE with
// the door's engine processes it starts) serves a forest of the seed's shape (100 trees, depth 10)
// trained on 20,000 synthetic customers. Two open-loop generators (bench/loadgen.ts via
// bench/open-loop.ts, each its own process on the other core) measure every request from its
// scheduled time in µs: single-customer inference at a fixed 1,000 req/s, and GET /health at 50
// req/s (every 20 ms), first with the door idle (both engines started and warm, no query), then
// while every engine of the door's pool runs a heavy cross join (each stopped at the door's time
// limit and sent again at once).
// /health used to be timed by the bench's own process (a fetch loop, unpinned, beside the heavy
// queries' clients), so a stall of the bench process counted as the server's; now no latency is
// measured in the bench process. The door's engines used to start inside the measured window (the
// loaded phase began when both were busy, not warm), and an engine killed at its time limit started
// again: both are now reported (door_engine_starts, goal 0 during a measured phase).
// Beside the latencies, what the server measured inside itself per phase (bench/serve-server.ts):
// its event-loop delay and GC pauses, and each door engine's CPU time and nice values; these do not
// depend on what else the machine runs.
// Goals (issue #11): inference p99 under query load within 1 ms (1,000 µs) of the idle p99;
// /health < 10 ms.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './run.js';
import { median } from './stats.js';
import { QUERY_POOL_SIZE } from '../src/serve/query-door.js';
import { persistState, runContext, serveOn } from '../test/ml/fixtures.js';
import { trainForest } from './served-forest.js';
import { openLoop, serveProcess, warmQueryDoor, type LoadResult, type ServerStats } from './open-loop.js';

const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);
const SECONDS = 8;
const RATE = 1000;
const HEALTH_RATE = 50;
const HEAVY = 'SELECT count(*) AS n FROM gold.customer_metrics a, gold.customer_metrics b WHERE a.total_purchases * b.support_tickets = a.account_age_days';
const BODY = JSON.stringify({
  model_name: 'customer_churn_predictor',
  inputs: [
    {
      total_purchases: 5,
      customer_lifetime_value: 450.0,
      avg_purchase_value: 90.0,
      days_since_last_purchase: 75,
      purchase_frequency: 0.5,
      account_age_days: 120,
      support_tickets: 5,
      avg_support_resolution_hours: 48.0,
    },
  ],
});

interface Phase {
  readonly inference: LoadResult;
  readonly health: LoadResult;
  readonly server: ServerStats;
  /** Door engine processes that started during the phase. */
  readonly starts: number;
}

export async function run(): Promise<Figure[]> {
  const { dir, ir, train, serve, fx, trained: t } = await trainForest('asgard-query-load-', 20_000);
  const s = await serveOn(fx).run(runContext(ir, serve, fx));
  persistState(fx, ir, {
    [train.id]: { kind: 'train', fingerprint: 'f', metaFingerprint: 'm', definition: {}, modelVersion: t.modelVersion, appliedAt: new Date().toISOString() },
    [serve.id]: {
      kind: 'serve',
      fingerprint: 'f',
      metaFingerprint: 'm',
      definition: {},
      snapshot: s.snapshot,
      schema: s.schema,
      appliedAt: new Date().toISOString(),
    },
  });
  const cfg = join(dir, 'serve.json');
  writeFileSync(cfg, JSON.stringify({ ir, spec: join(dir, 'spec.asg'), stateDir: dir }));
  const server = await serveProcess(cfg);
  const { url } = server;
  let stop = false;
  try {
    await openLoop(`${url}/mlops/inference`, BODY, RATE, 2); // warm-up: session created, JIT warm
    await warmQueryDoor(url);
    const door = (sql: string) =>
      fetch(`${url}/data-products/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });

    // The heavy queries: one loop per engine of the pool, each sending its query again once answered.
    const answers: Record<string, number> = {};
    const heavy = async () => {
      while (!stop) {
        const r = await door(HEAVY);
        const j = (await r.json()) as { error?: { code: string } };
        const code = j.error?.code ?? String(r.status);
        answers[code] = (answers[code] ?? 0) + 1;
      }
    };
    // One measured phase: inference and /health at their fixed rates, the server's own figures.
    const measure = async (what: string): Promise<Phase> => {
      const before = new Set((await server.stats()).door.map((d) => d.pid));
      await server.mark();
      const [inference, health] = await Promise.all([
        openLoop(`${url}/mlops/inference`, BODY, RATE, SECONDS),
        openLoop(`${url}/health`, undefined, HEALTH_RATE, SECONDS),
      ]);
      const stats = await server.stats();
      const starts = stats.door.filter((d) => !before.has(d.pid)).length;
      const gc = Object.entries(stats.gc)
        .map(([k, g]) => `${k} ${g.count}× ${g.ms} ms (max ${g.max_ms})`)
        .join(', ');
      process.stderr.write(
        `query-load ${what}: inference p50/p99 ${inference.p50_us}/${inference.p99_us} µs (generator: send lag p99 ${inference.send_lag_p99_us} µs, ${inference.client_gc_count} GCs), /health p50/p99 ${health.p50_us}/${health.p99_us} µs; ` +
          `server: event-loop delay p99/max ${stats.eld_p99_us}/${stats.eld_max_us} µs, CPU ${stats.cpu_ms} ms, waited for a core ${stats.runqueue_wait_ms} ms (${stats.preempted} preemptions), ${Math.round(stats.alloc_bytes / inference.count)} B allocated per inference, GC ${gc || 'none'}; ` +
          `door engines ${stats.door.map((d) => `${d.pid} CPU ${d.cpu_ms} ms nice ${[...new Set(d.nice)].join('/')}`).join(', ')}; started during the phase: ${starts}\n`,
      );
      return { inference, health, server: stats, starts };
    };
    const idle: Phase[] = [];
    const loaded: Phase[] = [];
    const loops: Promise<void>[] = [];
    for (let i = 0; i < RUNS; i++) {
      idle.push(await measure(`run ${i + 1} door idle`));
      stop = false;
      loops.push(...Array.from({ length: QUERY_POOL_SIZE }, heavy));
      for (let k = 0; k < 200; k++) {
        const h = (await (await fetch(`${url}/health`)).json()) as { components: { query_door: { busy: number } } };
        if (h.components.query_door.busy === QUERY_POOL_SIZE) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      loaded.push(await measure(`run ${i + 1} ${QUERY_POOL_SIZE} heavy queries`));
      stop = true;
      await Promise.all(loops.splice(0));
    }
    process.stderr.write(`query-load: heavy query answers by code: ${JSON.stringify(answers)}\n`);
    if (!Object.keys(answers).length) throw new Error('no heavy query ran');
    const ms = (us: number) => us / 1000;
    const m = (xs: Phase[], f: (p: Phase) => number) => median(xs.map(f));
    return [
      {
        name: 'serve.query_load.inference_p99_idle_us',
        value: m(idle, (p) => p.inference.p99_us),
        unit: 'µs',
        goal: `at ${RATE} req/s open loop, door idle`,
        runs: RUNS,
      },
      {
        name: 'serve.query_load.inference_p99_us',
        value: m(loaded, (p) => p.inference.p99_us),
        unit: 'µs',
        goal: `within 1000 of idle, at ${RATE} req/s open loop, ${QUERY_POOL_SIZE} heavy queries`,
        runs: RUNS,
      },
      {
        name: 'serve.query_load.inference_p99_added_us',
        value: median(loaded.map((p, i) => p.inference.p99_us - idle[i].inference.p99_us)),
        unit: 'µs',
        goal: '< 1000',
        runs: RUNS,
      },
      {
        name: 'serve.query_load.client_send_lag_p99_us',
        value: Math.max(...[...idle, ...loaded].map((p) => p.inference.send_lag_p99_us)),
        unit: 'µs',
        goal: "the generator's own lateness (inside every latency), worst phase",
        runs: RUNS,
      },
      {
        name: 'serve.query_load.health_p50_idle_ms',
        value: ms(m(idle, (p) => p.health.p50_us)),
        unit: 'ms',
        goal: `door idle, ${HEALTH_RATE} req/s open loop`,
        runs: RUNS,
      },
      { name: 'serve.query_load.health_p99_idle_ms', value: ms(m(idle, (p) => p.health.p99_us)), unit: 'ms', goal: 'door idle', runs: RUNS },
      { name: 'serve.query_load.health_p50_ms', value: ms(m(loaded, (p) => p.health.p50_us)), unit: 'ms', goal: '< 10 under heavy queries', runs: RUNS },
      { name: 'serve.query_load.health_p99_ms', value: ms(m(loaded, (p) => p.health.p99_us)), unit: 'ms', goal: '< 10 under heavy queries', runs: RUNS },
      {
        name: 'serve.query_load.server_eld_p99_idle_us',
        value: m(idle, (p) => p.server.eld_p99_us),
        unit: 'µs',
        goal: "the server's event-loop delay, door idle",
        runs: RUNS,
      },
      {
        name: 'serve.query_load.server_eld_p99_us',
        value: m(loaded, (p) => p.server.eld_p99_us),
        unit: 'µs',
        goal: "the server's event-loop delay, heavy queries",
        runs: RUNS,
      },
      {
        name: 'serve.query_load.door_engine_starts',
        value: [...idle, ...loaded].reduce((n, p) => n + p.starts, 0),
        unit: 'starts',
        goal: '0 during measured phases',
        runs: RUNS,
      },
    ];
  } finally {
    stop = true;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
