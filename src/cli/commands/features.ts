// `asgard features historical SPEC VIEW --entities FILE`: point-in-time correct feature retrieval.

import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { closest } from '../../diagnostics/catalogue.js';
import type { FeaturesNode } from '../../ir/types.js';
import { CliError, EXIT, type Command } from '../command.js';
import { loadValidSpec } from '../spec.js';
import { warehouseOf } from '../engine-access.js';
import { formatsOf, show } from '../view.js';
import { resultSetView } from '../views/result-set.js';
import { attachWarehouse, qualified } from '../../engine/catalog.js';
import { ident, literal, openDuck, queryAll } from '../../engine/duckdb.js';
import { pointInTimeSql } from '../../engine/features.js';

export const command: Command = {
  usage: 'asgard features historical SPEC VIEW --entities FILE [--full-feature-names] [--format text|json|csv]',
  help: `
For every row of the entity file (CSV or Parquet with the view's join key and event_timestamp;
other columns are kept), adds the view's features as they were at that row's event_timestamp: the
latest feature row with a timestamp at or before it, and not older than the view's TTL. Rows with
no such feature row get NULLs. The join key is compared as the view's key type (a CSV's key
column is read as that type: "42" never matches "0042"). Nothing from after event_timestamp is
ever used, so a training set built this way cannot leak the future. Output: one row per entity row, in the file's order;
--format json prints {"columns":[{"name","type"}],"rows":[{...}]}.

Examples:
  asgard features historical pipelines/churn.asg customer_churn_features --entities entities.csv
  asgard features historical pipelines/churn.asg customer_churn_features --entities e.parquet --format json`,
  options: [
    { name: 'entities', type: 'string', arg: 'FILE', description: 'CSV or Parquet file of entity rows (join key, event_timestamp)' },
    { name: 'full-feature-names', type: 'boolean', description: 'name features <view>__<feature>' },
  ],
  formats: formatsOf(resultSetView),
  positionals: [3, 3],
  async run(ctx) {
    const [sub, specPath, viewName] = ctx.positionals;
    if (sub !== 'historical') throw new CliError(`unknown features subcommand "${sub}"; use: asgard features historical SPEC VIEW --entities FILE`);
    const entitiesArg = ctx.str('entities');
    if (!entitiesArg) throw new CliError('--entities FILE is required (CSV or Parquet with the join key and event_timestamp)');
    const spec = await loadValidSpec(ctx, specPath);
    const views = spec.ir.nodes.filter((n): n is FeaturesNode => n.kind === 'features');
    const name = viewName.replace(/^features\./, '');
    const view = views.find((v) => v.name === name);
    if (!view) {
      const guess = closest(
        name,
        views.map((v) => v.name),
      );
      throw new CliError(
        `no feature view "${name}" in ${specPath}${guess ? ` (did you mean ${guess}?)` : views.length ? `; views: ${views.map((v) => v.name).join(', ')}` : ''}`,
      );
    }
    const file = resolve(ctx.io.cwd, entitiesArg);
    if (!existsSync(file)) throw new CliError(`cannot read ${entitiesArg}: no such file`);
    const ext = extname(file).toLowerCase();
    const csv = ext === '.csv' || ext === '.tsv' || ext === '.txt';
    /** The file's relation; `types` (CSV): the columns read as the given types rather than sniffed. */
    const readerOf = (types = ''): string | undefined =>
      ext === '.parquet' ? `read_parquet(${literal(file)})` : csv ? `read_csv(${literal(file)}, header = true${types})` : undefined;
    const reader = readerOf();
    if (!reader) throw new CliError(`--entities ${entitiesArg}: give a .csv or .parquet file`);

    const { state, warehouse } = await warehouseOf(ctx, spec.ir, spec.file);
    if (!state.nodes[view.from]?.snapshot)
      throw new CliError(`${view.from} (the source of ${view.id}) has no data yet: run \`asgard apply ${specPath}\` first`, EXIT.failed);
    const conn = await openDuck();
    try {
      await attachWarehouse(conn, state, warehouse, { ir: spec.ir });
      // The key is compared as the view's key type: a CSV's key is read as that type (sniffed, a
      // column of digits would be a number, and "42" would match the key "0042"), a Parquet's cast.
      const key = view.entity.joinKey;
      const keyType = String((await queryAll(conn, `DESCRIBE ${qualified(view.from)}`)).rows.find((r) => r.column_name === key)?.column_type ?? 'VARCHAR');
      let cols: string[];
      try {
        cols = (await queryAll(conn, `DESCRIBE SELECT * FROM ${reader}`)).rows.map((r) => String(r.column_name));
      } catch (e) {
        throw new CliError(`cannot read ${entitiesArg}: ${(e as Error).message.split('\n')[0]}`);
      }
      const missing = [key, 'event_timestamp'].filter((c) => !cols.includes(c));
      if (missing.length) throw new CliError(`${entitiesArg} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${cols.join(', ')})`);
      const typed = readerOf(csv ? `, types = {${literal(key)}: ${literal(keyType)}}` : '');
      try {
        await conn.run(`CREATE TEMP TABLE asg_entities AS SELECT * REPLACE (CAST(${ident(key)} AS ${keyType}) AS ${ident(key)}) FROM ${typed}`);
      } catch (e) {
        throw new CliError(`cannot read ${entitiesArg}: ${(e as Error).message.split('\n')[0]}`);
      }
      const r = await queryAll(
        conn,
        pointInTimeSql(view, 'asg_entities', { fullFeatureNames: ctx.flag('full-feature-names'), featureRelation: qualified(view.from) }),
      );
      show(ctx, resultSetView, { result: r });
      return EXIT.ok;
    } finally {
      conn.closeSync();
    }
  },
};
