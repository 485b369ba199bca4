// A step of scripts/bundle-packages.mjs: in the chunks of dist/bundle/, the CommonJS modules left
// outside the bundle (src/**/*.cts compiled to .cjs, dist/vendor/zod.cjs) are loaded with require(),
// not through Node's ES module loader. That loader reads a CommonJS module's source again and runs
// its CommonJS lexer over it to find the names it exports (compiling the lexer itself first): ~9 ms
// of CPU for plan-replay.cjs, build-signature.cjs and cache-paths.cjs in a cold `asgard plan`,
// which bin/asgard.js has already require()d (bench/plan.md, session 12). A require() of a module
// already loaded is a lookup, and the module is the same instance either way (the loader imports
// CommonJS through require's own cache).
//
// esbuild writes such an import as `import{a,b as c}from"../x/y.cjs";` (a static import, at the
// top of the chunk), `import"../x/y.cjs";` (for its effects only) or `import("../x/y.cjs")`; each
// becomes `const{a,b:c}=__asgardCjs("../x/y.cjs");`, `__asgardCjs("../x/y.cjs");` or
// `Promise.resolve().then(()=>__asgardCjs("../x/y.cjs"))`, with `__asgardCjs` a require made for
// the chunk's own place. Any other form of import of a .cjs file fails the build: none is left
// behind unconverted.

const STATIC = /import\{([^}]*)\}from"([^"]+\.cjs)";?/g;
const DYNAMIC = /import\("([^"]+\.cjs)"\)/g;
const SIDE_EFFECT = /import"([^"]+\.cjs)";?/g;

/** `a,b as c` → `a,b:c` (an import list as a destructuring pattern). */
const pattern = (names) =>
  names
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(s);
      if (!m) throw new Error(`bundle-cjs: cannot convert the imported name "${s}"`);
      return m[2] ? `${m[1]}:${m[2]}` : m[1];
    })
    .join(',');

/** The chunk's code with its imports of CommonJS modules made require() calls; the same text when it has none. */
export function requireCommonJs(code) {
  let n = 0;
  let out = code.replace(STATIC, (_, names, path) => {
    n++;
    return `const{${pattern(names)}}=__asgardCjs(${JSON.stringify(path)});`;
  });
  out = out.replace(SIDE_EFFECT, (_, path) => {
    n++;
    return `__asgardCjs(${JSON.stringify(path)});`;
  });
  out = out.replace(DYNAMIC, (_, path) => {
    n++;
    return `Promise.resolve().then(()=>__asgardCjs(${JSON.stringify(path)}))`;
  });
  const left = /\bfrom\s*["'][^"']+\.cjs["']|\bimport\s*\(\s*["'`][^"'`]+\.cjs["'`]\s*\)|\bimport\s*["'][^"']+\.cjs["']/.exec(out);
  if (left) throw new Error(`bundle-cjs: an import of a CommonJS module left as it was: ${left[0]}`);
  if (n === 0) return code;
  return `import{createRequire as __asgardCreateRequire}from"node:module";const __asgardCjs=__asgardCreateRequire(import.meta.url);${out}`;
}

// The bundle's chunks as CommonJS (scripts/bundle-packages.mjs, after esbuild's split build): a
// chunk that can be CommonJS is written as chunk-X.cjs, which bin/asgard.js loads with V8's code
// cache (src/cli/code-cache.cts; Node 20 keeps none for ES modules) and without Node's ES module
// loader. A chunk stays an ES module (chunk-X.js) when it must: it imports statically an ES module
// outside the bundle (a vendored bundle, the Kubernetes client's, a package whose `import` is not
// its `require`), it has a top-level await, it is an entry other than `main` (started by its file
// name: a worker, a process), or it imports statically a chunk that stays one. A chunk's
// `import()` calls go through code-cache.cts importer() (a package or an ES module chunk by Node's
// ES module loader, a CommonJS one by require()); an ES module chunk imports the CommonJS chunks as
// it imports asgard's other CommonJS modules (requireCommonJs above: by require(), its names read
// once; no module of src/ exports a `let` or `var`, so none changes after it is loaded).

const DYNAMIC_ANY = /\bimport\("([^"]+)"\)/g;

/**
 * Which outputs of the split build become CommonJS. `outputs`: the metafile's outputs (name → its
 * imports), each name its path below the working folder; `keepEsm`: outputs that must stay ES modules
 * whatever they import; `commonJsExternal(path)`: whether an import of that external path can be a
 * require(). The rest is decided by following the static imports.
 */
export function commonJsOutputs(outputs, keepEsm, commonJsExternal) {
  const esm = new Set(keepEsm);
  const deps = new Map();
  for (const [out, o] of Object.entries(outputs)) {
    if (!out.endsWith('.js')) continue;
    const own = [];
    for (const i of o.imports) {
      if (i.kind === 'dynamic-import') continue;
      if (!i.external) own.push(i.path);
      else if (!commonJsExternal(i.path)) esm.add(out);
    }
    deps.set(out, own);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [out, own] of deps)
      if (!esm.has(out) && own.some((d) => esm.has(d))) {
        esm.add(out);
        changed = true;
      }
  }
  return new Set([...deps.keys()].filter((o) => !esm.has(o)));
}

/** `"./chunk-X.js"` → `"./chunk-X.cjs"` for each chunk of `renamed` (base names, `chunk-X.js`). */
export function renameChunkImports(code, renamed) {
  return code.replace(/"\.\/([\w-]+\.js)"/g, (m, name) => (renamed.has(name) ? `"./${name.replace(/\.js$/, '.cjs')}"` : m));
}

/**
 * One chunk's ES module code as CommonJS: its `import()` calls through importer(), `import.meta.url`
 * its file's URL, strict as an ES module is. `esbuild` is the esbuild module; `codeCache` the
 * specifier of code-cache.cjs from the chunk's folder. Fails on a top-level await (the caller keeps
 * such a chunk an ES module) and on any `import()` or `import.meta` it could not convert.
 */
export async function chunkAsCommonJs(esbuild, code, codeCache) {
  // Every import() esbuild finds in the chunk, against those the text replacement below finds: the
  // same count, or some import() is written in a form (or some text looks like one) it does not know.
  const parsed = await esbuild.build({
    stdin: { contents: code, loader: 'js' },
    bundle: true,
    write: false,
    metafile: true,
    external: ['*'],
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  const dynamic = parsed.metafile.inputs['<stdin>'].imports.filter((i) => i.kind === 'dynamic-import').length;
  let n = 0;
  const replaced = code.replace(DYNAMIC_ANY, (_, path) => {
    n++;
    return `__asgardImport(${JSON.stringify(path)})`;
  });
  if (n !== dynamic) throw new Error(`bundle-cjs: ${dynamic} import() calls in a chunk, ${n} converted`);
  const usesUrl = code.includes('import.meta');
  const out = await esbuild.transform(replaced, {
    format: 'cjs',
    loader: 'js',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    define: { 'import.meta.url': '__asgardUrl' },
    logLevel: 'silent',
  });
  if (/\bimport_meta\b|\bimport\.meta\b/.test(out.code)) throw new Error('bundle-cjs: a chunk uses import.meta beyond import.meta.url');
  const head = [
    n ? `__asgardImport=require(${JSON.stringify(codeCache)}).importer(__filename)` : '',
    usesUrl ? '__asgardUrl=require("node:url").pathToFileURL(__filename).href' : '',
  ].filter(Boolean);
  return `"use strict";${head.length ? `const ${head.join(',')};` : ''}${out.code}`;
}
