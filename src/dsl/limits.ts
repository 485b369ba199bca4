// Limits of what the reader accepts, in a module of their own so the CLI can check a file before it
// loads the parser (src/cli/spec.ts reads the spec only when it is a regular file within the limit).

/** Specs are hand-written; 4 MiB is far beyond any real one (a 1,000-node spec is ~0.5 MiB). */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;
