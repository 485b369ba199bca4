// `npm run conformance`: the whole conformance run, one table at the end. Exit 1 when any check fails.

import { ensureToolchain } from './lib/toolchain.js';
import { prepareWorkspace } from './lib/prepare.js';
import { dbtRows, featureView, feastRows, renderTable, sparkRows, trainingRows, type CheckRow } from './lib/suite.js';

async function main(): Promise<number> {
  const tc = ensureToolchain();
  if (!tc.ok) {
    process.stderr.write(`conformance: the Python toolchain is not available:\n${tc.reason}\n`);
    return 1;
  }
  const tools = tc.tools;
  const say = (s: string) => process.stderr.write(`[conformance] ${s}\n`);
  say('preparing: demo data, asgard apply, asgard compile --profile kubernetes');
  const prep = await prepareWorkspace({ log: say });
  const rows: CheckRow[] = [
    {
      check: `asgard apply (embedded, ${prep.applyNodes.length} nodes)`,
      engine: 'asgard (DuckDB)',
      rows: '-',
      ok: true,
      detail: prep.unpromoted.length ? `pass (not applied at this scale: ${prep.unpromoted.join('; ')})` : 'pass',
      seconds: prep.applySeconds,
    },
  ];
  try {
    const v = await featureView(prep.ws);
    const stages: [string, () => Promise<CheckRow[]>][] = [
      ['spark', () => sparkRows(prep.ws, tools)],
      ['dbt', () => dbtRows(prep.ws, tools)],
      ['feast', () => feastRows(prep.ws, tools, v)],
      ['training', () => trainingRows(prep.ws, tools, v)],
    ];
    for (const [name, stage] of stages) {
      say(`${name}…`);
      try {
        rows.push(...(await stage()));
      } catch (e) {
        rows.push({ check: name, engine: '-', rows: '-', ok: false, detail: (e as Error).message, seconds: 0 });
      }
    }
  } finally {
    await prep.close();
  }
  process.stdout.write(renderTable(rows) + '\n');
  process.stdout.write(`\ntool output: ${prep.ws.log}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`conformance: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
