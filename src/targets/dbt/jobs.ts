// dbt/jobs.yaml: how each gold model runs on Kubernetes — a batch/v1 Job per model node in the
// Python jobs image (docker/training.Dockerfile: dbt-duckdb, DuckDB and pyiceberg built in), running
// asgard_dbt.py (templates/dbt/asgard_dbt.py.hbs): the model's inputs read from the profile's Iceberg
// SQL catalog, `dbt build --select <model>` on the project's plain duckdb output, the table written
// back to the catalog. No DuckDB extension is downloaded at run time. The project itself is one
// ConfigMap (the pipeline's own object), mounted file by file at its paths.

import type { ModelNode, PipelineIR } from '../../ir/types.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlDocs } from '../files.js';
import type { TargetContext } from '../registry.js';
import type { ProfileSettings, S3Location } from '../settings.js';
import { k8sName } from '../pipeline.js';
import { render } from '../templates.js';
import { logicalTimeDefaults } from '../logical-time.js';
import { envVar, k8sRefs } from '../k8s-env.js';
import { catalogArgs, catalogJob, catalogJobEnv, jdbcCatalog } from '../iceberg-catalog.js';
import { MANAGED_BY, NODE_LABEL, PIPELINE_LABEL } from '../k8s-objects.js';
import { pythonJobImage } from '../training/training.js';

const MOUNT = '/opt/asgard/dbt';
const RUNNER = 'asgard_dbt.py';

/**
 * Adds dbt/asgard_dbt.py and dbt/jobs.yaml (the project's ConfigMap, one Job per model) to the dbt
 * project in `files`. Needs an Iceberg SQL catalog (`catalog_type = "jdbc"`): pyiceberg cannot
 * commit to a Hadoop catalog, so under one the models get no Job and a warning says why.
 */
export function addModelJobs(
  ir: PipelineIR,
  ctx: TargetContext,
  settings: ProfileSettings,
  wh: S3Location,
  models: readonly ModelNode[],
  files: FileMap,
  diags: Diagnostic[],
): void {
  const catalog = jdbcCatalog(settings, ctx, diags, 'gold models', 'their dbt Jobs read silver and write gold');
  if (!catalog) return;
  const origin: Origin = { spec: ctx.specPath, node: `pipeline ${ir.name}` };
  const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
  const image = pythonJobImage(settings);
  const refs = k8sRefs(ir, settings);
  const lt = logicalTimeDefaults(ir.logicalTime);
  const env = [...catalogJobEnv(settings, refs), ...(lt.env && ir.logicalTime ? [envVar(lt.env, ir.logicalTime, refs)] : [])];
  files.set(RUNNER, textFile(RUNNER, origin, render('dbt/asgard_dbt.py.hbs', { pipeline: ir.name })));

  // The project as one ConfigMap: keys are flat, each mounted at its path.
  const project = [...files.keys()].filter((p) => p !== 'jobs.yaml').sort();
  const key = (path: string) => path.replace(/\//g, '__');
  const projectMap = k8sName(ir.name, 'dbt-project');
  const labels = { ...MANAGED_BY, [PIPELINE_LABEL]: ir.name };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: projectMap, namespace, labels },
    data: Object.fromEntries(project.map((p) => [key(p), files.get(p)!])),
  };
  const modelIds = new Set(models.map((m) => m.id));
  const jobs = models.map((m) => {
    const nodeLabels = { ...labels, [NODE_LABEL]: m.id };
    const args = ['--project', MOUNT, '--work', '/tmp/asgard-dbt', '--model', m.id];
    for (const input of m.inputs) args.push(modelIds.has(input) ? '--model-input' : '--input', input);
    if (m.materialized === 'incremental') args.push('--incremental');
    if (m.partitionBy.length) args.push('--partition-by', m.partitionBy.join(','));
    args.push(...catalogArgs(catalog, wh));
    return catalogJob({
      name: k8sName(ir.name, 'dbt', m.name),
      namespace,
      labels: nodeLabels,
      container: 'dbt',
      image,
      command: ['python', `${MOUNT}/${RUNNER}`, ...args],
      env,
      mount: { mountPath: MOUNT, configMap: projectMap, items: project.map((p) => ({ key: key(p), path: p })) },
    });
  });
  files.set('jobs.yaml', yamlDocs('jobs.yaml', origin, [configMap, ...jobs]));
}
