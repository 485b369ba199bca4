// An API that answers 200 with no records (issue #11, item 2) must not wipe the table: the row-count
// drop guard fails the node, keeps the previous snapshot and skips everything downstream; the
// threshold is configurable (`max_row_drop`) and `allow_empty = true` accepts an empty table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTicketApi, type Ticket, type TicketApi } from '../../demo/ticket-api.js';
import { cli } from '../cli/helpers.js';
import { tree } from './helpers.js';

const all: Ticket[] = Array.from({ length: 300 }, (_, i) => ({
  ticket_id: i + 1,
  customer_id: (i % 40) + 1,
  created_at: `2025-10-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
  resolution_time_hours: (i % 17) + 0.5,
  satisfaction_score: (i % 5) + 1,
}));
let answer: readonly Ticket[] = all;
let api: TicketApi;

beforeAll(async () => {
  api = await startTicketApi({ tickets: () => answer });
});
afterAll(async () => api?.close());

function spec(guard: string, cleanseGuard = ''): string {
  return `pipeline tickets {
  warehouse = "./.asgard/warehouse"
  source api http {
    base_url = "${api.url}"
    stream support_tickets {
      path = "/api/v1/tickets"
      primary_key = ticket_id
      pagination = { style = page  page_param = "page"  size_param = "page_size"  page_size = 100  records_field = "tickets" }
      columns = { ticket_id = "BIGINT"  customer_id = "BIGINT"  created_at = "TIMESTAMPTZ"  resolution_time_hours = "DOUBLE"  satisfaction_score = "INTEGER" }
      ${guard}
    }
  }
  cleanse tickets_clean {
    sql """ SELECT ticket_id, customer_id, satisfaction_score FROM iceberg.bronze.support_tickets """
    ${cleanseGuard}
  }
}
`;
}

/** The state and the warehouse (the run log under runs/ records every apply, failed ones too). */
const data = (d: string) => ({ state: tree(join(d, '.asgard', 'state')), warehouse: tree(join(d, '.asgard', 'warehouse')) });

interface Out {
  ok: boolean;
  nodes: { node: string; status: string; rows?: number; error?: string }[];
}

async function apply(dir: string): Promise<{ code: number; out: Out; stderr: string }> {
  const r = await cli(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir });
  return { code: r.code, out: JSON.parse(r.stdout) as Out, stderr: r.stderr };
}

function state(dir: string): { nodes: Record<string, { snapshot?: { rows: number } }> } {
  return JSON.parse(readFileSync(join(dir, '.asgard', 'state', 'tickets.json'), 'utf8'));
}

describe('an API answering 200 with no records', () => {
  it('fails the source node with the counts and the setting to change; table, state and downstream untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-empty-'));
    writeFileSync(join(dir, 'p.asg'), spec(''));
    answer = all;
    const first = await apply(dir);
    expect(first.code, first.stderr).toBe(0);
    expect(state(dir).nodes['bronze.support_tickets'].snapshot!.rows).toBe(300);
    const before = data(dir);

    answer = [];
    const r = await apply(dir);
    expect(r.code).toBe(1);
    expect(r.out.ok).toBe(false);
    const src = r.out.nodes.find((n) => n.node === 'bronze.support_tickets')!;
    expect(src.status).toBe('failed');
    expect(src.error).toBe(
      'bronze.support_tickets: row count fell from 300 to 0: the new snapshot is empty and allow_empty is not set; the previous snapshot is kept. If this is expected, set `allow_empty = true` on stream support_tickets',
    );
    expect(r.out.nodes.find((n) => n.node === 'silver.tickets_clean')!.status).toBe('skipped');
    expect(data(dir)).toEqual(before);
  });

  it('a drop beyond max_row_drop fails too; within it, or with allow_empty = true, the new snapshot is taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-drop-'));
    writeFileSync(join(dir, 'p.asg'), spec('max_row_drop = 0.2'));
    answer = all;
    expect((await apply(dir)).code).toBe(0);
    const before = data(dir);
    answer = all.slice(0, 210); // -30%
    const r = await apply(dir);
    expect(r.code).toBe(1);
    expect(r.out.nodes[0].error).toMatch(
      /^bronze\.support_tickets: row count fell from 300 to 210: a drop of 30% is more than max_row_drop = 0\.2 allows; the previous snapshot is kept/,
    );
    expect(data(dir)).toEqual(before);

    answer = all.slice(0, 250); // -16.7%: within 0.2
    const ok = await apply(dir);
    expect(ok.code, JSON.stringify(ok.out)).toBe(0);
    expect(state(dir).nodes['bronze.support_tickets'].snapshot!.rows).toBe(250);

    // The setting is metadata: the first apply records it, the next sync takes the empty answer. The
    // cleanse downstream has a guard of its own: without allow_empty there it fails, with it it passes.
    writeFileSync(join(dir, 'p.asg'), spec('allow_empty = true'));
    expect((await apply(dir)).code).toBe(0);
    answer = [];
    const downstream = await apply(dir);
    expect(downstream.code).toBe(1);
    expect(downstream.out.nodes.map((n) => n.status)).toEqual(['succeeded', 'failed']);
    expect(downstream.out.nodes[1].error).toMatch(/^silver\.tickets_clean: row count fell from 250 to 0: .*set `allow_empty = true` on cleanse tickets_clean$/);
    expect(state(dir).nodes['bronze.support_tickets'].snapshot!.rows).toBe(0);
    writeFileSync(join(dir, 'p.asg'), spec('allow_empty = true', 'allow_empty = true'));
    const empty = await apply(dir);
    expect(empty.code, JSON.stringify(empty.out)).toBe(0);
    expect(state(dir).nodes['silver.tickets_clean'].snapshot!.rows).toBe(0);
  });

  it('max_row_drop out of range is invalid input naming the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-drop-'));
    writeFileSync(join(dir, 'p.asg'), spec('max_row_drop = 1.5'));
    const r = await cli(['validate', 'p.asg'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/p\.asg:\d+:\d+: error ASG\d+: .*max_row_drop.*a fraction between 0 and 1/);
  });
});
