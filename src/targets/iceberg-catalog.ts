// The Iceberg catalog a kubernetes profile names for the cluster's jobs: Spark's SparkApplications
// write silver through it (spark/spark.ts), the dbt Jobs read silver and write gold (dbt/jobs.ts),
// the feature views' Jobs read their source and write their online table (feast/jobs.ts). The last
// two are asgard's Python Jobs: their shared Job shape and catalog access are here.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { Codes, diag } from '../diagnostics/catalogue.js';
import type { TargetContext } from './registry.js';
import { type ProfileSettings, type S3Location, s3a } from './settings.js';
import { envVar, s3Env, type EnvVar, type K8sRefs } from './k8s-env.js';
import type { KubeObject } from './k8s-objects.js';

/** The Iceberg catalog the profile names for the cluster's jobs (`iceberg_catalog`, `catalog_type`, `catalog_uri`). */
export interface IcebergCatalog {
  readonly name: string;
  readonly type: string;
  /** The JDBC URL of a `jdbc` catalog (undefined when missing: a diagnostic is reported). */
  readonly uri?: string;
}

export function icebergCatalog(settings: ProfileSettings): IcebergCatalog {
  const name = settings.literalString('iceberg_catalog', 'Iceberg catalog name', 'iceberg')!;
  const type = settings.literalString('catalog_type', 'Iceberg catalog type', 'hadoop')!;
  // Iceberg's JDBC catalog (the SQL catalog asgard writes, docs/lakehouse.md) needs its JDBC URL.
  const uri =
    type === 'jdbc' ? settings.literalString('catalog_uri', 'the JDBC URL of the Iceberg SQL catalog, e.g. "jdbc:postgresql://db:5432/lake"') : undefined;
  return { name, type, ...(uri !== undefined ? { uri } : {}) };
}

/** A JDBC catalog's credentials as the pod's ICEBERG_JDBC_USER / ICEBERG_JDBC_PASSWORD: a secret stays a reference. */
export function catalogCredentialsEnv(settings: ProfileSettings, refs: K8sRefs): EnvVar[] {
  const user = settings.get('catalog_user');
  const password = settings.get('catalog_password');
  return [...(user ? [envVar('ICEBERG_JDBC_USER', user, refs)] : []), ...(password ? [envVar('ICEBERG_JDBC_PASSWORD', password, refs)] : [])];
}

/**
 * The profile's catalog when it is an Iceberg SQL catalog (`catalog_type = "jdbc"` with its URI),
 * which asgard's Python Jobs need (pyiceberg cannot commit to a Hadoop catalog). Otherwise a warning
 * that `subject` compile to no Kubernetes Job, and why: `jobs` (e.g. "their dbt Jobs read silver and
 * write gold").
 */
export function jdbcCatalog(settings: ProfileSettings, ctx: TargetContext, diags: Diagnostic[], subject: string, jobs: string): JdbcCatalog | undefined {
  const catalog = icebergCatalog(settings);
  if (catalog.type !== 'jdbc') {
    diags.push(
      diag(
        Codes.InvalidProfileSetting,
        `profile \`${ctx.profile.name}\`: ${subject} compile to no Kubernetes Job under \`catalog_type = "${catalog.type}"\`: ${jobs} through an Iceberg SQL catalog (set \`catalog_type = "jdbc"\` and \`catalog_uri\`)`,
        ctx.profile.span,
        { severity: 'warning' },
      ),
    );
    return undefined;
  }
  return catalog.uri ? { ...catalog, uri: catalog.uri } : undefined; // a missing URI is reported by icebergCatalog
}

export type JdbcCatalog = IcebergCatalog & { readonly uri: string };

/** A Python Job's access to the catalog's tables: S3 endpoint, region and credentials, the catalog's credentials (references). */
export function catalogJobEnv(settings: ProfileSettings, refs: K8sRefs): EnvVar[] {
  const region = settings.get('s3_region');
  return [...s3Env(settings, refs), ...(region ? [envVar('AWS_REGION', region, refs)] : []), ...catalogCredentialsEnv(settings, refs)];
}

/** The catalog's arguments of asgard's Python Jobs (templates/partials/iceberg_catalog.py.hbs open_catalog). */
export const catalogArgs = (catalog: JdbcCatalog, warehouse: S3Location): string[] => [
  '--catalog',
  catalog.name,
  '--catalog-uri',
  catalog.uri,
  '--warehouse',
  s3a(warehouse),
];

export interface CatalogJobSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** The container's name. */
  readonly container: string;
  readonly image: string;
  readonly command: string[];
  readonly env: EnvVar[];
  /** The ConfigMap mounted read-only at `mountPath` (its `items`, or every key). */
  readonly mount: { readonly mountPath: string; readonly configMap: string; readonly items?: { key: string; path: string }[] };
}

/** A run-once batch/v1 Job of asgard's Python jobs image (no retry: apply reports the failure with its log). */
export function catalogJob(j: CatalogJobSpec): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: j.name, namespace: j.namespace, labels: j.labels },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels: j.labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: j.container,
              image: j.image,
              workingDir: '/tmp',
              command: j.command,
              env: j.env,
              volumeMounts: [{ name: 'project', mountPath: j.mount.mountPath, readOnly: true }],
            },
          ],
          volumes: [{ name: 'project', configMap: { name: j.mount.configMap, ...(j.mount.items ? { items: j.mount.items } : {}) } }],
        },
      },
    },
  };
}
