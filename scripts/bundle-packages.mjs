// `npm run build` step, after tsc: packages made of many small modules are bundled into one file each,
// because a process pays for every module file it loads (resolve, open, read, compile), and a
// command loads these whole. Loading them as the packages ship them cost a CLI process, in CPU
// under load: @kubernetes/client-node ~1.2 s (~800 modules), chevrotain ~0.5 s (lodash-es: ~640),
// @duckdb/node-api ~0.2 s (~180), zod ~0.1 s (~95); bundled, a tenth or less (bench/k8s.md).
//
// - dist/kube/client-node.js (tsc's output of src/kube/client-node.ts, the re-export of what asgard
//   uses of @kubernetes/client-node) is replaced by one bundled file of those exports and only the
//   package code they reach.
// - Each package of VENDORED is bundled whole into dist/vendor/<package>.js, and dist's imports of it
//   point there. The sources (tsx, the tests) import the packages as they are. zod's bundle is
//   CommonJS (dist/vendor/zod.cjs): src/util/schema.ts require()s it on first need, synchronously,
//   and ES modules import its names as well (esbuild lists them where Node's CommonJS lexer reads them).
// - asgard's own modules, once they are complete, are bundled too (dist/bundle/, bin/asgard.js runs
//   it): a cold 1,000-node plan loads ~100 of them, and Node's ES module loader costs a module file
//   far more than its code (resolve, stat, read, compile, link; ~120 ms of CPU for the plan's modules
//   loaded one by one, ~45 ms for the same code in one file). Split at every dynamic import, as the
//   modules are: a command loads the chunks of what it imports, each module's code is in exactly one
//   chunk (so a module's state is never doubled), and a chunk is loaded exactly when one of its
//   modules would be (dist/bundle/modules.json names each chunk's modules, for the tests that check
//   what a command loads). dist/'s module files stay (tests, tools and tsx-free imports of one module).
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build, transform } from 'esbuild';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chunkAsCommonJs, commonJsOutputs, renameChunkImports, requireCommonJs } from './bundle-cjs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Packages bundled into dist/vendor/ (packages with native code keep it outside: NATIVE). */
const VENDORED = ['chevrotain', 'zod', '@duckdb/node-api', 'pg', 'mysql2'];
const COMMONJS = new Set(['zod']);
const NATIVE = ['@duckdb/node-bindings'];
/**
 * Drivers that asgard imports only as their default export: the bundle exports just that (their
 * other names are getters that load more modules when read). One file instead of a package's
 * dozens: `require` of pg 42-54 -> 9-14 ms CPU with the next point, of mysql2 64-68 -> 42-48 ms
 * (3 runs each, bench/ingest.md, session 14). Their optional modules (pg's native binding, its
 * Cloudflare socket) stay outside, loaded only if asked for.
 */
const DEFAULT_ONLY = new Map([
  [
    'pg',
    {
      external: ['pg-native', 'cloudflare:sockets'],
      // pg asks whether it runs in a Cloudflare Worker by reading `navigator.userAgent`, and where
      // there is no navigator (Node 20) by making a fetch Response, which loads undici (~30-37 ms
      // CPU) in every process that connects: a navigator that says Node answers it.
      define: { navigator: JSON.stringify({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }) },
    },
  ],
  ['mysql2', {}],
]);

const options = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  // The packages' own code warns (client-node: a `=== -0`); errors only.
  logLevel: 'error',
  // CommonJS code in a bundle (node-fetch, ws, DuckDB's API) calls require().
  banner: { js: "import { createRequire as __asgardRequire } from 'node:module'; const require = __asgardRequire(import.meta.url);" },
};

await build({ ...options, entryPoints: [join(root, 'src', 'kube', 'client-node.ts')], outfile: join(dist, 'kube', 'client-node.js') });
// tsc's source map was for the re-export.
rmSync(join(dist, 'kube', 'client-node.js.map'), { force: true });

const require = createRequire(join(root, 'package.json'));
// Made afresh: a bundle of an earlier build (another name, another format) would stay behind.
rmSync(join(dist, 'vendor'), { recursive: true, force: true });
const vendored = new Map(VENDORED.map((p) => [p, join(dist, 'vendor', `${p}.${COMMONJS.has(p) ? 'cjs' : 'js'}`)]));
for (const [pkg, outfile] of vendored) {
  // A CommonJS package's names are known only by loading it: they are re-exported one by one.
  const esm = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).type === 'module';
  const names =
    esm || DEFAULT_ONLY.has(pkg) ? [] : Object.keys(require(pkg)).filter((n) => n !== 'default' && n !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(n));
  const only = DEFAULT_ONLY.get(pkg);
  if (only) {
    const { external = [], define = {} } = only;
    await build({ ...options, stdin: { contents: `export { default } from '${pkg}';`, resolveDir: root, loader: 'js' }, outfile, external, define });
    continue;
  }
  const contents = esm ? `export * from '${pkg}';` : `import pkg from '${pkg}';\nexport const { ${names.join(', ')} } = pkg;`;
  const format = COMMONJS.has(pkg) ? { format: 'cjs', banner: {} } : {};
  await build({ ...options, ...format, stdin: { contents, resolveDir: root, loader: 'js' }, outfile, external: NATIVE });
}

/** dist's own modules (not the bundles), their imports of a vendored package pointed at its bundle. */
function rewrite(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join(dist, 'vendor') && p !== join(dist, 'bundle')) rewrite(p);
      continue;
    }
    if (!e.name.endsWith('.js') || p === join(dist, 'kube', 'client-node.js')) continue;
    const text = readFileSync(p, 'utf8');
    let out = text;
    for (const [pkg, file] of vendored) {
      let rel = relative(dirname(p), file).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      out = out
        .replaceAll(`from '${pkg}'`, `from '${rel}'`)
        .replaceAll(`import('${pkg}')`, `import('${rel}')`)
        .replaceAll(`require('${pkg}')`, `require('${rel}')`);
    }
    if (out !== text) writeFileSync(p, out);
  }
}
rmSync(join(dist, 'bundle'), { recursive: true, force: true });
if (existsSync(dist)) rewrite(dist);

/**
 * Whether a chunk's static import of the external `path` can be a require(): a Node built-in, one of
 * asgard's CommonJS modules, or a package whose `import` is the same CommonJS file as its `require`
 * (a package with an ES module build of its own, or an ES module, stays imported).
 */
function commonJsExternal(path) {
  if (path.startsWith('node:')) return true;
  if (path.startsWith('.')) return path.endsWith('.cjs');
  let file;
  try {
    file = require.resolve(path);
    if (fileURLToPath(import.meta.resolve(path)) !== file) return false;
  } catch {
    return false;
  }
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, 'utf8')).type !== 'module';
  }
  return true;
}

// asgard's modules in dist/bundle/. Every chunk is one folder below dist/, as dist's modules are: a
// module finds files beside the program by its own place (import.meta.url: ../../package.json,
// ../../templates, ../vendor/zod.cjs), and a process spawned or a worker started by its file name
// is an entry here under that name (query-door-process.js, graph-layout.js). Packages, the vendored
// bundles, the CommonJS modules (which bin/asgard.js and plan-replay.cts require by path) and the
// Kubernetes client's bundle stay outside, imported where they are (the CommonJS ones by require():
// ./bundle-cjs.mjs).
const bundleDir = join(dist, 'bundle');
const outside = (abs) => abs.startsWith(join(dist, 'vendor') + sep) || abs.endsWith('.cjs') || abs === join(dist, 'kube', 'client-node.js');
const entries = {
  main: join(dist, 'cli', 'main.js'),
  'query-door-process': join(dist, 'serve', 'query-door-process.js'),
  'graph-layout': join(dist, 'docs', 'graph-layout.js'),
};
const bundled = await build({
  entryPoints: entries,
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: bundleDir,
  chunkNames: 'chunk-[hash]',
  minifyWhitespace: true,
  logLevel: 'error',
  metafile: true,
  plugins: [
    {
      name: 'outside',
      setup(b) {
        b.onResolve({ filter: /^\./ }, (a) => {
          const abs = join(a.resolveDir, a.path);
          if (!outside(abs)) return undefined;
          const rel = relative(bundleDir, abs).split(sep).join('/');
          return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
        });
      },
    },
  ],
});
// Chunks that can be CommonJS become chunk-X.cjs (./bundle-cjs.mjs commonJsOutputs: bin/asgard.js
// loads them with V8's code cache, src/cli/code-cache.cts); the others stay ES modules, which load
// the CommonJS modules outside the bundle (and the CommonJS chunks) by require().
const jsOutputs = Object.keys(bundled.metafile.outputs).filter((o) => o.endsWith('.js'));
const keepEsm = [];
for (const out of jsOutputs) {
  const name = relative(bundleDir, join(root, out));
  if (name !== 'main.js' && Object.keys(entries).some((e) => `${e}.js` === name)) {
    keepEsm.push(out);
    continue;
  }
  try {
    await transform(readFileSync(join(root, out), 'utf8'), { format: 'cjs', loader: 'js', logLevel: 'silent' });
  } catch (e) {
    if (!/top-level await/i.test(String(e?.message))) throw e;
    keepEsm.push(out);
  }
}
const commonJs = commonJsOutputs(bundled.metafile.outputs, keepEsm, (path) => commonJsExternal(path));
const renamed = new Set([...commonJs].map((o) => relative(bundleDir, join(root, o))));
const chunks = {};
for (const out of jsOutputs) {
  const file = join(root, out);
  const code = renameChunkImports(readFileSync(file, 'utf8'), renamed);
  const name = relative(bundleDir, file);
  const modules = Object.keys(bundled.metafile.outputs[out].inputs).map((i) => relative(dist, join(root, i)).split(sep).join('/'));
  if (renamed.has(name)) {
    rmSync(file);
    const cjsName = name.replace(/\.js$/, '.cjs');
    writeFileSync(join(bundleDir, cjsName), await chunkAsCommonJs({ build, transform }, code, '../cli/code-cache.cjs'));
    chunks[cjsName] = modules;
  } else {
    // The CommonJS modules outside the bundle by require(), not through the ES module loader (./bundle-cjs.mjs).
    writeFileSync(file, requireCommonJs(code));
    chunks[name] = modules;
  }
}
writeFileSync(join(bundleDir, 'modules.json'), `${JSON.stringify(chunks, null, 1)}\n`);

// Last, once dist/ is complete: the build id's memo beside the code (src/workspace/build-id.ts), so
// a command in a new workspace does not hash every code file to name this build. Stale after any
// later change to dist/ (its signature is the files' sizes and times), and then not used.
const { rememberBesideCode } = await import(pathToFileURL(join(dist, 'workspace', 'build-id.js')).href);
rememberBesideCode(dist);
