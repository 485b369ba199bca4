// Validators for compiled artifacts, built from the upstream schemas in ../shared/schemas (never
// copied into the project): Airbyte's public API, the spark-operator CRD, Kubernetes 1.30 OpenAPI
// documents and dbt's JSON schemas.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const schemasDir = resolve(repoRoot, '..', 'shared', 'schemas');

const readYaml = (p: string) => load(readFileSync(join(schemasDir, p), 'utf8')) as Record<string, any>;
const readJson = (p: string) => JSON.parse(readFileSync(join(schemasDir, p), 'utf8')) as Record<string, any>;

/** `${NAME}` deploy-time placeholders stand where the API wants ids that exist only after deployment. */
const PLACEHOLDER = /^\$\{[A-Z][A-Z0-9_]*\}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, unicodeRegExp: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  for (const f of ['int32', 'int64', 'byte', 'int-or-string', 'double', 'float', 'quantity']) ajv.addFormat(f, true);
  ajv.addFormat('uuid', (s: string) => UUID.test(s) || PLACEHOLDER.test(s));
  return ajv;
}

export interface Validators {
  airbyte(name: string, schemaRef: object): ValidateFunction;
  /**
   * A create request (`SourceCreateRequest`…) whose `configuration` is checked against one schema
   * instead of the API's oneOf over every connector (which also would not admit a custom connector).
   */
  airbyteRequest(request: string, configuration: object): ValidateFunction;
  sparkApplication: ValidateFunction;
  k8s(
    kind:
      | 'io.k8s.api.batch.v1.Job'
      | 'io.k8s.api.batch.v1.CronJob'
      | 'io.k8s.api.apps.v1.Deployment'
      | 'io.k8s.api.core.v1.Service'
      | 'io.k8s.api.core.v1.ConfigMap'
      | 'io.k8s.api.core.v1.Namespace'
      | 'io.k8s.api.core.v1.ServiceAccount',
  ): ValidateFunction;
  dbtProject: ValidateFunction;
  dbtYml: ValidateFunction;
  dbtProfileTarget: ValidateFunction;
}

let cached: Validators | undefined;

export function validators(): Validators {
  if (cached) return cached;
  const airbyteDoc = readYaml('airbyte/airbyte-api.openapi.yaml');
  const airbyteAjv = newAjv();
  const airbyteCache = new Map<string, ValidateFunction>();
  const crd = readYaml('spark-operator/sparkoperator.k8s.io_sparkapplications.yaml');
  const k8sDocs: Record<string, Record<string, any>> = {
    'io.k8s.api.batch.v1.Job': readJson('kubernetes/v1.30/apis__batch__v1_openapi.json'),
    'io.k8s.api.batch.v1.CronJob': readJson('kubernetes/v1.30/apis__batch__v1_openapi.json'),
    'io.k8s.api.core.v1.Namespace': readJson('kubernetes/v1.30/api__v1_openapi.json'),
    'io.k8s.api.core.v1.ServiceAccount': readJson('kubernetes/v1.30/api__v1_openapi.json'),
    'io.k8s.api.apps.v1.Deployment': readJson('kubernetes/v1.30/apis__apps__v1_openapi.json'),
    'io.k8s.api.core.v1.Service': readJson('kubernetes/v1.30/api__v1_openapi.json'),
    'io.k8s.api.core.v1.ConfigMap': readJson('kubernetes/v1.30/api__v1_openapi.json'),
  };
  const k8sCache = new Map<string, ValidateFunction>();
  const profiles = readJson('dbt/profiles-latest-fusion.json');
  cached = {
    airbyte(name, schema) {
      let v = airbyteCache.get(name);
      if (!v) {
        v = airbyteAjv.compile({ ...schema, components: airbyteDoc.components });
        airbyteCache.set(name, v);
      }
      return v;
    },
    airbyteRequest(request, configuration) {
      const key = `${request}/${JSON.stringify(configuration)}`;
      let v = airbyteCache.get(key);
      if (!v) {
        const base = airbyteDoc.components.schemas[request];
        v = airbyteAjv.compile({ ...base, properties: { ...base.properties, configuration }, components: airbyteDoc.components });
        airbyteCache.set(key, v);
      }
      return v;
    },
    sparkApplication: newAjv().compile(crd.spec.versions.find((v: any) => v.name === 'v1beta2').schema.openAPIV3Schema),
    k8s(kind) {
      let v = k8sCache.get(kind);
      if (!v) {
        v = newAjv().compile({ $ref: `#/components/schemas/${kind}`, components: k8sDocs[kind].components });
        k8sCache.set(kind, v);
      }
      return v;
    },
    dbtProject: newAjv().compile(readJson('dbt/dbt_project-latest.json')),
    dbtYml: newAjv().compile(readJson('dbt/dbt_yml_files-latest.json')),
    dbtProfileTarget: newAjv().compile({ $ref: '#/definitions/DbConfig', definitions: profiles.definitions }),
  };
  return cached;
}

export const errorsOf = (v: ValidateFunction): string => JSON.stringify(v.errors?.slice(0, 5), null, 1);
