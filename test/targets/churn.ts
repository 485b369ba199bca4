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

export async function compileChurn(text?: string, sqlCache?: SqlTextCache): Promise<{ files?: Map<string, string>; diagnostics: readonly Diagnostic[] }> {
  const source = text ?? readFileSync(CHURN, 'utf8');
  const loaded = text === undefined ? loadPipeline(CHURN, { sqlCachePath: false }) : loadPipelineText(text, CHURN);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return compileLoaded(loaded.ir!, { profile: 'kubernetes', specPath: CHURN_PATH, specSource: source, ...(sqlCache ? { sqlCache } : {}) });
}

/**
 * churn.asg with its kubernetes profile on an Iceberg SQL catalog (PostgreSQL), under which each gold
 * model also compiles to a dbt Job (src/targets/dbt/jobs.ts).
 */
export function churnWithJdbcCatalog(): string {
  const churn = readFileSync(CHURN, 'utf8');
  const text = churn.replace(
    /(\n\s*profile kubernetes \{)/,
    '$1\n    catalog_type     = "jdbc"\n    catalog_uri      = "jdbc:postgresql://postgres.asgard.svc:5432/lake"\n    catalog_user     = "asgard"\n    catalog_password = secret("ICEBERG_CATALOG_PASSWORD")',
  );
  expect(text).not.toBe(churn);
  return text;
}
