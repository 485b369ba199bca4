// The model of the serving benches (serve, query-load): a forest of the seed's shape (100 trees,
// depth 10, 8 features) trained on `customers` synthetic customers (test/ml/fixtures.ts), in a
// fresh folder.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWarehouse, mlIR, runContext, serveNode, trainNode, trainOn } from '../test/ml/fixtures.js';

export async function trainForest(prefix: string, customers: number) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const train = trainNode({ algorithm: { name: 'random_forest', params: { n_estimators: 100, max_depth: 10 } }, gate: undefined });
  const serve = serveNode();
  const ir = mlIR(train, serve);
  const fx = await makeWarehouse(dir, customers);
  const trained = await trainOn(fx).run(runContext(ir, train, fx));
  return { dir, ir, train, serve, fx, trained };
}
