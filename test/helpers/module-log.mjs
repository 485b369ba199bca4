// `node --import ./test/helpers/module-log.mjs …`: appends the URL of every module the process loads
// (through the ES module loader: every asgard module and each package's entry; and at exit, with
// ASGARD_TEST_MODULE_LOG_CJS=1, every CommonJS module, which a require() loads without that loader)
// to the file named by ASGARD_TEST_MODULE_LOG, one per line. test/cli/startup.test.ts uses it to
// check what a command loads. (CommonJS only on request: with it, test/ingest/noop-sync.test.ts sees
// a no-op sync load avsc, required by src/warehouse/iceberg/avro.ts, which its ES-only log missed.)
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
  if (process.env.ASGARD_TEST_MODULE_LOG_CJS)
    process.on('exit', () => {
      const files = Object.keys(Module._cache).filter((f) => f.startsWith('/'));
      if (files.length) appendFileSync(process.env.ASGARD_TEST_MODULE_LOG, files.map((f) => `${pathToFileURL(f).href}\n`).join(''));
    });
}
