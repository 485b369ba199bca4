// airbyte/: the Airbyte public API's create payloads (POST /sources, /destinations, /connections)
// for every source, the S3 Parquet destination over the profile's warehouse (bronze layer), and one
// connection per source with its streams, sync modes, cursor and primary keys and cron schedule.
// IDs that only exist after deployment and every env()/secret() value are `${NAME}` placeholders,
// listed in airbyte/README.md; no value is resolved while compiling.

import type { Connector, NodeKind, PipelineIR, SourceNode } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import { diag } from '../../diagnostics/catalogue.js';
import { Codes } from '../../diagnostics/catalogue.js';
import type { FileMap } from '../files.js';
import { textFile, yamlFile } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings, placeholder } from '../settings.js';
import { envName, nodesOf } from '../pipeline.js';
import { render } from '../templates.js';
import { unixToQuartz } from './cron.js';
import { fileConfiguration, readsFromS3, mysqlConfiguration, postgresConfiguration } from './connectors.js';
import { declarativeManifest } from './http-manifest.js';
import { airbyteSettings } from './settings.js';

export const WORKSPACE_ID = '${AIRBYTE_WORKSPACE_ID}';
export const DESTINATION_ID = '${AIRBYTE_DESTINATION_ID}';
/** Where `apply --profile` uploads a local file source's files for Airbyte (`<prefix>/_asgard/<pipeline>/files/<connector>`). */
export const filesKey = (prefix: string, pipeline: string, connector: string): string =>
  [prefix, '_asgard', pipeline, 'files', connector].filter(Boolean).join('/');

export const sourceIdPlaceholder = (connector: string) => `\${${envName('AIRBYTE_SOURCE_ID', connector)}}`;

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'syncs', cleanse: 'none', model: 'none', features: 'none', train: 'none', serve: 'none' };

export const airbyteTarget: Target = {
  name: 'airbyte',
  kinds,
  settings: airbyteSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const settings = new ProfileSettings(ctx.profile, 'airbyte');
    const diags: Diagnostic[] = [];
    const files: FileMap = new Map();
    const origin = (node: string) => ({ spec: ctx.specPath, node });

    const wh = settings.s3Warehouse();
    const sources = nodesOf(ir, 'source');
    const byConnector = new Map<string, { connector: Connector; streams: SourceNode[] }>();
    for (const s of sources) {
      const e = byConnector.get(s.connector.name) ?? { connector: s.connector, streams: [] };
      e.streams.push(s);
      byConnector.set(s.connector.name, e);
    }

    const destinationName = `${ir.name}-bronze`;
    if (wh) {
      const region = settings.get('s3_region');
      const endpoint = settings.get('s3_endpoint');
      const configuration = {
        destinationType: 's3',
        s3_bucket_name: wh.bucket,
        // Objects land at <prefix>/<namespace = bronze>/<stream>/…parquet: the bronze table folders.
        s3_bucket_path: wh.prefix,
        s3_bucket_region: region ? String(placeholder(region)) : '',
        ...(endpoint ? { s3_endpoint: String(placeholder(endpoint)) } : {}),
        access_key_id: String(placeholder(settings.get('s3_access_key_id') ?? { kind: 'secret', name: 'AWS_ACCESS_KEY_ID' })),
        secret_access_key: String(placeholder(settings.get('s3_secret_access_key') ?? { kind: 'secret', name: 'AWS_SECRET_ACCESS_KEY' })),
        format: { format_type: 'Parquet', compression_codec: 'SNAPPY' },
      };
      files.set(
        'destination.yaml',
        yamlFile('destination.yaml', origin(`pipeline ${ir.name}, bronze layer`), { name: destinationName, workspaceId: WORKSPACE_ID, configuration }),
      );
    }

    for (const [name, { connector, streams }] of [...byConnector].sort(([a], [b]) => a.localeCompare(b))) {
      const nodeIds = streams.map((s) => s.id).join(', ');
      let configuration: Record<string, unknown> | undefined;
      let definitionId: string | undefined;
      if (connector.type === 'postgres') configuration = postgresConfiguration(connector, diags);
      else if (connector.type === 'mysql') configuration = mysqlConfiguration(connector, diags);
      else if (connector.type === 'file') {
        if (!wh) continue;
        configuration = fileConfiguration(
          connector,
          streams.map((s) => ({ name: s.stream.table ?? s.name, ...(s.stream.path !== undefined ? { path: s.stream.path } : {}), span: s.span })),
          {
            bucket: wh.bucket,
            filesKey: filesKey(wh.prefix, ir.name, name),
            ...(settings.get('s3_endpoint') ? { endpoint: settings.get('s3_endpoint')! } : {}),
            ...(settings.get('s3_region') ? { region: settings.get('s3_region')! } : {}),
            accessKey: settings.get('s3_access_key_id') ?? { kind: 'secret', name: 'AWS_ACCESS_KEY_ID' },
            secretKey: settings.get('s3_secret_access_key') ?? { kind: 'secret', name: 'AWS_SECRET_ACCESS_KEY' },
          },
          diags,
        );
        if (!configuration) continue;
      } else if (connector.type === 'http') {
        const manifestPath = `custom/${name}.manifest.yaml`;
        files.set(manifestPath, yamlFile(manifestPath, origin(nodeIds), declarativeManifest(connector, streams)));
        definitionId = `\${${envName('AIRBYTE_DEFINITION_ID', name)}}`;
        const base = connector.settings.base_url ?? connector.settings.url;
        if (!base) diags.push(diag(Codes.MissingProfileSetting, `source \`${name}\`: no \`base_url\``, connector.span));
        configuration = {
          base_url: base ? String(placeholder(base)) : '',
          ...(connector.settings.token ? { api_token: `\${${tokenName(connector)}}` } : {}),
        };
      } else {
        diags.push(diag(Codes.UnsupportedConnector, `source \`${name}\`: the airbyte target has no connector for \`${connector.type}\``, connector.span));
        continue;
      }
      const sourcePath = `sources/${name}.yaml`;
      files.set(
        sourcePath,
        yamlFile(sourcePath, origin(nodeIds), {
          name: `${ir.name}-${name}`,
          ...(definitionId ? { definitionId } : {}),
          workspaceId: WORKSPACE_ID,
          configuration,
        }),
      );

      const connection = {
        name: `${ir.name}-${name}-to-bronze`,
        sourceId: sourceIdPlaceholder(name),
        destinationId: DESTINATION_ID,
        namespaceDefinition: 'custom_format',
        namespaceFormat: 'bronze',
        nonBreakingSchemaUpdatesBehavior: 'propagate_columns',
        status: 'active',
        schedule: connector.schedule ? { scheduleType: 'cron', cronExpression: unixToQuartz(connector.schedule) } : { scheduleType: 'manual' },
        configurations: {
          streams: streams.map((s) => ({
            name: s.stream.table ?? s.name,
            // S3 destinations cannot dedupe: incremental streams append, and the Spark job reading
            // bronze keeps the newest row per primary key (by cursor).
            syncMode: s.stream.mode === 'incremental' ? 'incremental_append' : 'full_refresh_overwrite',
            ...(s.stream.cursor ? { cursorField: [s.stream.cursor] } : {}),
            ...(s.stream.primaryKey.length ? { primaryKey: s.stream.primaryKey.map((k) => [k]) } : {}),
          })),
        },
      };
      const connPath = `connections/${name}.yaml`;
      files.set(connPath, yamlFile(connPath, origin(nodeIds), connection));
    }

    diags.push(...settings.diagnostics);
    const placeholders = collectPlaceholders(files);
    files.set(
      'README.md',
      textFile(
        'README.md',
        origin(`pipeline ${ir.name}`),
        render('airbyte/README.md.hbs', {
          pipeline: ir.name,
          destinationName,
          connectors: [...byConnector.keys()].sort(),
          fileSources: wh
            ? [...byConnector.values()]
                .filter(({ connector }) => connector.type === 'file' && !readsFromS3(connector))
                .map(({ connector }) => ({ connector: connector.name, bucket: wh.bucket, key: filesKey(wh.prefix, ir.name, connector.name) }))
            : [],
          placeholders,
        }),
      ),
    );
    return { value: files, diagnostics: diags };
  },
};

const tokenName = (c: Connector): string => {
  const t = c.settings.token!;
  return t.kind === 'literal' ? envName(c.name, 'token') : t.name;
};

function collectPlaceholders(files: FileMap): string[] {
  const names = new Set<string>();
  for (const [path, text] of files) {
    if (path.endsWith('.manifest.yaml')) continue;
    for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)) names.add(m[1]);
  }
  return [...names].sort();
}
