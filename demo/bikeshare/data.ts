// The bike-share pipeline's data (pipelines/bikeshare.asg), generated deterministically with the dirt
// real exports have: stations as CSV (a station exported twice with an older and a newer row, padded
// and mis-cased cities, a blank name), weather as Parquet, maintenance logs as JSON lines split by
// month (read with a glob), and rides behind an HTTP API (demo/bikeshare/api.ts) with rides that end
// before they start, rides without a station and rides from a station that does not exist.
//
//   node --import tsx demo/bikeshare/data.ts DIR     # writes DIR/stations.csv, DIR/weather.parquet, DIR/maintenance/*.json

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Ride {
  readonly ride_id: number;
  readonly station_id: number | null;
  readonly end_station_id: number | null;
  readonly started_at: string;
  readonly ended_at: string;
  readonly member: boolean;
  readonly distance_km: number;
}

export interface BikeshareData {
  readonly stations: string; // CSV text
  readonly weather: { day: string; city: string; temp_c: number; rain_mm: number }[];
  readonly maintenance: { station_id: number; day: string; kind: string }[];
  readonly rides: Ride[];
  /** The last day with rides (the pipeline's logical time is the day after). */
  readonly lastDay: string;
}

/** mulberry32: a small seeded PRNG, so every run writes the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CITIES = ['Oslo', 'Bergen', 'Trondheim'];
const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export function bikeshareData(opts: { stations?: number; days?: number; seed?: number; lastDay?: string } = {}): BikeshareData {
  const nStations = opts.stations ?? 30;
  const days = opts.days ?? 60;
  const rnd = prng(opts.seed ?? 7);
  const last = Date.parse(`${opts.lastDay ?? '2025-06-29'}T00:00:00Z`);
  const first = last - (days - 1) * DAY_MS;
  const dayOf = (i: number) => new Date(first + i * DAY_MS).toISOString().slice(0, 10);

  const lines = ['station_id,name,city,capacity,updated_at'];
  const popularity: number[] = [];
  for (let s = 1; s <= nStations; s++) {
    const city = CITIES[s % CITIES.length];
    const written = s % 7 === 0 ? ` ${city.toUpperCase()} ` : s % 5 === 0 ? city.toLowerCase() : city;
    const name = s === 4 ? '' : `Station ${s}`;
    lines.push(`${s},${name},${written},${10 + (s % 4) * 5},2025-01-0${1 + (s % 5)} 08:00:00`);
    popularity.push(0.3 + rnd() * 3);
  }
  // Station 3 exported twice: the newer row (capacity 40) is the one that counts.
  lines.push(`3,Station 3 (new dock),${CITIES[0]},40,2025-03-01 08:00:00`);

  const weather: BikeshareData['weather'] = [];
  const rainBy = new Map<string, number>();
  for (let d = 0; d < days; d++) {
    for (const city of CITIES) {
      const rain = rnd() < 0.3 ? Math.round(rnd() * 200) / 10 : 0;
      rainBy.set(`${dayOf(d)}|${city}`, rain);
      weather.push({ day: dayOf(d), city, temp_c: Math.round((8 + 10 * Math.sin((d / days) * Math.PI) + rnd() * 6) * 10) / 10, rain_mm: rain });
    }
  }

  const maintenance: BikeshareData['maintenance'] = [];
  for (let d = 0; d < days; d++) {
    for (let s = 1; s <= nStations; s++) if (rnd() < 0.02) maintenance.push({ station_id: s, day: dayOf(d), kind: rnd() < 0.5 ? 'repair' : 'rebalance' });
  }

  const rides: Ride[] = [];
  let id = 1;
  for (let d = 0; d < days; d++) {
    // A slow trend per station, so next week's demand follows this week's but not exactly.
    for (let s = 1; s <= nStations; s++) {
      const rain = rainBy.get(`${dayOf(d)}|${CITIES[s % CITIES.length]}`) ?? 0;
      const trend = 1 + 0.5 * Math.sin((d + s * 3) / 9);
      const mean = popularity[s - 1] * trend * (rain > 5 ? 0.5 : 1) * 3;
      const n = Math.max(0, Math.round(mean + (rnd() - 0.5) * 3));
      for (let k = 0; k < n; k++) {
        const start = first + d * DAY_MS + Math.floor(6 * 3600_000 + rnd() * 15 * 3600_000);
        const minutes = 3 + Math.floor(rnd() * 40);
        const dirt = rnd();
        rides.push({
          ride_id: id++,
          station_id: dirt < 0.01 ? null : dirt < 0.015 ? 999 : s,
          end_station_id: 1 + Math.floor(rnd() * nStations),
          started_at: iso(start),
          ended_at: iso(dirt > 0.99 ? start - 60_000 : start + minutes * 60_000),
          member: rnd() < 0.6,
          distance_km: Math.round(minutes * (0.15 + rnd() * 0.1) * 100) / 100,
        });
      }
    }
  }
  return { stations: `${lines.join('\n')}\n`, weather, maintenance, rides, lastDay: dayOf(days - 1) };
}

/** Writes the file sources; weather.parquet is written by DuckDB from a CSV staging file. */
export async function writeBikeshareFiles(dir: string, data: BikeshareData): Promise<void> {
  mkdirSync(join(dir, 'maintenance'), { recursive: true });
  writeFileSync(join(dir, 'stations.csv'), data.stations);
  const byMonth = new Map<string, string[]>();
  for (const m of data.maintenance) {
    const month = m.day.slice(0, 7);
    byMonth.set(month, [...(byMonth.get(month) ?? []), JSON.stringify(m)]);
  }
  for (const [month, rows] of byMonth) writeFileSync(join(dir, 'maintenance', `${month}.json`), `${rows.join('\n')}\n`);
  const csv = join(dir, '.weather.csv');
  writeFileSync(csv, `day,city,temp_c,rain_mm\n${data.weather.map((w) => `${w.day},${w.city},${w.temp_c},${w.rain_mm}`).join('\n')}\n`);
  const { openDuck, literal } = await import('../../src/engine/duckdb.js');
  const conn = await openDuck();
  try {
    await conn.run(
      `COPY (SELECT CAST(day AS DATE) AS day, city, CAST(temp_c AS DOUBLE) AS temp_c, CAST(rain_mm AS DOUBLE) AS rain_mm FROM read_csv(${literal(csv)}, header = true, all_varchar = true)) TO ${literal(join(dir, 'weather.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    conn.closeSync();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx demo/bikeshare/data.ts DIR\n');
    process.exit(2);
  }
  await writeBikeshareFiles(dir, bikeshareData());
}
