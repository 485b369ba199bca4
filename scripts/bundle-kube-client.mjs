// `npm run build` step, after tsc: dist/kube/client-node.js (tsc's output of src/kube/client-node.ts,
// the re-export of what asgard uses of @kubernetes/client-node) replaced by one bundled file of
// those exports and only the package code they reach. Loading the package's ~800 ES modules cost a
// CLI process ~1.2 s of CPU under load, the bundle ~0.17 s (bench/k8s.bench.ts measures the apply).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'src', 'kube', 'client-node.ts')],
  outfile: join(root, 'dist', 'kube', 'client-node.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  // The package's own code warns (a `=== -0`); errors only.
  logLevel: 'error',
  // The package's CommonJS dependencies (node-fetch, ws, …) call require().
  banner: { js: "import { createRequire as __asgardRequire } from 'node:module'; const require = __asgardRequire(import.meta.url);" },
});
// tsc's source map was for the re-export.
rmSync(join(root, 'dist', 'kube', 'client-node.js.map'), { force: true });
