// The tokenizer of the fast SQL path (src/sql/fast-analyze.ts): a body's tokens as columns of typed
// arrays (as the DSL's fast parser has them: src/dsl/fast-syntax.ts), no object per token. Each
// token has a kind, its offsets, and a symbol: for a word, the number of its upper-case text (so a
// keyword test is one comparison of numbers, whatever the case it is written in), for an operator
// its own number. Words are interned by text: the same few come back in every body.
//
// The rules are the subset's: ASCII only outside strings and comments (polyglot counts code points,
// and Unicode identifiers are its call), no escapes or doubled quotes in strings, no exponents or
// suffixes on numbers; anything else throws Unsure and the caller asks polyglot.

import { unsure } from './unsure.js';

export const ID = 1;
export const NUM = 2;
export const STR = 3;
export const OP = 4;

/** The tokens of one body: valid from index 0 to n - 1; the slots after n read as no token (kind and symbol 0). */
export interface Tokens {
  readonly n: number;
  readonly kind: Uint8Array;
  readonly sym: Int32Array;
  /** The word's interned text as written (wordText), for identifiers. */
  readonly word: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** A comment was dropped. */
  readonly comments: boolean;
}

// Operators' symbols (words' symbols are below OPERATOR_BASE).
const OPERATOR_BASE = 1 << 24;
export const LPAREN = OPERATOR_BASE + 1;
export const RPAREN = OPERATOR_BASE + 2;
export const COMMA = OPERATOR_BASE + 3;
export const DOT = OPERATOR_BASE + 4;
export const STAR = OPERATOR_BASE + 5;
export const PLUS = OPERATOR_BASE + 6;
export const MINUS = OPERATOR_BASE + 7;
export const SLASH = OPERATOR_BASE + 8;
export const PERCENT = OPERATOR_BASE + 9;
export const EQ = OPERATOR_BASE + 10;
export const LT = OPERATOR_BASE + 11;
export const GT = OPERATOR_BASE + 12;
export const LE = OPERATOR_BASE + 13;
export const GE = OPERATOR_BASE + 14;
/** `<>` */
export const NE = OPERATOR_BASE + 15;
/** `!=` */
export const BANG_EQ = OPERATOR_BASE + 16;
/** `==` */
export const EQ_EQ = OPERATOR_BASE + 17;

/** An operator's text, by symbol (less OPERATOR_BASE). */
const OPERATOR_TEXT = ['', '(', ')', ',', '.', '*', '+', '-', '/', '%', '=', '<', '>', '<=', '>=', '<>', '!=', '=='];
export const operatorText = (sym: number): string => OPERATOR_TEXT[sym - OPERATOR_BASE];

/**
 * The words the parser tests for, with fixed symbols (their index + 1; the constants below): a
 * keyword test compares with these. Any other word gets the next free symbol when first met.
 */
const KEYWORDS = [
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'HAVING',
  'AS',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'OUTER',
  'CROSS',
  'ON',
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
  'BETWEEN',
  'LIKE',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'CAST',
  'INTERVAL',
  'WITH',
  'UNION',
  'ALL',
  'DISTINCT',
  'OVER',
  'PARTITION',
  'ORDER',
  'DESC',
  'ASC',
  'NULLS',
  'FILTER',
  'CURRENT_DATE',
  'CURRENT_TIMESTAMP',
  'DECIMAL',
] as const;
const keyword = (w: (typeof KEYWORDS)[number]): number => KEYWORDS.indexOf(w) + 1;
export const SELECT = keyword('SELECT');
export const FROM = keyword('FROM');
export const WHERE = keyword('WHERE');
export const GROUP = keyword('GROUP');
export const BY = keyword('BY');
export const HAVING = keyword('HAVING');
export const AS = keyword('AS');
export const JOIN = keyword('JOIN');
export const INNER = keyword('INNER');
export const LEFT = keyword('LEFT');
export const RIGHT = keyword('RIGHT');
export const FULL = keyword('FULL');
export const OUTER = keyword('OUTER');
export const CROSS = keyword('CROSS');
export const ON = keyword('ON');
export const AND = keyword('AND');
export const OR = keyword('OR');
export const NOT = keyword('NOT');
export const IN = keyword('IN');
export const IS = keyword('IS');
export const NULL = keyword('NULL');
export const TRUE = keyword('TRUE');
export const FALSE = keyword('FALSE');
export const BETWEEN = keyword('BETWEEN');
export const LIKE = keyword('LIKE');
export const CASE = keyword('CASE');
export const WHEN = keyword('WHEN');
export const THEN = keyword('THEN');
export const ELSE = keyword('ELSE');
export const END = keyword('END');
export const CAST = keyword('CAST');
export const INTERVAL = keyword('INTERVAL');
export const WITH = keyword('WITH');
export const UNION = keyword('UNION');
export const ALL = keyword('ALL');
export const DISTINCT = keyword('DISTINCT');
export const OVER = keyword('OVER');
export const PARTITION = keyword('PARTITION');
export const ORDER = keyword('ORDER');
export const DESC = keyword('DESC');
export const ASC = keyword('ASC');
export const NULLS = keyword('NULLS');
export const FILTER = keyword('FILTER');
export const CURRENT_DATE = keyword('CURRENT_DATE');
export const CURRENT_TIMESTAMP = keyword('CURRENT_TIMESTAMP');
export const DECIMAL = keyword('DECIMAL');

/** Words never taken as a column, alias or table name here (polyglot may read them otherwise). */
const RESERVED = new Set(
  (
    'SELECT FROM WHERE GROUP BY HAVING ORDER LIMIT OFFSET AS JOIN INNER LEFT RIGHT FULL OUTER CROSS SEMI ANTI ON USING AND OR NOT IN IS NULL ' +
    'TRUE FALSE BETWEEN LIKE ILIKE RLIKE REGEXP SIMILAR CASE WHEN THEN ELSE END CAST TRY_CAST INTERVAL WITH RECURSIVE UNION ALL DISTINCT EXCEPT INTERSECT ' +
    'MINUS OVER PARTITION WINDOW QUALIFY LATERAL VIEW NATURAL TABLESAMPLE PIVOT UNPIVOT VALUES EXISTS ANY SOME ASC DESC NULLS FIRST LAST ROWS ' +
    'RANGE PRECEDING FOLLOWING UNBOUNDED CURRENT FILTER WITHIN DIV ESCAPE CLUSTER DISTRIBUTE SORT INTO FOR TO AT TABLE CREATE INSERT UPDATE ' +
    'DELETE MERGE DROP ALTER SET TOP FETCH EXTRACT POSITION OVERLAY SUBSTRING TRIM DATE TIME TIMESTAMP TIMESTAMP_LTZ TIMESTAMP_NTZ YEAR ' +
    'MONTH DAY HOUR MINUTE SECOND WEEK QUARTER YEARS MONTHS DAYS HOURS MINUTES SECONDS WEEKS USER CURRENT_USER SESSION_USER CURRENT_DATE ' +
    'CURRENT_TIMESTAMP CURRENT_TIME LOCALTIMESTAMP LOCALTIME NOW VAR IF COLLATE GLOBAL LOCAL TEMPORARY REPLACE RESPECT IGNORE MAP ARRAY ' +
    'STRUCT NAMED_STRUCT TRANSFORM REDUCE AGGREGATE LAMBDA SYSTEM_TIME VERSION OF START CONNECT PRIOR KEY PRIMARY FOREIGN REFERENCES ' +
    'CONSTRAINT UNIQUE CHECK DEFAULT LATERAL_VIEW EXPLODE INLINE POSEXPLODE STACK GROUPING CUBE ROLLUP SETS'
  ).split(' '),
);

// The interned words: symbols by upper-case text, and each text as written with its symbol.
// Bounded: emptied (keywords kept) before a body when full, never during one.
const symbolOf = new Map<string, number>();
/** A symbol's upper-case text, and whether it is reserved. */
const symbolText: string[] = [''];
const symbolReserved: boolean[] = [false];
/**
 * Texts as written: their number (found by a hash of their characters in `wordSlots`, open
 * addressing, each slot a word's number + 1 or 0 when empty), their text, symbol and hash. A word
 * met again is found without slicing it out of the body or hashing a string.
 */
const wordText: string[] = [];
const wordSym: number[] = [];
const wordHash: number[] = [];
const WORD_LIMIT = 10_000;
/** A power of two, at least twice the words: probes stay short (grown for a body with more words than that). */
let wordSlots = new Int32Array(1 << 12);

function resetWords(): void {
  symbolOf.clear();
  symbolText.length = 1;
  symbolReserved.length = 1;
  wordSlots.fill(0);
  wordText.length = 0;
  wordSym.length = 0;
  wordHash.length = 0;
  for (const k of KEYWORDS) symbolFor(k);
}

function symbolFor(up: string): number {
  let s = symbolOf.get(up);
  if (s === undefined) {
    s = symbolText.length;
    symbolOf.set(up, s);
    symbolText.push(up);
    symbolReserved.push(RESERVED.has(up));
  }
  return s;
}
resetWords();

/** The upper-case text of a word's symbol. */
export const symbolName = (sym: number): string => symbolText[sym];
/** The word is reserved (never a name here). */
export const reserved = (sym: number): boolean => symbolReserved[sym];
/** A word's text as written. */
export const wordOfToken = (word: number): string => wordText[word];

// The columns, reused from body to body (a body's tokens are read only while it is parsed).
let capacity = 0;
let kind = new Uint8Array(0);
let sym = new Int32Array(0);
let word = new Int32Array(0);
let start = new Int32Array(0);
let end = new Int32Array(0);
/** Slots after the last token that read as no token (the parser looks at most this far ahead). */
const AHEAD = 4;

function ensure(size: number): void {
  if (size <= capacity) return;
  capacity = Math.max(size, capacity * 2, 256);
  const grown = (a: Int32Array): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(capacity);
    b.set(a);
    return b;
  };
  const k = new Uint8Array(capacity);
  k.set(kind);
  kind = k;
  sym = grown(sym);
  word = grown(word);
  start = grown(start);
  end = grown(end);
}

const isWordChar = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** The number of the word text[s, e) (whose hash is `h`), interned when first met. */
function internWord(text: string, s: number, e: number, h: number): number {
  const mask = wordSlots.length - 1;
  let slot = h & mask;
  for (let w = wordSlots[slot] - 1; w >= 0; w = wordSlots[slot] - 1) {
    if (wordHash[w] === h && wordText[w].length === e - s && text.startsWith(wordText[w], s)) return w;
    slot = (slot + 1) & mask;
  }
  const w = wordText.length;
  if (2 * (w + 1) > wordSlots.length) {
    growSlots();
    return internWord(text, s, e, h);
  }
  const v = text.slice(s, e);
  wordText.push(v);
  wordSym.push(symbolFor(v.toUpperCase()));
  wordHash.push(h);
  wordSlots[slot] = w + 1;
  return w;
}

/** Doubles the slots and places every word again. */
function growSlots(): void {
  wordSlots = new Int32Array(wordSlots.length * 2);
  const mask = wordSlots.length - 1;
  for (let w = 0; w < wordText.length; w++) {
    let slot = wordHash[w] & mask;
    while (wordSlots[slot] !== 0) slot = (slot + 1) & mask;
    wordSlots[slot] = w + 1;
  }
}

/** The tokens of `text`; valid until the next call. Throws Unsure outside the subset's tokens. */
export function tokenize(text: string): Tokens {
  if (wordText.length >= WORD_LIMIT) resetWords();
  const len = text.length;
  // A token takes at least one character.
  ensure(len + AHEAD);
  let n = 0;
  let comments = false;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c > 126) unsure(); // non-ASCII: polyglot counts code points, and Unicode identifiers are its call
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      i++;
      continue;
    }
    const next = i + 1 < len ? text.charCodeAt(i + 1) : 0;
    if (c === 45 && next === 45) {
      // -- to the end of the line
      comments = true;
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? len : nl;
      continue;
    }
    if (c === 47 && next === 42) {
      // /* … */
      comments = true;
      const close = text.indexOf('*/', i + 2);
      if (close < 0) unsure();
      i = close + 2;
      continue;
    }
    const s = i;
    let k: number;
    let y = 0;
    let w = -1;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) {
      let h = c;
      i++;
      for (let d = i < len ? text.charCodeAt(i) : 0; i < len && isWordChar(d); d = text.charCodeAt(++i)) h = (Math.imul(h, 31) + d) | 0;
      w = internWord(text, s, i, h);
      k = ID;
      y = wordSym[w];
    } else if (isDigit(c)) {
      i++;
      while (i < len && isDigit(text.charCodeAt(i))) i++;
      if (i < len && text.charCodeAt(i) === 46) {
        i++;
        const d = i;
        while (i < len && isDigit(text.charCodeAt(i))) i++;
        if (i === d) unsure();
      }
      if (i < len && (isWordChar(text.charCodeAt(i)) || text.charCodeAt(i) === 46)) unsure(); // 1e3, 10L, 1.5BD, 1.2.3
      if (c === 48 && i - s > 1 && text.charCodeAt(s + 1) !== 46) unsure(); // 007
      k = NUM;
    } else if (c === 39) {
      i++;
      while (i < len && text.charCodeAt(i) !== 39) {
        if (text.charCodeAt(i) === 92) unsure(); // a backslash escape
        i++;
      }
      if (i >= len || (i + 1 < len && text.charCodeAt(i + 1) === 39)) unsure(); // unterminated, or '' inside
      i++;
      k = STR;
    } else {
      k = OP;
      i++;
      switch (c) {
        case 40:
          y = LPAREN;
          break;
        case 41:
          y = RPAREN;
          break;
        case 44:
          y = COMMA;
          break;
        case 46:
          y = DOT;
          break;
        case 42:
          y = STAR;
          break;
        case 43:
          y = PLUS;
          break;
        case 45:
          y = MINUS;
          break;
        case 47:
          y = SLASH;
          break;
        case 37:
          y = PERCENT;
          break;
        case 61:
          if (next === 61) {
            i++;
            y = EQ_EQ;
          } else y = EQ;
          break;
        case 60:
          if (next === 61) {
            i++;
            y = LE;
          } else if (next === 62) {
            i++;
            y = NE;
          } else y = LT;
          break;
        case 62:
          if (next === 61) {
            i++;
            y = GE;
          } else y = GT;
          break;
        case 33:
          if (next !== 61) unsure();
          i++;
          y = BANG_EQ;
          break;
        default:
          unsure(); // ; || " ` [ { $ ? : …
      }
    }
    kind[n] = k;
    sym[n] = y;
    word[n] = w;
    start[n] = s;
    end[n] = i;
    n++;
  }
  for (let a = n; a < n + AHEAD; a++) {
    kind[a] = 0;
    sym[a] = 0;
    word[a] = -1;
    start[a] = len;
    end[a] = len;
  }
  return { n, kind, sym, word, start, end, comments };
}
