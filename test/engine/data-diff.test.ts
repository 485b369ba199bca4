// `plan --diff-data` on a change whose effect is known exactly: the shop pipeline applied with ten
// orders (order i has amount i), then its cleanse's filter raised from `amount > 0` to `amount > 4`,
// which removes orders 1 to 4 and nothing else. The warehouse and the state are byte-for-byte the
// same afterwards.
import MarkdownIt from 'markdown-it';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';
import { services, shop } from '../planner/shop-services.js';
import { treeFingerprint } from './tree-fingerprint.js';

/** Every file of the state and the warehouse with its size, mtime and content hash: what "nothing changed" means. */
const fingerprint = (root: string) => treeFingerprint(root, ['state', 'warehouse']);

interface Diff {
  key: string[];
  sample?: number;
  rows: { before: number; after: number; added: number; removed: number; changed: number; unchanged: number; addedKeys: string[]; removedKeys: string[] };
  columns: { column: string; changed: number; exampleKeys: string[] }[];
}

describe('plan --diff-data', () => {
  it('reports exactly the rows a filter change removes, downstream too, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-diffdata-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const applied = await cli(['apply', 'shop.asg', '--yes', '--format', 'json'], { cwd: dir, services: services({ n: 10 }, []) });
    expect(applied.code).toBe(0);
    const text = readFileSync(join(dir, 'shop.asg'), 'utf8');
    writeFileSync(join(dir, 'shop.asg'), text.replace('WHERE amount > 0', 'WHERE amount > 4'));
    const before = fingerprint(join(dir, '.asgard'));
    expect(Object.keys(before).some((f) => f.endsWith('.parquet'))).toBe(true);

    const r = await cli(['plan', 'shop.asg', '--diff-data', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { actions: { node: string; dataDiff?: Diff }[] };
    const dd = (node: string) => doc.actions.find((a) => a.node === node)!.dataDiff!;

    // The cleanse: keyed by the source's primary key (carried through a row-for-row query).
    expect(dd('silver.orders_clean')).toEqual({
      key: ['order_id'],
      rows: { before: 9, after: 5, added: 0, removed: 4, changed: 0, unchanged: 5, addedKeys: [], removedKeys: ['1', '2', '3'] },
      columns: [],
    });
    // Order counts per customer: keyed by its GROUP BY; customers 1..4 lose their only order.
    expect(dd('gold.order_counts')).toMatchObject({ key: ['customer_id'], rows: { before: 9, after: 5, removed: 4, added: 0, changed: 0 } });
    // Revenue per country: de was 2+4+6+8 = 20, now 6+8 = 14; fr was 1+3+5+7+9 = 25, now 21.
    expect(dd('gold.revenue')).toEqual({
      key: ['country'],
      rows: { before: 2, after: 2, added: 0, removed: 0, changed: 2, unchanged: 0, addedKeys: [], removedKeys: [] },
      columns: [{ column: 'revenue', changed: 2, exampleKeys: ['de', 'fr'] }],
    });
    // Against another base (`amount > 1`), whose outputs the warehouse does not hold: the base side
    // is computed in the sandbox too. Orders 2, 3 and 4 go.
    writeFileSync(join(dir, 'base.asg'), text.replace('WHERE amount > 0', 'WHERE amount > 1'));
    const vsBase = await cli(['plan', 'shop.asg', '--base', 'base.asg', '--diff-data', '--format', 'json'], { cwd: dir });
    expect(vsBase.code).toBe(0);
    const other = (JSON.parse(vsBase.stdout) as { actions: { node: string; dataDiff?: Diff }[] }).actions.find((a) => a.node === 'silver.orders_clean')!
      .dataDiff!;
    expect(other.rows).toEqual({ before: 8, after: 5, added: 0, removed: 3, changed: 0, unchanged: 5, addedKeys: [], removedKeys: ['2', '3', '4'] });

    // The untouched branch is not compared.
    expect(doc.actions.find((a) => a.node === 'silver.customers_clean')!.dataDiff).toBeUndefined();

    // Nothing in the warehouse or the state moved.
    expect(fingerprint(join(dir, '.asgard'))).toEqual(before);

    // The markdown shows it per node.
    const md = (await cli(['plan', 'shop.asg', '--diff-data', '--format', 'markdown'], { cwd: dir })).stdout;
    const html = new MarkdownIt({ html: true }).render(md);
    expect(md).toContain('Rows: 9 → 5; by `order_id`: 0 added, 4 removed, 0 changed, 5 unchanged.');
    expect(md).toContain('Removed, e.g.: `1`, `2`, `3`');
    expect(html).toContain('<td><code>revenue</code></td>');
    expect(fingerprint(join(dir, '.asgard'))).toEqual(before);
  }, 180_000);

  it('--sample N compares the same N keys every time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-diffdata-sample-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    expect((await cli(['apply', 'shop.asg', '--yes'], { cwd: dir, services: services({ n: 40 }, []) })).code).toBe(0);
    writeFileSync(join(dir, 'shop.asg'), readFileSync(join(dir, 'shop.asg'), 'utf8').replace('WHERE amount > 0', 'WHERE amount > 20'));
    const run = async () => {
      const r = await cli(['plan', 'shop.asg', '--diff-data', '--sample', '10', '--format', 'json'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { actions: { node: string; dataDiff?: Diff }[] }).actions.find((a) => a.node === 'silver.orders_clean')!.dataDiff!;
    };
    const a = await run();
    expect(a.sample).toBe(10);
    expect(a.rows.removed + a.rows.unchanged).toBe(10); // the 10 sampled keys: each removed or kept
    expect(a.rows.before).toBe(10);
    expect(await run()).toEqual(a);
  }, 180_000);

  it('needs an applied state, and --sample needs --diff-data (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-diffdata-none-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const r = await cli(['plan', 'shop.asg', '--diff-data'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has never been applied here');
    expect((await cli(['plan', 'shop.asg', '--sample', '5'], { cwd: dir })).code).toBe(2);
    expect((await cli(['plan', 'shop.asg', '--diff-data', '--sample', 'many'], { cwd: dir })).code).toBe(2);
  });
});
