// The conformance bench: asgard's embedded apply versus Spark + dbt + Feast + scikit-learn at seed
// scale, and `asgard plan` versus `dbt parse` on the 1,000-node synthetic spec (bench/conformance-route.ts).
import type { Figure } from './run.js';
import { conformanceFigures } from './conformance-route.js';

export async function run(): Promise<Figure[]> {
  return conformanceFigures();
}
