// The one small interface every connector implements. A connector discovers the source's columns
// from its catalog and extracts rows into a staging file; DuckDB then reads that file (its
// `relation`) to write the bronze snapshot. Connectors never see the warehouse or the state.

import type { SourceNode } from '../ir/types.js';

export interface SourceColumn {
  readonly name: string;
  /** The source's own type, as its catalog spells it (`numeric(10,2)`, `datetime`, …), for messages. */
  readonly sourceType: string;
  /** The exact DuckDB type the values map to; undefined when the source cannot say (JSON APIs). */
  readonly duckType?: string;
}

export interface ExtractRequest {
  /** Source columns to read, in this order. */
  readonly columns: readonly SourceColumn[];
  /** Incremental reads: rows whose cursor column is >= `from` (inclusive: ties, DOMAIN.md). */
  readonly cursor?: { readonly column: string; readonly from: string };
  /** A fresh folder for staging files (removed by the executor afterwards). */
  readonly stagingDir: string;
  readonly signal: AbortSignal;
  /** Called now and then with the rows extracted so far. */
  readonly onRows: (rows: number) => void;
  /**
   * Optional: a connector that can cut its staging output hands each finished chunk (a DuckDB
   * relation, same columns) here while it goes on reading; `Extracted.chunks` then says how many
   * chunks covered all the rows. Connectors may ignore it (chunks 0: use `relation`).
   */
  readonly onChunk?: (relation: string) => Promise<void>;
  readonly chunkRows?: number;
  /** How many `onChunk` calls may run at once (default 1): a connector may read in that many streams. */
  readonly parallel?: number;
  /**
   * Optional: whether answers with this `Extracted.answers` digest are what the last sync read. A
   * connector that hashes its answers as received asks before staging them: on true it stages
   * nothing and returns `unchanged`.
   */
  readonly lastRead?: (answers: string) => boolean;
}

export interface Extracted {
  readonly rows: number;
  /**
   * A DuckDB table expression (usable after FROM) that yields exactly the requested columns with
   * their `duckType`s (or inferred types when the connector has none).
   */
  readonly relation: string;
  /** Chunks handed to `onChunk` (0 or absent: none; every row is in `relation`). */
  readonly chunks?: number;
  /**
   * The SHA-256 (hex) of the staged rows as they were read, in order (`stagingDigest`): the same
   * digest for the same request means the same rows. Absent when the connector cannot say.
   */
  readonly digest?: string;
  /**
   * The SHA-256 (hex) of the source's answers as received (HTTP: the response bodies, in order, and
   * how records are found in them): the same digest for the same request means the same rows, known
   * without staging them. Absent when the connector does not hash its answers.
   */
  readonly answers?: string;
  /** `lastRead` said these answers are the last sync's: nothing was staged, `relation` reads nothing. */
  readonly unchanged?: boolean;
}

export interface SourceConnector {
  /** Where the data comes from, for messages: never holds credentials. */
  readonly where: string;
  /** File sources: the absolute file path or glob read (src/ingest/file-manifest.ts). */
  readonly filePattern?: string;
  /**
   * A full read hands its rows to `onChunk` while it reads (DuckDB is needed from its first rows on,
   * whatever they are): the executor then opens DuckDB while the connector connects.
   */
  readonly streamsChunks?: boolean;
  /**
   * Each chunk is a named pipe, read in one pass by one thread: the executor then gives DuckDB one
   * thread while the chunks load (each stream loads on its own connection, so the streams still run
   * side by side); a second thread per query found little to do beside a pipe and cost CPU waiting
   * for work (bench/ingest.md, session 11).
   */
  readonly pipesChunks?: boolean;
  /**
   * Optional: a full read in up to `parallel` streams follows this connector's discover (the
   * executor says so before discovering): the connector may start now what such a read needs
   * (PostgreSQL: the extra sessions, whose start is most of the wait before the rows), so that it
   * happens beside the connection and the catalog queries. What extract does not use, close ends.
   */
  prepareFullRead?(parallel: number): void;
  discover(): Promise<readonly SourceColumn[]>;
  /**
   * Optional, after discover: the source guarantees that the rows a read returns hold no two of the
   * stream's primary key and no NULL in it (PostgreSQL: a unique index over some of its columns,
   * all NOT NULL, on a table whose reads see no other table's rows). A full read then does not
   * count the written keys to find duplicates.
   */
  keyIsUnique?(): boolean;
  extract(req: ExtractRequest): Promise<Extracted>;
  close(): Promise<void>;
}

/** What a connector factory gets: the node and its settings, already resolved (secrets included). */
export interface ConnectorInput {
  readonly node: SourceNode;
  /** Resolved connector settings; `password`/`token` may be absent. */
  readonly settings: Readonly<Record<string, string | number | boolean | undefined>>;
  /** The spec's folder: relative file paths resolve against it. */
  readonly baseDir: string;
  readonly warn: (message: string) => void;
}
