/**
 * The one change shape (spec/SPEC.md §history), shared by the engine, the
 * storage adapters, the CLI's --json output and, later, the mirror, the
 * watcher and the HTTP API. Python and Rust serialise it the same way.
 */
import type { JsonValue, ValueType } from './value.js';

/** What a caller asks for: set a key to a value, or delete it. */
export type ChangeRequest =
  | { readonly op: 'set'; readonly key: string; readonly value: unknown; readonly expectRevision?: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectRevision?: number };

/**
 * The kinds of history record. `schema` records a change of the stored schema;
 * `conflict` records the losing side of a conflicting change (the key's value
 * did not change: `oldValue` holds the value that lost, `newValue` the one that
 * won), so no value is ever lost without a trace.
 */
export type ChangeOp = 'set' | 'delete' | 'schema' | 'conflict';

/**
 * One row of history: what changed, from what to what, who did it and when.
 * One store revision may hold several records (a batch); `seq` orders them.
 */
export interface ChangeRecord {
  /** The store revision of the commit that made this change. */
  readonly revision: number;
  /** Position within the revision, from 0. */
  readonly seq: number;
  /** The key; `@schema` for a schema change. */
  readonly key: string;
  readonly op: ChangeOp;
  /** The value before, or undefined when the key did not exist. */
  readonly oldValue: JsonValue | undefined;
  /** The value after, or undefined for a delete. */
  readonly newValue: JsonValue | undefined;
  /** Who made it: `cli`, `gui`, `http:<token>`, `file`, `python`, `undo` … */
  readonly source: string;
  /** Hybrid-logical-clock text of the commit. */
  readonly at: string;
  /** Free text such as `undo of revision 12`; undefined when none. */
  readonly note: string | undefined;
}

/** A stored key with its metadata. */
export interface Entry {
  readonly key: string;
  readonly value: JsonValue;
  readonly type: ValueType;
  /** The store revision of the last change to this key. */
  readonly revision: number;
  /** Hybrid-logical-clock text of the last change. */
  readonly updatedAt: string;
  readonly source: string;
}

/** The key under which schema changes appear in history. Not a legal key, so it never collides. */
export const SCHEMA_HISTORY_KEY = '@schema';
