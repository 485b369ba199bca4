// Spec variables inside SQL bodies: `var('name')` calls, found on the tokens (comments and string
// literals never match), and the template syntaxes of other tools (`{{ var("x") }}`, `${X}`) that
// asgard does not expand, so the checker can say what to write instead. docs/language.md, "Variables".

import { sqlToolkit } from './toolkit.js';

export interface SqlVarRef {
  readonly name: string;
  /** Offsets of the whole `var('name')` call in the body text. */
  readonly start: number;
  readonly end: number;
}

export interface SqlTemplateRef {
  readonly kind: 'jinja' | 'dollar';
  /** The variable named inside, when there is one. */
  readonly name?: string;
  readonly start: number;
  readonly end: number;
}

interface Tok {
  token_type: string;
  text: string;
  span: { start: number; end: number };
}

export function scanSqlVars(text: string): { vars: SqlVarRef[]; templates: SqlTemplateRef[] } {
  const vars: SqlVarRef[] = [];
  const templates: SqlTemplateRef[] = [];
  if (!/var\s*\(|\{\{|\$\{/i.test(text)) return { vars, templates };
  const { tokenize } = sqlToolkit(); // may throw SqlToolkitNotLoaded: the caller loads it (src/dsl/load-lazy.ts)
  let toks: Tok[];
  try {
    const r = tokenize(text, 'spark' as never) as unknown as { success: boolean; tokens?: Tok[] };
    if (!r.success || !r.tokens) return { vars, templates };
    toks = r.tokens;
  } catch {
    return { vars, templates };
  }
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.token_type === 'L_BRACE' && toks[i + 1]?.token_type === 'L_BRACE') {
      let j = i + 2;
      while (j < toks.length && !(toks[j].token_type === 'R_BRACE' && toks[j + 1]?.token_type === 'R_BRACE')) j++;
      const inner = toks.slice(i + 2, j);
      const str = inner.find((x) => x.token_type === 'STRING');
      const end = j + 1 < toks.length ? toks[j + 1].span.end : (toks[j - 1] ?? t).span.end;
      templates.push({ kind: 'jinja', ...(str ? { name: str.text } : inner[0] ? { name: inner[0].text } : {}), start: t.span.start, end });
      i = j + 1;
      continue;
    }
    if (t.token_type === 'DOLLAR' && toks[i + 1]?.token_type === 'L_BRACE') {
      const name = toks[i + 2];
      const close = toks[i + 3]?.token_type === 'R_BRACE' ? toks[i + 3] : name;
      templates.push({ kind: 'dollar', ...(name ? { name: name.text } : {}), start: t.span.start, end: (close ?? t).span.end });
      i += 3;
      continue;
    }
    if (
      t.text.toLowerCase() === 'var' &&
      toks[i + 1]?.token_type === 'L_PAREN' &&
      toks[i + 2]?.token_type === 'STRING' &&
      toks[i + 3]?.token_type === 'R_PAREN'
    ) {
      vars.push({ name: toks[i + 2].text, start: t.span.start, end: toks[i + 3].span.end });
      i += 3;
    }
  }
  return { vars, templates };
}
