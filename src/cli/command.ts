// What a command is, and what it is handed when it runs. Kept tiny on purpose: a command parses
// nothing itself (options are declared and the CLI parses them), prints through `ctx.out` /
// `ctx.err`, and returns its exit code. User errors are thrown as CliError (exit 2 by default) and
// printed as `error: message` without a stack trace.

export type OptionType = 'boolean' | 'string';

export interface OptionSpec {
  /** Long name without dashes: `out` for `--out FILE`. */
  readonly name: string;
  readonly type: OptionType;
  /** One-letter alias without the dash. */
  readonly short?: string;
  /** Placeholder shown in help: `FILE`. */
  readonly arg?: string;
  readonly description: string;
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  /** May be given several times (`--var a=1 --var b=2`): the values are kept, one per line. */
  readonly multiple?: boolean;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
}

export interface CliIO {
  /** stdout: with `--format json`, exactly one JSON document goes here and nothing else. */
  out(text: string): void;
  /** stderr: progress, warnings, errors. */
  err(text: string): void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly stdinIsTTY: boolean;
  /** Ask a question on the terminal and return the answer (only called when stdin is a TTY). */
  prompt(question: string): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** What commands use from the outside world besides I/O; tests swap them (fake executors). */
export interface CliServices {
  readonly executors?: import('../engine/executors.js').ExecutorResolver;
  /**
   * Given by the process (src/cli/process.ts): `plan` offers the proof of what its output was made
   * from, so that a repeated plan process can print it again without loading the CLI (src/cli/plan-replay.cts).
   */
  readonly replayable?: (proof: import('./plan-replay.cjs').ReplayProof) => void;
}

export interface CommandContext {
  readonly services: CliServices;
  readonly args: ParsedArgs;
  /** The command's positional arguments. */
  readonly positionals: readonly string[];
  /** `--format`: one of the command's `formats` (the first one by default). */
  readonly format: string;
  /** `--state DIR` as given (the workspace resolves it: workspaceOf in spec.ts), or undefined. */
  readonly stateDir?: string;
  /** `--profile NAME` (default `local`). */
  readonly profile: string;
  /** Colour allowed on stdout (a TTY, NO_COLOR unset, no --no-color). */
  readonly color: boolean;
  /** Colour allowed on stderr. */
  readonly colorErr: boolean;
  readonly io: CliIO;
  /** Print to stdout / stderr (a newline is not added). */
  out(text: string): void;
  err(text: string): void;
  /** Print one JSON document on stdout (for `--format json`): a value, or its JsonText (src/cli/view.ts). */
  json(value: unknown): void;
  /** A string option's value. */
  str(name: string): string | undefined;
  /** A boolean option's value. */
  flag(name: string): boolean;
}

/** A command's usage, help, options and work; its name and summary are the registry's (commands/index.ts). */
export interface Command {
  /** `asgard plan SPEC [--base REF] …` */
  readonly usage: string;
  /** A paragraph that teaches, with examples (shown by `asgard CMD --help`). */
  readonly help: string;
  /** The command's own options (the global ones are added by the CLI). */
  readonly options: readonly OptionSpec[];
  /** Allowed `--format` values, the default first. Absent: text and json. */
  readonly formats?: readonly string[];
  /** Positional argument count: [min, max]. Absent: [1, 1]. */
  readonly positionals?: readonly [number, number];
  run(ctx: CommandContext): Promise<number>;
}

/** A user error: printed as `error: message` (no stack), exit code 2 unless given. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Ends a command with an exit code after it already printed everything (diagnostics, a JSON document). */
export class ExitSilently extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export const EXIT = { ok: 0, failed: 1, invalid: 2, changes: 3 } as const;
