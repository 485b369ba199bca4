// The build id: one hash naming the code that fills every cache — asgard's own code (the files of
// src/ under tsx, dist/ when built, and its version) and the versions of the parser (chevrotain),
// the SQL toolkit (polyglot) and DuckDB. Every cache under the state folder is salted with it, so a
// change to any of them (a new transpiler, a DuckDB upgrade, an edited checker) never serves a stale
// entry; a rebuild that writes the same files again keeps the caches warm.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IR_SCHEMA_VERSION } from '../ir/types.js';
import { sha256 } from '../util/canonical-json.js';

/** The packages whose behaviour is cached: parser, SQL toolkit, DuckDB. */
export const CACHED_TOOLS = ['chevrotain', '@polyglot-sql/sdk', '@duckdb/node-api'] as const;

let memo: string | undefined;

export function buildId(): string {
  memo ??= sha256(buildParts().join('\n'));
  return memo;
}

/** What the build id hashes, one `name: value` line each (exported for tests and `--debug`). */
export function buildParts(): string[] {
  const codeRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const parts = [`ir-schema: ${IR_SCHEMA_VERSION}`, `asgard: ${packageVersion(join(dirname(codeRoot), 'package.json'))}`];
  for (const tool of CACHED_TOOLS) parts.push(`${tool}: ${toolVersion(tool)}`);
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e)) parts.push(`${p.slice(codeRoot.length)}: ${sha256(readFileSync(p))}`);
    }
  };
  walk(codeRoot);
  return parts;
}

function packageVersion(file: string): string {
  try {
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** A dependency's version from its package.json, found from its resolved entry without loading it. */
function toolVersion(name: string): string {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(name));
  } catch {
    return 'missing';
  }
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    } catch {
      // not this folder
    }
  }
  return 'unknown';
}
