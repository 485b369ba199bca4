// Builds the site's browser bundle (`npm run build` runs it): site/src/main.ts → site/dist/app.js
// (one classic script: it must run from file://, where module scripts are blocked) and
// site/src/style.css → site/dist/app.css. Every library (Observable Plot, d3-zoom, d3-shape,
// highlight.js) is bundled: the site makes no request at view time (the graph arrives laid out:
// src/docs/graph-layout.ts runs dagre at build time). `asgard docs` copies both files
// next to index.html (src/docs/site-files.ts).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const t0 = performance.now();
await build({
  entryPoints: { app: join(here, 'src', 'main.ts'), 'app-style': join(here, 'src', 'style.css') },
  outdir: join(here, 'dist'),
  entryNames: '[name]',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: false,
});
// esbuild names a CSS entry after its key; the site loads app.css.
const { renameSync } = await import('node:fs');
renameSync(join(here, 'dist', 'app-style.css'), join(here, 'dist', 'app.css'));
if (process.argv.includes('--verbose')) console.error(`site built in ${Math.round(performance.now() - t0)} ms`);
