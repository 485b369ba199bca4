// feast/jobs.yaml: how each feature view runs on Kubernetes — a batch/v1 Job per view in the Python
// jobs image (docker/training.Dockerfile: DuckDB and pyiceberg built in), running asgard_features.py
// (templates/feast/asgard_features.py.hbs) as the embedded engine materialises a view
// (src/engine/features-executor.ts): the view's source read from the profile's Iceberg SQL catalog,
// its online table (the latest row per entity, src/sql/features-sql.ts) computed in DuckDB and written
// back to the catalog as `<layer>.<view>`. The runner and each view's SQL are one ConfigMap, the
// pipeline's own object. Feast's repository (feature_repo.py) stays what training reads features with.

import type { FeaturesNode, PipelineIR } from '../../ir/types.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlDocs } from '../files.js';
import type { TargetContext } from '../registry.js';
import type { ProfileSettings, S3Location } from '../settings.js';
import { k8sName } from '../pipeline.js';
import { render } from '../templates.js';
import { k8sRefs } from '../k8s-env.js';
import { catalogArgs, catalogJob, catalogJobEnv, jdbcCatalog } from '../iceberg-catalog.js';
import { MANAGED_BY, NODE_LABEL, PIPELINE_LABEL } from '../k8s-objects.js';
import { pythonJobImage } from '../training/training.js';
import { onlineFeaturesSelect } from '../../sql/features-sql.js';
import { nodeAddress } from '../../ir/address.js';

const MOUNT = '/opt/asgard/features';
const RUNNER = 'asgard_features.py';
/** The relation the runner registers the view's source table as. */
const SOURCE = 'asgard_source';

/**
 * Adds feast/jobs.yaml (the runner's ConfigMap, one Job per feature view) to `files`. Needs an
 * Iceberg SQL catalog (`catalog_type = "jdbc"`), as the dbt Jobs do: under another the views get no
 * Job and a warning says why.
 */
export function addFeatureViewJobs(
  ir: PipelineIR,
  ctx: TargetContext,
  settings: ProfileSettings,
  wh: S3Location,
  views: readonly FeaturesNode[],
  files: FileMap,
  diags: Diagnostic[],
): void {
  const catalog = jdbcCatalog(settings, ctx, diags, 'feature views', 'their Jobs read their source table and write their online table');
  if (!catalog) return;
  const origin: Origin = { spec: ctx.specPath, node: `pipeline ${ir.name}` };
  const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
  const image = pythonJobImage(settings);
  const env = catalogJobEnv(settings, k8sRefs(ir, settings));
  const sqlFile = (v: FeaturesNode) => `${nodeAddress(v.id).name}.sql`;
  files.set(RUNNER, textFile(RUNNER, origin, render('feast/asgard_features.py.hbs', { pipeline: ir.name })));
  const data: Record<string, string> = { [RUNNER]: files.get(RUNNER)! };
  for (const v of views) data[sqlFile(v)] = `${onlineFeaturesSelect(v, SOURCE)}\n`;
  const runnerMap = k8sName(ir.name, 'feature-jobs');
  const labels = { ...MANAGED_BY, [PIPELINE_LABEL]: ir.name };
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: runnerMap, namespace, labels }, data };
  const jobs = views.map((v) =>
    catalogJob({
      name: k8sName(ir.name, 'features', v.name),
      namespace,
      labels: { ...labels, [NODE_LABEL]: v.id },
      container: 'features',
      image,
      command: ['python', `${MOUNT}/${RUNNER}`, '--view', v.id, '--source', v.from, '--sql', `${MOUNT}/${sqlFile(v)}`, ...catalogArgs(catalog, wh)],
      env,
      mount: { mountPath: MOUNT, configMap: runnerMap },
    }),
  );
  files.set('jobs.yaml', yamlDocs('jobs.yaml', origin, [configMap, ...jobs]));
}
