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
// top of the chunk) or `import("../x/y.cjs")`; each becomes `const{a,b:c}=__asgardCjs("../x/y.cjs");`
// or `Promise.resolve().then(()=>__asgardCjs("../x/y.cjs"))`, with `__asgardCjs` a require made for
// the chunk's own place. Any other form of import of a .cjs file fails the build: none is left
// behind unconverted.

const STATIC = /import\{([^}]*)\}from"([^"]+\.cjs)";?/g;
const DYNAMIC = /import\("([^"]+\.cjs)"\)/g;

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
  out = out.replace(DYNAMIC, (_, path) => {
    n++;
    return `Promise.resolve().then(()=>__asgardCjs(${JSON.stringify(path)}))`;
  });
  const left = /\bfrom\s*["'][^"']+\.cjs["']|\bimport\s*\(\s*["'`][^"'`]+\.cjs["'`]\s*\)|\bimport\s*["'][^"']+\.cjs["']/.exec(out);
  if (left) throw new Error(`bundle-cjs: an import of a CommonJS module left as it was: ${left[0]}`);
  if (n === 0) return code;
  return `import{createRequire as __asgardCreateRequire}from"node:module";const __asgardCjs=__asgardCreateRequire(import.meta.url);${out}`;
}
