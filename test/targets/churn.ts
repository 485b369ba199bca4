// Compiling pipelines/churn.asg in-process, as `asgard compile pipelines/churn.asg --profile kubernetes` does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadPipeline, loadPipelineText } from '../../src/dsl/load.js';
import { compileLoaded } from '../../src/cli/commands/compile.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { SqlTextCache } from '../../src/targets/sql-text.js';
import { repoRoot } from './schemas.js';

export const CHURN = join(repoRoot, 'pipelines', 'churn.asg');
export const CHURN_PATH = 'pipelines/churn.asg';

/** One inference input for churn's served model (its feature view's features). */
export const CHURN_INPUT = {
  total_purchases: 3,
  customer_lifetime_value: 127.5,
  avg_purchase_value: 42.5,
  days_since_last_purchase: 100,
  purchase_frequency: 0.25,
  account_age_days: 300,
  support_tickets: 1,
  avg_support_resolution_hours: 6,
};

export async function compileChurn(text?: string, sqlCache?: SqlTextCache): Promise<{ files?: Map<string, string>; diagnostics: readonly Diagnostic[] }> {
  const source = text ?? readFileSync(CHURN, 'utf8');
  const loaded = text === undefined ? loadPipeline(CHURN, { sqlCachePath: false }) : loadPipelineText(text, CHURN);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return compileLoaded(loaded.ir!, { profile: 'kubernetes', specPath: CHURN_PATH, specSource: source, ...(sqlCache ? { sqlCache } : {}) });
}

/**
 * churn.asg with its kubernetes profile on a Hadoop catalog instead of its Iceberg SQL catalog: the
 * gold models and the feature view then compile to no Kubernetes Job (ASG4003 warnings).
 */
export function churnWithHadoopCatalog(): string {
  const churn = readFileSync(CHURN, 'utf8');
  const text = churn.replace(/\n\s*catalog_type\s*=\s*"jdbc"/, '\n    catalog_type     = "hadoop"');
  expect(text).not.toBe(churn);
  return text;
}
