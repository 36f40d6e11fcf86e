/**
 * The storage port, owned by the core (ports and adapters): everything the core needs from a database, and nothing
 * about SQL. The SQLite adapter (./sqlite) implements it; a Postgres adapter
 * can implement it later with the same semantics.
 *
 * Contract
 * - The port is synchronous. A remote adapter bridges to its driver in a
 *   worker thread (Atomics.wait), so the core and its callers stay one shape.
 * - `write(fn)` runs `fn` inside one transaction that holds the store's write
 *   lock from its first statement (SQLite: BEGIN IMMEDIATE; Postgres: a
 *   transaction that first locks the `state` row FOR UPDATE). Either every
 *   effect of `fn` commits or none does. Writers never see each other's
 *   uncommitted effects, and a writer that cannot get the lock within the
 *   busy timeout fails with PSMC_BUSY.
 * - Reads outside `write` see the latest committed state.
 * - `dataVersion()` is cheap (no disk I/O in the common case) and changes
 *   whenever another connection commits. The store uses it to validate its
 *   read cache.
 * - Values cross the port as their encoded JSON text; the port never parses
 *   them.
 */
import type { ChangeOp } from './change.js';

export interface StoredRow {
  readonly key: string;
  /** Encoded JSON text (see core/value.ts). */
  readonly value: string;
  readonly type: string;
  readonly revision: number;
  readonly updatedAt: string;
  readonly source: string;
}

export interface StoredChange {
  readonly revision: number;
  readonly seq: number;
  readonly key: string;
  readonly op: ChangeOp;
  /** Encoded JSON text, or null when absent. */
  readonly oldValue: string | null;
  readonly newValue: string | null;
  readonly source: string;
  readonly at: string;
  readonly note: string | null;
}

/** The stored schema document and the revision that set it. */
export interface StoredSchema {
  readonly doc: string;
  readonly revision: number;
}

/** The store-wide state row: the revision and clock of the last commit. */
export interface StoreState {
  readonly revision: number;
  /** HLC text of the last commit; the zero clock when none. */
  readonly clock: string;
  /** Random id given at creation; lets tools tell two stores apart. */
  readonly storeId: string;
}

export interface HistoryQuery {
  /** Only this key, or keys under it when `prefix` is true. */
  readonly key?: string;
  readonly prefix?: boolean;
  /** Only revisions strictly greater than this. */
  readonly afterRevision?: number;
  /** Only revisions less than or equal to this. */
  readonly uptoRevision?: number;
  /** At most this many records, newest first (default: all). */
  readonly limit?: number;
  /** Oldest first instead of newest first. */
  readonly ascending?: boolean;
}

/** Operations allowed inside a write transaction. */
export interface WriteTx {
  readState(): StoreState;
  writeState(revision: number, clock: string): void;
  readRow(key: string): StoredRow | undefined;
  putRow(row: StoredRow): void;
  deleteRow(key: string): void;
  appendChange(change: StoredChange): void;
  /** The records of one revision, in seq order. */
  changesAt(revision: number): StoredChange[];
  /** The newest revision that changed a value or the schema (conflict records alone do not count), or 0. */
  lastChangedRevision(): number;
  /** The newest revision with a history record for `key` (including `@schema`), or 0. */
  lastRevisionOf(key: string): number;
  readSchema(): StoredSchema | undefined;
  /** The revision that set the stored schema, or 0 when there is none. Cheap. */
  readSchemaRevision(): number;
  /** Stores the schema document text (undefined removes it), tagged with the revision that set it. */
  writeSchema(doc: string | undefined, revision: number): void;
  /** Every stored row (used only when a new schema is checked against existing values). */
  allRows(): StoredRow[];
  /** A bookkeeping value (mirror state, settings); undefined when unset. Not versioned, not in history. */
  readMeta(name: string): string | undefined;
  /** Sets (or, with undefined, removes) a bookkeeping value. */
  writeMeta(name: string, value: string | undefined): void;
  /**
   * The encoded value `key` had just after the commit of `revision`, read from
   * history (the base of the mirror's 3-way merge); null when it did not exist.
   */
  valueAt(key: string, revision: number): string | null;
  /** The distinct keys with set/delete records after `revision`. */
  keysChangedAfter(revision: number): string[];
}

export interface StoragePort {
  /** Where the data lives, for messages: a file path or a connection name. */
  readonly location: string;
  /** Changes whenever another connection commits. Cheap. */
  dataVersion(): number;
  readState(): StoreState;
  readRow(key: string): StoredRow | undefined;
  /** Rows whose key equals `prefix` or lies under it, ordered by key. Empty prefix: all. */
  listRows(prefix: string): StoredRow[];
  history(query: HistoryQuery): StoredChange[];
  /** The distinct keys changed in revisions after `revision`, at most `limit` + 1 of them. */
  keysChangedSince(revision: number, limit: number): string[];
  readSchema(): StoredSchema | undefined;
  readMeta(name: string): string | undefined;
  /** The state and every row, read in one consistent read transaction. */
  readAll(): { state: StoreState; rows: StoredRow[]; schema: StoredSchema | undefined };
  write<T>(fn: (tx: WriteTx) => T): T;
  /**
   * Runs `fn` in a read transaction: one consistent view, no write lock. `fn`
   * must only read (the tx object is shared with `write`; writing would try to
   * upgrade the lock).
   */
  read<T>(fn: (tx: WriteTx) => T): T;
  /** Runs an integrity check; returns the problems found (empty when healthy). */
  checkIntegrity(): string[];
  close(): void;
}
