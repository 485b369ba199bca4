// `node --import ./test/helpers/module-log.mjs …`: appends the URL of every module the process loads
// (through the ES module loader: every asgard module and each package's entry; and at exit every
// CommonJS module, which a require() loads without that loader: avsc, zod's bundle) to the file named
// by ASGARD_TEST_MODULE_LOG, one per line. test/cli/startup.test.ts and test/ingest/noop-sync.test.ts
// use it to check what a command loads.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

if (process.env.ASGARD_TEST_MODULE_LOG) {
  register(
    `data:text/javascript,${encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      const log = ${JSON.stringify(process.env.ASGARD_TEST_MODULE_LOG)};
      export async function load(url, context, next) {
        appendFileSync(log, url + '\\n');
        return next(url, context);
      }
    `)}`,
  );
  process.on('exit', () => {
    const files = Object.keys(Module._cache).filter((f) => f.startsWith('/'));
    if (files.length) appendFileSync(process.env.ASGARD_TEST_MODULE_LOG, files.map((f) => `${pathToFileURL(f).href}\n`).join(''));
  });
}
