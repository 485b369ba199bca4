// The site's files: index.html with the page data embedded (so it opens from file:// with no
// server and no request), plus the bundled script and stylesheet that `npm run build` makes from
// site/ (site/build.mjs). `asgard docs` writes them to a folder; `asgard serve` answers them at `/`.
//
// What only a node's page shows is written by `asgard docs` beside index.html, in the files of
// src/docs/site-details.ts; `asgard serve` embeds it in the page instead.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { SiteData } from './site-data.js';
import { DETAILS_DIR, scriptJson, splitDetails } from './site-details.js';

/** site/dist/ of this checkout (this file is src/docs/ or dist/docs/). */
export const SITE_ASSETS_DIR = fileURLToPath(new URL('../../site/dist/', import.meta.url));
export const SITE_ASSETS = ['app.js', 'app.css'] as const;

export class SiteAssetsMissing extends Error {}

/** The bundled script and stylesheet, by file name. */
export function siteAssets(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of SITE_ASSETS) {
    const p = join(SITE_ASSETS_DIR, f);
    if (!existsSync(p)) throw new SiteAssetsMissing(`the site's bundle ${p} is missing: run \`npm run build\` (it builds site/ with esbuild)`);
    out.set(f, readFileSync(p));
  }
  return out;
}

/** index.html: the shell, the data as JSON (`<` escaped so no text in it can close the script), the assets by relative URL. */
export function indexHtml(data: SiteData): string {
  const json = scriptJson(data);
  const title = `${data.pipeline} · asgard`.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'none'">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
</head>
<body>
<div id="app"></div>
<script id="asgard-data" type="application/json">${json}</script>
<script src="app.js"></script>
</body>
</html>
`;
}

/**
 * Write index.html, app.js, app.css and the nodes' details files into `outDir` (created if needed;
 * details files of an earlier build that this one does not write are removed). Returns the files written.
 */
export function writeSite(outDir: string, data: SiteData): string[] {
  const assets = siteAssets();
  const { index, files } = splitDetails(data);
  mkdirSync(join(outDir, DETAILS_DIR), { recursive: true });
  for (const f of readdirSync(join(outDir, DETAILS_DIR))) if (/^\d+\.js$/.test(f) && !files.has(`${DETAILS_DIR}/${f}`)) rmSync(join(outDir, DETAILS_DIR, f));
  for (const [f, text] of files) writeFileAtomic(join(outDir, f), text);
  writeFileAtomic(join(outDir, 'index.html'), indexHtml(index));
  for (const [f, bytes] of assets) writeFileAtomic(join(outDir, f), bytes);
  return ['index.html', ...assets.keys(), ...files.keys()];
}
