// feast/: feature_store.yaml and a Python feature repository: per feature view an Entity, a
// FileSource over its table's Parquet in the warehouse, the FeatureView (schema from the spec's
// feature dtypes, TTL) and a FeatureService of the same name (what training and the seed's
// historical-retrieval request ask for); and jobs.yaml, what runs each view under `apply --profile
// kubernetes` (its online table materialised through the Iceberg catalog: ./jobs.ts).

import type { FeatureDType, NodeKind, PipelineIR } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlFile } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings, s3a } from '../settings.js';
import { envName, k8sName, nodesOf, splitTable } from '../pipeline.js';
import { render } from '../templates.js';
import { feastSettings } from './settings.js';
import { addFeatureViewJobs } from './jobs.js';

export const FEAST_DTYPE: Record<FeatureDType, string> = {
  int32: 'Int32',
  int64: 'Int64',
  float32: 'Float32',
  float64: 'Float64',
  string: 'String',
  bool: 'Bool',
  timestamp: 'UnixTimestamp',
};

const VALUE_TYPE: Record<string, string> = {
  BIGINT: 'INT64',
  INTEGER: 'INT32',
  SMALLINT: 'INT32',
  TINYINT: 'INT32',
  VARCHAR: 'STRING',
  DOUBLE: 'DOUBLE',
  FLOAT: 'FLOAT',
  BOOLEAN: 'BOOL',
};

/** Python identifiers for generated variables. */
export const pyIdent = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1');

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'none', model: 'none', features: 'runs', train: 'none', serve: 'none' };

export const feastTarget: Target = {
  name: 'feast',
  kinds,
  settings: feastSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const views = nodesOf(ir, 'features');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (views.length === 0) return { value: files, diagnostics: [] };
    const settings = new ProfileSettings(ctx.profile, 'feast');
    const wh = settings.s3Warehouse();
    const endpoint = settings.get('s3_endpoint');
    diags.push(...settings.diagnostics);
    if (!wh) return { diagnostics: diags };
    const origin: Origin = { spec: ctx.specPath, node: views.map((v) => v.id).join(', ') };

    const layers = [...new Set(views.map((v) => splitTable(v.from).layer))].sort();
    const locations = layers.map((layer) => ({
      layer,
      var: `${layer.toUpperCase()}_LOCATION`,
      env: envName('ASGARD', layer, 'location'),
      default: s3a(wh, layer).replace(/^s3a:/, 's3:'),
    }));
    const types = new Set<string>();
    const viewCtx = views.map((v) => {
      const { layer, table } = splitTable(v.from);
      const joinType = ctx.schemas
        .get(v.from)
        ?.find((c) => c.name === v.entity.joinKey)
        ?.type.toUpperCase();
      const fields = v.features.map((f) => {
        types.add(FEAST_DTYPE[f.dtype]);
        return { name: f.name, dtype: FEAST_DTYPE[f.dtype], description: f.description ?? '' };
      });
      const base = pyIdent(v.name);
      return {
        id: v.id,
        name: v.name,
        description: v.description ?? '',
        entity: v.entity.name,
        entityVar: pyIdent(v.entity.name),
        joinKey: v.entity.joinKey,
        valueType: joinType ? (VALUE_TYPE[joinType] ?? '') : '',
        sourceVar: `${base}_source`,
        sourceName: `${table}_source`,
        locationVar: `${layer.toUpperCase()}_LOCATION`,
        table,
        pathEnv: envName('ASGARD', table, 'path'),
        timestamp: v.timestamp,
        viewVar: `${base}_view`,
        serviceVar: `${base}_service`,
        ttlSeconds: v.ttlSeconds,
        fields,
        tags: Object.fromEntries([['pipeline', ir.name], ['node', v.id], ...(v.tags ?? []).map((t) => [t, 'true'])]),
      };
    });
    // One Entity object per entity name, even when several views share it.
    const seenEntities = new Set<string>();
    const withEntities = viewCtx.map((v) => {
      const defineEntity = !seenEntities.has(v.entity);
      seenEntities.add(v.entity);
      return { ...v, defineEntity };
    });

    files.set(
      'feature_repo.py',
      textFile(
        'feature_repo.py',
        origin,
        render('feast/repo.py.hbs', {
          pipeline: ir.name,
          layerEnv: layers.map((l) => l.toUpperCase()).join('|'),
          feastTypes: [...types].sort().join(', '),
          locations,
          s3EndpointDefault: endpoint?.kind === 'literal' ? String(endpoint.value) : endpoint?.kind === 'env' ? (endpoint.default ?? '') : '',
          views: withEntities,
        }),
      ),
    );
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    files.set(
      'feature_store.yaml',
      yamlFile('feature_store.yaml', origin, {
        project: ir.name.replace(/[^A-Za-z0-9_]/g, '_'),
        provider: 'local',
        registry: { registry_type: 'file', path: 'data/registry.db' },
        offline_store: { type: 'dask' },
        online_store: { type: 'sqlite', path: 'data/online_store.db' },
        entity_key_serialization_version: 3,
      }),
    );
    // The repository as a ConfigMap, for the training Job (training/<name>/job.yaml) to mount.
    files.set(
      'configmap.yaml',
      yamlFile('configmap.yaml', origin, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: feastConfigMapName(ir), namespace, labels: { 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name } },
        data: { 'feature_repo.py': files.get('feature_repo.py')!, 'feature_store.yaml': files.get('feature_store.yaml')! },
      }),
    );
    addFeatureViewJobs(ir, ctx, settings, wh, views, files, diags);
    diags.push(...settings.diagnostics.filter((d) => !diags.includes(d)));
    return { value: files, diagnostics: diags };
  },
};

export const feastConfigMapName = (ir: PipelineIR) => k8sName(ir.name, 'feast-repo');
