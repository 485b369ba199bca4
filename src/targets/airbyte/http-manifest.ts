// The Airbyte API has no generic HTTP source: an HTTP connector becomes a low-code (declarative)
// connector manifest, one DeclarativeStream per spec stream, whose config carries `base_url` and,
// when the spec has a token, `api_token` (a secret: only ever a `${NAME}` placeholder).

import type { Connector, SourceNode } from '../../ir/types.js';

export function declarativeManifest(c: Connector, streams: readonly SourceNode[]): Record<string, unknown> {
  const hasToken = c.settings.token !== undefined;
  // asgard sends the token as `Authorization: Bearer …`, or raw in the spec's `auth_header`.
  const header = c.settings.auth_header?.kind === 'literal' ? String(c.settings.auth_header.value) : 'Authorization';
  const authenticator =
    header.toLowerCase() === 'authorization'
      ? { type: 'BearerAuthenticator', api_token: "{{ config['api_token'] }}" }
      : { type: 'ApiKeyAuthenticator', header, api_token: "{{ config['api_token'] }}" };
  return {
    version: '6.7.0',
    type: 'DeclarativeSource',
    check: { type: 'CheckStream', stream_names: [streams[0]?.stream.table ?? streams[0]?.name] },
    streams: streams.map((s) => ({
      type: 'DeclarativeStream',
      name: s.stream.table ?? s.name,
      primary_key: [...s.stream.primaryKey],
      retriever: {
        type: 'SimpleRetriever',
        requester: {
          type: 'HttpRequester',
          url_base: "{{ config['base_url'] }}",
          path: s.stream.path ?? `/${s.name}`,
          http_method: 'GET',
          ...(hasToken ? { authenticator } : {}),
        },
        record_selector: {
          type: 'RecordSelector',
          extractor: { type: 'DpathExtractor', field_path: s.stream.pagination?.recordsField ? [s.stream.pagination.recordsField] : [] },
        },
        ...(s.stream.pagination ? { paginator: paginator(s.stream.pagination) } : {}),
      },
      ...(s.stream.cursor
        ? {
            incremental_sync: {
              type: 'DatetimeBasedCursor',
              cursor_field: s.stream.cursor,
              datetime_format: '%Y-%m-%dT%H:%M:%S%z',
              start_datetime: { type: 'MinMaxDatetime', datetime: '1970-01-01T00:00:00Z', datetime_format: '%Y-%m-%dT%H:%M:%SZ' },
            },
          }
        : {}),
      schema_loader: { type: 'InlineSchemaLoader', schema: jsonSchema(s) },
    })),
    spec: {
      type: 'Spec',
      connection_specification: {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        required: hasToken ? ['base_url', 'api_token'] : ['base_url'],
        properties: {
          base_url: { type: 'string', title: 'Base URL' },
          ...(hasToken ? { api_token: { type: 'string', title: 'API token', airbyte_secret: true } } : {}),
        },
      },
    },
  };
}

function paginator(p: NonNullable<SourceNode['stream']['pagination']>): Record<string, unknown> {
  if (p.style === 'cursor') {
    return {
      type: 'DefaultPaginator',
      page_token_option: { type: 'RequestOption', inject_into: 'request_parameter', field_name: p.cursorParam ?? 'cursor' },
      pagination_strategy: {
        type: 'CursorPagination',
        cursor_value: `{{ response.${p.cursorField ?? 'next_cursor'} }}`,
        stop_condition: `{{ not response.${p.cursorField ?? 'next_cursor'} }}`,
      },
    };
  }
  return {
    type: 'DefaultPaginator',
    page_token_option: { type: 'RequestOption', inject_into: 'request_parameter', field_name: p.pageParam ?? 'page' },
    ...(p.sizeParam ? { page_size_option: { type: 'RequestOption', inject_into: 'request_parameter', field_name: p.sizeParam } } : {}),
    pagination_strategy: { type: 'PageIncrement', start_from_page: 1, ...(p.pageSize ? { page_size: p.pageSize } : {}) },
  };
}

/** JSON Schema of a stream's declared columns, with Airbyte's type annotations for time types. */
function jsonSchema(s: SourceNode): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const col of s.stream.columns ?? []) props[col.name] = jsonType(col.type);
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: true, properties: props };
}

function jsonType(duck: string): Record<string, unknown> {
  const t = duck.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UBIGINT|UINTEGER)$/.test(t)) return { type: ['null', 'integer'] };
  if (/^(DOUBLE|FLOAT|REAL)$/.test(t) || t.startsWith('DECIMAL')) return { type: ['null', 'number'] };
  if (t === 'BOOLEAN') return { type: ['null', 'boolean'] };
  if (t === 'DATE') return { type: ['null', 'string'], format: 'date' };
  if (t === 'TIMESTAMPTZ' || t === 'TIMESTAMP WITH TIME ZONE')
    return { type: ['null', 'string'], format: 'date-time', airbyte_type: 'timestamp_with_timezone' };
  if (t.startsWith('TIMESTAMP')) return { type: ['null', 'string'], format: 'date-time', airbyte_type: 'timestamp_without_timezone' };
  return { type: ['null', 'string'] };
}
