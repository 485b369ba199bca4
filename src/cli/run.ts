// The CLI's dispatcher: global flags, help, version, the command registry, exit codes. `runCli`
// never throws and never exits the process, so tests and benches call it in-process.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { closest } from '../diagnostics/catalogue.js';
import { globalOptions, parseArgs, renderOptions } from './args.js';
import { CliError, EXIT, ExitSilently, type CliIO, type CliServices, type Command, type CommandContext, type ParsedArgs } from './command.js';
import { commands, type CommandEntry } from './commands/index.js';
import { runDeferredWrites } from '../util/deferred-writes.js';
import { JsonText } from './view.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function globalHelp(): string {
  const all = commands;
  const w = Math.max(...all.map((c) => c.name.length));
  return [
    'asgard: declarative pipelines for data and ML, planned and applied like infrastructure.',
    '',
    'Usage: asgard COMMAND [ARGS] [--format text|json] [--state DIR] [--profile NAME]',
    '',
    'Commands:',
    ...all.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Global options:',
    renderOptions(globalOptions),
    '      --version  print the version',
    '',
    'Exit codes: 0 ok, 1 execution failed, 2 invalid input, 3 plan --detailed-exitcode found changes.',
    "Run `asgard COMMAND --help` for a command's options and examples.",
    '',
  ].join('\n');
}

function commandHelp(entry: CommandEntry, c: Command): string {
  return [
    `Usage: ${c.usage}`,
    '',
    entry.summary,
    '',
    c.help.trim(),
    '',
    ...(c.options.length ? ['Options:', renderOptions(c.options), ''] : []),
    `Formats: ${(c.formats ?? ['text', 'json']).join(', ')}`,
    '',
    'Global options:',
    renderOptions(globalOptions),
    '',
  ].join('\n');
}

export const wantsJson = (argv: readonly string[]) => argv.some((a, i) => a === '--format=json' || (a === '--format' && argv[i + 1] === 'json'));

export async function runCli(argv: readonly string[], io: CliIO, services: CliServices = {}): Promise<number> {
  let jsonPrinted = false;
  let json = wantsJson(argv);
  const fail = (message: string, code: number): number => {
    io.err(`error: ${message}\n`);
    if (json && !jsonPrinted) io.out(JSON.stringify({ ok: false, error: { message } }) + '\n');
    return code;
  };
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h') {
      io.out(globalHelp());
      return first === undefined ? EXIT.invalid : EXIT.ok;
    }
    if (first === '--version' || first === '-V' || first === 'version') {
      io.out(`asgard ${version()}\n`);
      return EXIT.ok;
    }
    if (first === 'help') {
      const c = commands.find((x) => x.name === rest[0]);
      io.out(c ? commandHelp(c, await c.load()) : globalHelp());
      return EXIT.ok;
    }
    const found = commands.find((c) => c.name === first);
    if (!found) {
      const guess = first.startsWith('-')
        ? undefined
        : closest(
            first,
            commands.map((c) => c.name),
          );
      throw new CliError(`unknown command "${first}"${guess ? ` (did you mean ${guess}?)` : ''}; run asgard --help for the list`);
    }
    const cmd = await found.load();
    const args = parseArgs(rest, [...cmd.options, ...globalOptions]);
    if (args.options.help) {
      io.out(commandHelp(found, cmd));
      return EXIT.ok;
    }
    const stateOpt = args.options.state;
    if (typeof stateOpt === 'string') {
      if (stateOpt === '') throw new CliError('--state needs a folder path');
      const at = resolve(io.cwd, stateOpt);
      // A file where the state folder should be would surface later as a raw ENOTDIR.
      if (existsSync(at) && !statSync(at).isDirectory())
        throw new CliError(`--state ${stateOpt}: ${at} is a file, not a folder (the state folder holds state/, warehouse/ and registry/)`);
    }
    const formats = cmd.formats ?? ['text', 'json'];
    const format = (args.options.format as string | undefined) ?? formats[0];
    json = format === 'json';
    if (!formats.includes(format)) {
      const guess = closest(format, formats);
      throw new CliError(`${found.name} --format must be one of ${formats.join(', ')}, not "${format}"${guess ? ` (did you mean ${guess}?)` : ''}`);
    }
    const [min, max] = cmd.positionals ?? [1, 1];
    if (args.positionals.length < min) throw new CliError(`missing argument: usage: ${cmd.usage}`);
    if (args.positionals.length > max) throw new CliError(`unexpected argument "${args.positionals[max]}": usage: ${cmd.usage}`);
    const ctx = makeContext(cmd, args, format, io, services, () => {
      if (jsonPrinted) throw new Error('a command printed two JSON documents');
      jsonPrinted = true;
    });
    return await cmd.run(ctx);
  } catch (e) {
    if (e instanceof ExitSilently) return e.exitCode;
    if (e instanceof CliError) return fail(e.message, e.exitCode);
    if (io.env.ASGARD_DEBUG === '1') io.err(`${(e as Error)?.stack ?? e}\n`);
    return fail(`${(e as Error)?.message ?? String(e)}${io.env.ASGARD_DEBUG === '1' ? '' : ' (set ASGARD_DEBUG=1 for the stack trace)'}`, EXIT.failed);
  } finally {
    runDeferredWrites();
  }
}

function makeContext(cmd: Command, args: ParsedArgs, format: string, io: CliIO, services: CliServices, onJson: () => void): CommandContext {
  const noColor = !!args.options['no-color'] || (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '');
  const str = (name: string) => {
    const v = args.options[name];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    services,
    args,
    positionals: args.positionals,
    format,
    stateDir: str('state'),
    profile: str('profile') ?? 'local',
    color: !noColor && io.stdoutIsTTY,
    colorErr: !noColor && io.stderrIsTTY,
    io,
    out: (t) => io.out(t),
    err: (t) => io.err(t),
    json: (v) => {
      onJson();
      io.out((v instanceof JsonText ? v.text : JSON.stringify(v, null, 2)) + '\n');
    },
    str,
    flag: (name) => args.options[name] === true,
  };
}

/** The real process's streams. */
export function processIO(): CliIO {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    stdoutIsTTY: !!process.stdout.isTTY,
    stderrIsTTY: !!process.stderr.isTTY,
    stdinIsTTY: !!process.stdin.isTTY,
    prompt: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
