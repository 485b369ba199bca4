// The grammar, as a Chevrotain CstParser with error recovery: one run reports every syntax error and
// never throws. HCL-like: a block header (type and labels) must sit on one line — that is what ends
// `feature total_purchases int64` without a body — while values may span lines.
//
//   item      := attribute | check | sqlItem | block
//   attribute := IDENT '=' value
//   sqlItem   := IDENT TRIPLE                         (sql """ … """)
//   check     := 'check' IDENT ( '(' args? ')' TRIPLE? | TRIPLE )   (check sql(name = "x") """ … """)
//   block     := IDENT label* ( '{' item* '}' )?     (labels on the header's line)
//   value     := STRING | TRIPLE | NUMBER | DURATION | list | map | IDENT ( '(' args? ')' | ('.' IDENT)* map? )
//   list      := '[' ( value ','? )* ']'
//   map       := '{' ( IDENT '=' value ','? )* '}'
//   args      := arg ( ',' arg )*        arg := IDENT '=' value | value

import {
  CstParser,
  EOF,
  tokenMatcher,
  type CstNode,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import {
  allTokens,
  Comma,
  Dot,
  Duration,
  Equals,
  Identifier,
  LBrace,
  LBracket,
  LParen,
  NumberLiteral,
  RBrace,
  RBracket,
  RParen,
  StringLiteral,
  TripleString,
} from './lexer.js';

const TOKEN_WORDS: Record<string, string> = {
  Identifier: 'a name',
  StringLiteral: 'a string',
  UnterminatedString: 'a string',
  TripleString: 'a """ SQL body',
  UnterminatedTriple: 'a """ SQL body',
  NumberLiteral: 'a number',
  Duration: 'a duration',
  LBrace: '`{`',
  RBrace: '`}`',
  LBracket: '`[`',
  RBracket: '`]`',
  LParen: '`(`',
  RParen: '`)`',
  Equals: '`=`',
  Comma: '`,`',
  Dot: '`.`',
};

export function describeTokenType(t: TokenType): string {
  return t === EOF ? 'end of file' : (TOKEN_WORDS[t.name] ?? t.name);
}

export function describeToken(t: IToken): string {
  if (t.tokenType === EOF) return 'end of file';
  if (t.tokenType.name === 'Identifier' || t.tokenType.name === 'NumberLiteral' || t.tokenType.name === 'Duration') return `\`${t.image}\``;
  return describeTokenType(t.tokenType);
}

const oneOf = (words: string[]): string => {
  const u = [...new Set(words)];
  return u.length <= 1 ? (u[0] ?? 'something else') : `${u.slice(0, -1).join(', ')} or ${u.at(-1)}`;
};

/** Messages in the catalogue's voice instead of Chevrotain's `--> X <--` style. */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF
      ? `unexpected ${describeToken(actual)}: a spec is one \`pipeline NAME { … }\` block`
      : `expected ${describeTokenType(expected)} but found ${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `unexpected ${describeToken(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) =>
    `unexpected ${describeToken(actual[0])}: expected ${oneOf(expectedPathsPerAlt.flat().map((p) => describeTokenType(p[0])))}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    `unexpected ${describeToken(actual[0])}: expected ${oneOf(expectedIterationPaths.map((p) => describeTokenType(p[0])))}`,
};

class AsgParser extends CstParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'none', errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  public item = this.RULE('item', () => {
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { GATE: () => tokenMatcher(this.LA(2), Equals), ALT: () => this.SUBRULE(this.attribute) },
        { GATE: () => this.LA(1).image === 'check', ALT: () => this.SUBRULE(this.check) },
        { GATE: () => tokenMatcher(this.LA(2), TripleString), ALT: () => this.SUBRULE(this.sqlItem) },
        { ALT: () => this.SUBRULE(this.block) },
      ],
    });
  });

  /** The value must start on the line of its `=` (as in HCL), so `x =` then a newline is an error, not `x = <next key>`. */
  public attribute = this.RULE('attribute', () => {
    this.CONSUME(Identifier);
    const eq = this.CONSUME(Equals);
    this.OPTION({ GATE: () => this.LA(1).startLine === eq.startLine, DEF: () => this.SUBRULE(this.value) });
  });

  public sqlItem = this.RULE('sqlItem', () => {
    this.CONSUME(Identifier);
    this.CONSUME(TripleString);
  });

  public check = this.RULE('check', () => {
    this.CONSUME(Identifier, { LABEL: 'keyword' });
    this.CONSUME2(Identifier, { LABEL: 'name' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.OPTION(() => this.SUBRULE(this.args));
          this.CONSUME(RParen);
          this.OPTION2(() => this.CONSUME(TripleString));
        },
      },
      { ALT: () => this.CONSUME2(TripleString) },
    ]);
  });

  public block = this.RULE('block', () => {
    const head = this.CONSUME(Identifier, { LABEL: 'type' });
    this.MANY({
      GATE: () => this.LA(1).startLine === head.startLine,
      DEF: () => this.OR([{ ALT: () => this.CONSUME2(Identifier, { LABEL: 'label' }) }, { ALT: () => this.CONSUME(StringLiteral, { LABEL: 'label' }) }]),
    });
    this.OPTION(() => {
      this.CONSUME(LBrace);
      this.MANY2(() => this.SUBRULE(this.item));
      this.CONSUME(RBrace);
    });
  });

  public value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(TripleString) },
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(Duration) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.map) },
      { ALT: () => this.SUBRULE(this.word) },
      // `x = = 1`: taken here so the builder can say "expected a value" instead of a confusing `}`.
      { ALT: () => this.CONSUME(Equals, { LABEL: 'stray' }) },
    ]);
  });

  /** An identifier, a dotted reference, a call or a tagged map (`random_forest { … }`). */
  public word = this.RULE('word', () => {
    const first = this.CONSUME(Identifier);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.OPTION(() => this.SUBRULE(this.args));
          this.CONSUME(RParen);
        },
      },
      {
        ALT: () => {
          this.MANY(() => {
            this.CONSUME(Dot);
            this.CONSUME2(Identifier, { LABEL: 'part' });
          });
          this.OPTION2({ GATE: () => this.LA(1).startLine === first.startLine, DEF: () => this.SUBRULE(this.map) });
        },
      },
    ]);
  });

  public list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.MANY(() => {
      this.SUBRULE(this.value);
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RBracket);
  });

  public map = this.RULE('map', () => {
    this.CONSUME(LBrace);
    this.MANY(() => {
      this.SUBRULE(this.attribute);
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RBrace);
  });

  public args = this.RULE('args', () => {
    this.SUBRULE(this.arg);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.arg);
    });
  });

  public arg = this.RULE('arg', () => {
    this.OPTION({
      GATE: () => tokenMatcher(this.LA(2), Equals),
      DEF: () => {
        this.CONSUME(Identifier, { LABEL: 'name' });
        this.CONSUME(Equals);
      },
    });
    this.SUBRULE(this.value);
  });
}

let parser: AsgParser | undefined;

export interface ParseOutput {
  readonly cst: CstNode;
  readonly errors: readonly IRecognitionException[];
}

/** Parses a token vector (from lex()). The same parser instance is reused: Chevrotain's intended use. */
export function parseTokens(tokens: IToken[]): ParseOutput {
  parser ??= new AsgParser();
  parser.input = tokens;
  const cst = parser.file();
  return { cst, errors: [...parser.errors] };
}

export { EOF };
