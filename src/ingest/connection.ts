// Connection settings shared by the database connectors: a `url` (which may carry a password),
// discrete host/port/database/user settings, and a `password` secret. Precedence: discrete settings
// and the `password` secret override what the URL says; when the `password` secret is not set but
// the URL carries one, the URL's password is used (a reused server's URL is enough on its own).
// Nothing here ever puts a password into a message: `where` names host, port and database only.

export interface DbConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly schema?: string;
  /** `postgres 127.0.0.1:55432/customers`: for messages. */
  readonly where: string;
}

export type Settings = Readonly<Record<string, string | number | boolean | undefined>>;

export function dbConnection(kind: 'postgres' | 'mysql', s: Settings): DbConnection {
  let url: URL | undefined;
  if (s.url !== undefined && s.url !== '') {
    try {
      url = new URL(String(s.url));
    } catch {
      throw new ConnectionSettingError(`the ${kind} connector's url is not a valid URL (expected ${kind}://user@host:port/database)`);
    }
  }
  const str = (k: string): string | undefined => (s[k] === undefined || s[k] === '' ? undefined : String(s[k]));
  const host = str('host') ?? (url?.hostname || '127.0.0.1');
  const port = Number(str('port') ?? (url?.port || (kind === 'postgres' ? 5432 : 3306)));
  const database = str('database') ?? (url ? decodeURIComponent(url.pathname.replace(/^\//, '')) : '');
  const user = str('user') ?? (url?.username ? decodeURIComponent(url.username) : kind === 'postgres' ? 'postgres' : 'root');
  const password = str('password') ?? (url?.password ? decodeURIComponent(url.password) : undefined);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new ConnectionSettingError(`the ${kind} connector's port is not a port number`);
  if (!database) throw new ConnectionSettingError(`the ${kind} connector names no database (set \`database\` or put it in the url)`);
  const schema = str('schema') ?? url?.searchParams.get('schema') ?? undefined;
  return { host, port, database, user, password, schema, where: `${kind} ${host}:${port}/${database}` };
}

export class ConnectionSettingError extends Error {}

/** Remove `user:password@` credentials from anything that may quote a URL. */
export function redactUrls(s: string): string {
  return s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:***@');
}

/** Milliseconds to wait for a connection (ASGARD_CONNECT_TIMEOUT_MS, default 10 s). */
export function connectTimeoutMs(): number {
  const v = Number(process.env.ASGARD_CONNECT_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

/** A driver error as one line saying what went wrong where (codes from node, pg and mysql2). */
export function describeDbError(e: unknown, c: Pick<DbConnection, 'host' | 'port' | 'database' | 'user' | 'where'>): string {
  const err = e as { code?: string | number; errno?: number; message?: string };
  const code = String(err.code ?? '');
  const at = `${c.host}:${c.port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${c.where}: connection refused at ${at} (is the server running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${c.where}: host ${c.host} not found`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `cannot connect to ${c.where}: no answer from ${at} within ${connectTimeoutMs() / 1000} s`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to ${c.where}: ${at} is unreachable`;
    case 'ECONNRESET':
      return `the connection to ${c.where} was reset by ${at}`;
    case 'PROTOCOL_CONNECTION_LOST':
    case 'EPIPE':
      return `the connection to ${c.where} was lost: the server at ${at} closed it`;
    case '28P01':
    case '28000':
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return `authentication failed for user ${c.user} at ${c.where} (wrong password or no access)`;
    case '3D000':
    case 'ER_BAD_DB_ERROR':
      return `database ${c.database} does not exist on ${at}`;
  }
  const msg = redactUrls(String(err.message ?? e));
  if (/timeout/i.test(msg) && (/connect/i.test(msg) || /^timeout expired$/i.test(msg)))
    return `cannot connect to ${c.where}: no answer from ${at} within ${connectTimeoutMs() / 1000} s`;
  return `${c.where}: ${msg}`;
}
