// One `spark-submit` of a Python job, in client deploy mode (the driver is this child process;
// executors run on the cluster's workers: Spark standalone does not run Python drivers in cluster
// mode). Everything Spark is configured with goes through a properties file readable only by this
// user and removed when the driver exits, and credentials through the environment (the driver's)
// and `spark.executorEnv.*` (the executors'): nothing secret is ever on a command line, which `ps`
// shows to everyone. The driver's output is kept in `<workDir>/driver.log` and a failure reports
// its tail, both with every secret value masked.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SubmitOptions {
  /** SPARK_HOME: `bin/spark-submit` is run from there. */
  readonly sparkHome: string;
  readonly master: string;
  /** The application's name on the cluster (its UI and logs). */
  readonly name: string;
  /** The Python main file and its arguments. */
  readonly main: string;
  readonly args: readonly string[];
  /** Files shipped beside the driver and executors (`--files`: the job's SQL). */
  readonly files?: readonly string[];
  /** Spark properties (`spark.*`), the application's sparkConf included. */
  readonly conf: Readonly<Record<string, string>>;
  /** Environment of the driver and the executors (credentials, endpoint, logical time). */
  readonly env: Readonly<Record<string, string>>;
  /** Values never to show in a message (the credentials among `env`). */
  readonly secrets?: readonly string[];
  /** A private folder for the properties file and the driver's log. */
  readonly workDir: string;
  /** JAVA_HOME for spark-submit, when the machine's default Java is not the one to use. */
  readonly javaHome?: string;
  readonly signal?: AbortSignal;
}

export interface SubmitResult {
  /** The driver's exit code (null when it was killed). */
  readonly code: number | null;
  readonly logFile: string;
  /** The last lines of the driver's output worth reading (errors first), secrets masked. */
  readonly tail: string;
}

const TAIL_LINES = 400;

export async function sparkSubmit(o: SubmitOptions): Promise<SubmitResult> {
  mkdirSync(o.workDir, { recursive: true, mode: 0o700 });
  const propsFile = join(o.workDir, 'spark.properties');
  const logFile = join(o.workDir, 'driver.log');
  const conf: Record<string, string> = { ...o.conf };
  for (const [k, v] of Object.entries(o.env)) conf[`spark.executorEnv.${k}`] = v;
  writeFileSync(
    propsFile,
    Object.entries(conf)
      .map(([k, v]) => `${k}=${escapeProperty(v)}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  const argv = ['--master', o.master, '--deploy-mode', 'client', '--name', o.name, '--properties-file', propsFile];
  if (o.files?.length) argv.push('--files', o.files.join(','));
  argv.push(o.main, ...o.args);

  const log = createWriteStream(logFile, { mode: 0o600 });
  const lines: string[] = [];
  let partial = '';
  const secrets = o.secrets ?? [];
  const keep = (raw: string): void => {
    const l = mask(raw, secrets);
    log.write(l + '\n');
    lines.push(l);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  const collect = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) keep(l);
  };
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn(join(o.sparkHome, 'bin', 'spark-submit'), argv, {
        env: {
          ...process.env,
          ...o.env,
          ...(o.javaHome ? { JAVA_HOME: o.javaHome } : {}),
          SPARK_HOME: o.sparkHome,
          SPARK_LOCAL_IP: process.env.SPARK_LOCAL_IP ?? '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const kill = (): void => {
        // The driver's JVM and its Python worker are one process group: stop all of it.
        if (child.pid) {
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {
            /* already gone */
          }
        }
      };
      o.signal?.addEventListener('abort', kill, { once: true });
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', fail);
      child.on('close', (c) => {
        o.signal?.removeEventListener('abort', kill);
        done(c);
      });
    });
    if (partial) keep(partial);
    return { code, logFile, tail: driverTail(lines) };
  } finally {
    await new Promise<void>((r) => log.end(r));
    rmSync(propsFile, { force: true });
  }
}

/**
 * What a reader needs of a failed driver's output: the Python traceback or the job's own message
 * and the first Spark exception, without the INFO chatter. At most `max` lines.
 */
export function driverTail(lines: readonly string[], max = 25): string {
  const noise = /^\s*$|^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d (INFO|DEBUG) |^(Using Spark's default log4j|Setting default log level|To adjust logging level)/;
  const useful = lines.filter((l) => !noise.test(l));
  // A Python traceback ends the output of a failed job: keep it from its first line.
  const tb = useful.findIndex((l) => l.startsWith('Traceback (most recent call last)'));
  const from = tb >= 0 ? tb : Math.max(0, useful.length - max);
  const picked = useful.slice(from);
  if (picked.length <= max) return picked.join('\n');
  // Too long: the head (where the error is raised) and the end (its message).
  return [...picked.slice(0, 5), `  … (${picked.length - max + 5} lines)`, ...picked.slice(-(max - 6))].join('\n');
}

/** Replace every occurrence of a secret value with ***. */
export function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** java.util.Properties escaping of a value (backslashes, and line breaks that would end it). */
function escapeProperty(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
