// training/: per train node, the training script (features through Feast, the spec's algorithm and
// parameters in scikit-learn, the same split and metrics, MLflow logging and registration, ONNX
// export with skl2onnx), its pinned requirements, and job.yaml: a ConfigMap holding both and a
// batch/v1 Job in the Python jobs image (docker/training.Dockerfile: nothing installed at run time)
// that runs the script with the Feast repository (feast/configmap.yaml) mounted. Under an Iceberg SQL
// catalog (`catalog_type = "jdbc"`) the script reads the feature view's table and the label table
// from the catalog (pyiceberg), registers the repository and trains; the version goes to MLflow and
// to asgard's registry beside the S3 warehouse, which the serving Deployment reads.

import type { NodeKind, PipelineIR, TrainNode } from '../../ir/types.js';
import { SKLEARN_ESTIMATOR, sklearnParams } from '../../ir/algorithms.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import { diag } from '../../diagnostics/catalogue.js';
import { Codes } from '../../diagnostics/catalogue.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlDocs } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings, s3a } from '../settings.js';
import { envName, k8sName, nodeById, nodesOf, splitTable } from '../pipeline.js';
import { render } from '../templates.js';
import { envVar, k8sRefs, s3Env } from '../k8s-env.js';
import type { EnvVar } from '../k8s-env.js';
import { feastConfigMapName } from '../feast/feast.js';
import { catalogCredentialsEnv, icebergCatalog } from '../iceberg-catalog.js';
import { trainingSettings } from './settings.js';

/** The Python jobs image's packages (training, and the dbt Jobs), pinned: the versions the conformance run checks with. */
export const TRAINING_REQUIREMENTS = [
  'feast==0.67.0',
  'scikit-learn==1.9.1',
  'skl2onnx==1.20.0',
  'onnx==1.23.2',
  'mlflow==3.17.2',
  'pandas==2.3.3',
  'pyarrow==25.0.1',
  'numpy==2.4.6',
  'dask==2026.8.0',
  'fsspec==2026.9.0',
  's3fs==2026.9.0',
  // The dbt Jobs of gold models (src/targets/dbt/jobs.ts): dbt on DuckDB, Iceberg through pyiceberg.
  'dbt-core==1.11.8',
  'dbt-duckdb==1.11.1',
  'duckdb==1.5.6',
  'pyiceberg==0.12.0',
  'SQLAlchemy==2.0.58',
  'psycopg2-binary==2.9.13',
];

/** The estimator (src/ir/algorithms.ts) and whether it takes n_jobs. */
const ESTIMATOR: Record<TrainNode['algorithm']['name'], { cls: string; parallel: boolean }> = {
  random_forest: { cls: SKLEARN_ESTIMATOR.random_forest, parallel: true },
  gradient_boosting: { cls: SKLEARN_ESTIMATOR.gradient_boosting, parallel: false },
};

/** Where the asgard state volume is mounted: `.asgard/` beside the spec in the serving pod (/srv/asgard/<spec>). */
export const SPEC_HOME = '/srv/asgard';
export const STATE_MOUNT = `${SPEC_HOME}/.asgard`;

/** `registry/asgard:0.1.0` → `registry/asgard-training:0.1.0`. */
export function trainingImage(asgardImage: string): string {
  const at = asgardImage.lastIndexOf(':');
  const slash = asgardImage.lastIndexOf('/');
  return at > slash ? `${asgardImage.slice(0, at)}-training${asgardImage.slice(at)}` : `${asgardImage}-training`;
}

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'none', model: 'none', features: 'none', train: 'runs', serve: 'none' };

/**
 * The image the Python Jobs run in (training, and the dbt Jobs of gold models): docker/training.Dockerfile,
 * its dependencies built in — nothing is installed at run time. Default: asgard's image repository
 * with a -training suffix.
 */
export function pythonJobImage(settings: ProfileSettings): string {
  return settings.literalString(
    'training_image',
    'the training image (docker/training.Dockerfile)',
    trainingImage(settings.literalString('image', 'the asgard image', 'ghcr.io/asgard-data/asgard:0.1.0')!),
  )!;
}

export const trainingTarget: Target = {
  name: 'training',
  kinds,
  settings: trainingSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const trains = nodesOf(ir, 'train');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (trains.length === 0) return { value: files, diagnostics: [] };
    const settings = new ProfileSettings(ctx.profile, 'training');
    const wh = settings.s3Warehouse();
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    const image = pythonJobImage(settings);
    const refs = k8sRefs(ir, settings);
    const endpoint = settings.get('s3_endpoint');
    const catalog = icebergCatalog(settings);
    const region = settings.get('s3_region');
    diags.push(...settings.diagnostics);
    if (!wh) return { diagnostics: diags };
    // Under a SQL catalog the inputs are read through it (their current snapshots); otherwise from
    // the tables' data folders on S3 (s3fs, in the jobs image).
    const args = [
      '--feast-apply',
      ...(catalog.type === 'jdbc' && catalog.uri ? ['--catalog', catalog.name, '--catalog-uri', catalog.uri, '--warehouse', s3a(wh)] : []),
    ];

    const requirements = 'requirements.txt';
    files.set(requirements, textFile(requirements, { spec: ctx.specPath, node: trains.map((t) => t.id).join(', ') }, TRAINING_REQUIREMENTS.join('\n')));

    for (const t of trains) {
      const origin: Origin = { spec: ctx.specPath, node: t.id };
      const view = nodeById(ir, t.features);
      if (view?.kind !== 'features') {
        diags.push(diag(Codes.MissingSchema, `${t.id}: its features \`${t.features}\` are not a feature view`, t.span));
        continue;
      }
      const label = splitTable(t.label.from);
      const scriptPath = `${t.name}/train.py`;
      const script = render('training/train.py.hbs', {
        pipeline: ir.name,
        id: t.id,
        register: t.register,
        view: view.name,
        viewId: view.id,
        entity: view.entity.name,
        joinKey: view.entity.joinKey,
        features: view.features.map((f) => f.name),
        featureDtypes: Object.fromEntries(view.features.map((f) => [f.name, f.dtype])),
        labelFrom: t.label.from,
        labelTable: label.table,
        labelTableId: `${label.layer}.${label.table}`,
        featuresFrom: view.from,
        featuresPathEnv: envName('ASGARD', splitTable(view.from).table, 'path'),
        labelPathEnv: envName('ASGARD', label.table, 'path'),
        labelColumn: t.label.column,
        labelTimestamp: t.label.timestamp,
        labelLayerEnv: label.layer.toUpperCase(),
        labelLocationDefault: s3a(wh, label.layer).replace(/^s3a:/, 's3:'),
        s3EndpointDefault: endpoint?.kind === 'literal' ? String(endpoint.value) : endpoint?.kind === 'env' ? (endpoint.default ?? '') : '',
        estimator: ESTIMATOR[t.algorithm.name].cls,
        parallel: ESTIMATOR[t.algorithm.name].parallel,
        algorithm: t.algorithm.name,
        algorithmName: t.algorithm.name,
        params: Object.fromEntries(Object.entries(sklearnParams(t.algorithm.params)).sort(([a], [b]) => a.localeCompare(b))),
        test: t.split.test,
        stratify: t.split.stratify,
        seed: t.split.seed,
        gate: t.gate ? { metric: t.gate.metric, op: t.gate.op, value: t.gate.value, text: t.gate.text } : null,
        experiment: t.mlflow?.experiment ?? `${ir.name}-${t.name}`,
      });
      files.set(scriptPath, textFile(scriptPath, origin, script));

      const name = k8sName(ir.name, 'train', t.name);
      const scriptsMap = k8sName(ir.name, 'train', t.name, 'files');
      const env: EnvVar[] = [
        { name: 'FEAST_REPO', value: '/tmp/feast' },
        { name: 'ASGARD_STATE', value: STATE_MOUNT },
        // The registry beside the S3 warehouse (src/warehouse/remote-state.ts), which `asgard serve` reads.
        { name: 'ASGARD_REGISTRY_URL', value: s3a(wh, '_asgard', 'registry').replace(/^s3a:/, 's3:') },
      ];
      // The train block's mlflow tracking URI, else the profile's, else MLFLOW_TRACKING_URI from the ConfigMap.
      const tracking = t.mlflow?.trackingUri ?? settings.get('mlflow_tracking_uri') ?? { kind: 'env', name: 'MLFLOW_TRACKING_URI' };
      env.push(envVar('MLFLOW_TRACKING_URI', tracking, refs));
      env.push(...s3Env(settings, refs));
      if (region) env.push(envVar('AWS_REGION', region, refs));
      env.push(...catalogCredentialsEnv(settings, refs));
      const labels = { 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name, 'asgard.io/node': t.id };

      const configMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: scriptsMap, namespace, labels },
        data: { 'train.py': files.get(scriptPath)!, 'requirements.txt': files.get(requirements)! },
      };
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace, labels },
        spec: {
          backoffLimit: 0,
          ttlSecondsAfterFinished: 86400,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'train',
                  image,
                  workingDir: '/tmp',
                  // Feast writes its registry beside the repo: the read-only ConfigMap is copied to a writable folder.
                  // The script reads its inputs, then registers the repository's objects (`feast apply`) and trains.
                  command: [
                    'sh',
                    '-c',
                    'set -e; mkdir -p /tmp/feast && cp /opt/asgard/feast-src/* /tmp/feast/ && exec python /opt/asgard/training/train.py "$@"',
                    'train',
                    ...args,
                  ],
                  env,
                  resources: {
                    requests: {
                      cpu: settings.literalString('training.cpu', 'training CPU', '2')!,
                      memory: settings.literalString('training.memory', 'training memory', '4Gi')!,
                    },
                    limits: { memory: settings.literalString('training.memory', 'training memory', '4Gi')! },
                  },
                  volumeMounts: [
                    { name: 'training', mountPath: '/opt/asgard/training', readOnly: true },
                    { name: 'feast', mountPath: '/opt/asgard/feast-src', readOnly: true },
                    { name: 'state', mountPath: STATE_MOUNT },
                  ],
                },
              ],
              volumes: [
                { name: 'training', configMap: { name: scriptsMap } },
                { name: 'feast', configMap: { name: feastConfigMapName(ir) } },
                // A working folder only: the version is uploaded to the registry on S3.
                { name: 'state', emptyDir: {} },
              ],
            },
          },
        },
      };
      const jobPath = `${t.name}/job.yaml`;
      files.set(jobPath, yamlDocs(jobPath, origin, [configMap, job]));
    }
    return { value: files, diagnostics: diags };
  },
};
