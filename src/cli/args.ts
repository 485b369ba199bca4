// Command-line parsing against declared options: `--name value`, `--name=value`, `-x`, booleans,
// `--no-color`, `--` ending options. An unknown flag is a user error with a did-you-mean.

import { closest } from '../diagnostics/catalogue.js';
import { CliError, type OptionSpec, type ParsedArgs } from './command.js';

export const globalOptions: readonly OptionSpec[] = [
  { name: 'format', type: 'string', arg: 'FORMAT', description: 'output format (text, json, or what the command lists)' },
  { name: 'state', type: 'string', arg: 'DIR', description: 'state directory (default: .asgard/ beside the spec)' },
  { name: 'profile', type: 'string', arg: 'NAME', description: 'profile to use (default: local)' },
  { name: 'no-color', type: 'boolean', description: 'never colour the output' },
  { name: 'help', type: 'boolean', short: 'h', description: 'show help' },
];

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const unknown = (flag: string): never => {
    const guess = closest(
      flag.replace(/^-+/, ''),
      specs.map((s) => s.name),
    );
    throw new CliError(`unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ''}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byName.get(name);
      if (!spec) unknown(eq >= 0 ? a.slice(0, eq) : a);
      if (spec!.type === 'boolean') {
        if (eq >= 0) throw new CliError(`option --${name} takes no value`);
        options[name] = true;
        continue;
      }
      let value: string | undefined;
      if (eq >= 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (value === undefined) throw new CliError(`option --${name} needs a value${spec!.arg ? ` (${spec!.arg})` : ''}`);
      setString(options, spec!, value);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const spec = byShort.get(a.slice(1));
      if (!spec) unknown(a);
      if (spec!.type === 'boolean') options[spec!.name] = true;
      else {
        if (i + 1 >= argv.length) throw new CliError(`option -${spec!.short} needs a value`);
        setString(options, spec!, argv[++i]);
      }
      continue;
    }
    positionals.push(a);
  }
  return { positionals, options };
}

function setString(options: Record<string, string | boolean | undefined>, spec: OptionSpec, value: string): void {
  if (spec.choices && !spec.choices.includes(value)) {
    const guess = closest(value, spec.choices);
    throw new CliError(`--${spec.name} must be one of ${spec.choices.join(', ')}, not "${value}"${guess ? ` (did you mean ${guess}?)` : ''}`);
  }
  const prev = options[spec.name];
  options[spec.name] = spec.multiple && typeof prev === 'string' ? `${prev}\n${value}` : value;
}

/** The options block of a help text. */
export function renderOptions(specs: readonly OptionSpec[]): string {
  const left = (s: OptionSpec) => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.arg ? ` ${s.arg}` : ''}`;
  const w = Math.max(...specs.map((s) => left(s).length));
  return specs.map((s) => `  ${left(s).padEnd(w)}  ${s.description}${s.choices ? ` (${s.choices.join('|')})` : ''}`).join('\n');
}
