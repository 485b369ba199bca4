// The escapes of a "…" string (\" \\ \n \t \r \/ \uXXXX), one owner for both spec parsers
// (src/dsl/fast-syntax.ts declines on a bad one, src/dsl/to-ast.ts reports it).

const SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };

/**
 * `raw` (a string's text between its quotes) with its escapes resolved. At an invalid escape
 * `invalid` is called with the backslash's offset in `raw` and the character after it; that
 * character is kept and the string goes on (`invalid` may throw to stop).
 */
export function unescapeString(raw: string, invalid: (at: number, next: string | undefined) => void): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const nx = raw[i + 1];
    if (nx !== undefined && SIMPLE[nx] !== undefined) {
      out += SIMPLE[nx];
      i++;
    } else if (nx === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      invalid(i, nx);
      out += nx ?? '';
      i++;
    }
  }
  return out;
}
