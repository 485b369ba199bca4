// Limits of what the reader accepts, in a module of their own so the CLI can check a file before it
// loads the parser (src/cli/spec.ts reads the spec only when it is a regular file within the limit).

/**
 * Specs are hand-written; 8 MiB is far beyond any real one, and holds the 10,000-node spec that
 * issue #16 plans (~6 MiB; a 1,000-node spec is ~0.6 MiB).
 */
export const MAX_SPEC_BYTES = 8 * 1024 * 1024;

/** Brackets nested deeper than this are refused before parsing (the parsers recurse per level). */
export const MAX_NESTING = 64;
