#!/usr/bin/env node
// The `asgard` command: runs the compiled CLI (npm ci builds dist/ via `prepare`), or the
// TypeScript sources through tsx when dist/ is missing or older than a source file (a checkout
// being edited), so the command never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, sep } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');

// Paths joined by hand: path.join normalises each one, which cost this walk about half its CPU.
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = dir + sep + e.name;
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const src = join(root, 'src');
if (existsSync(built) && (!existsSync(src) || statSync(built).mtimeMs >= newestSource(src))) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(src, 'cli', 'main.ts')).href);
}
