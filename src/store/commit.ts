/**
 * The Store's writes to its write store: the core engine's commit, undo and
 * schema change, each run in one `BEGIN IMMEDIATE` transaction of the shared
 * connection (ARCHITECTURE.md §concurrency), with the shared read cache
 * updated before the call returns (read-your-own-writes).
 */
import { PsmcError } from '../core/errors.js';
import type { WallClock } from '../core/clock.js';
import type { JsonValue } from '../core/value.js';
import type { StoredRow, WriteTx } from '../core/port.js';
import { compileSchema, parseSchemaDocument } from '../core/schema.js';
import {
  commitChanges,
  commitSchema,
  planUndo,
  toRecord,
  type CommitResult,
  type PreparedChange,
} from '../core/engine.js';
import type { SharedStore } from './shared.js';
import type { Commit } from './options.js';

/** Who writes and when: the wall clock (read inside the transaction) and the source recorded. */
export interface Writer {
  readonly clock: WallClock;
  readonly source: string;
}

/**
 * Before the write store exists, every key is absent: refuses (PSMC_CONFLICT)
 * a change that expects a revision other than 0, before the store is created.
 */
export function refuseOnEmptyStore(prepared: readonly PreparedChange[]): void {
  for (const c of prepared) {
    if (c.expectRevision !== undefined && c.expectRevision !== 0) {
      throw new PsmcError(
        'PSMC_CONFLICT',
        `The key ${JSON.stringify(c.key)} does not exist (the store is empty), but the write expected revision ${c.expectRevision}.`,
        {
          hint: 'Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.',
          details: { key: c.key, expectedRevision: c.expectRevision, currentRevision: 0 },
        },
      );
    }
  }
}

/** Commits checked changes in one transaction (CAS, schema, no-op detection are the engine's). */
export function commitPrepared(shared: SharedStore, prepared: readonly PreparedChange[], by: Writer): CommitResult {
  shared.beforeWrite();
  const result = shared.storage.write((tx) =>
    commitChanges(tx, prepared, { wallMs: by.clock(), source: by.source, schemaOf: (t) => shared.schemaIn(t) }),
  );
  shared.applyCommit(result);
  return result;
}

/** The refusal of an undo on a store that does not exist yet. */
export function nothingToUndo(dir: string): PsmcError {
  return new PsmcError('PSMC_NOTHING_TO_UNDO', `The store at ${dir} has no changes to undo (it does not exist yet).`, {
    hint: 'Nothing was ever written to this store.',
  });
}

/** Reverts `revision` (the newest when undefined) as a new change, noted `undo of revision N`. */
export function commitUndo(
  shared: SharedStore,
  revision: number | undefined,
  force: boolean,
  by: Writer,
): CommitResult {
  const result = shared.storage.write((tx) => {
    const plan = planUndo(tx, revision, force);
    const ctx = {
      wallMs: by.clock(),
      source: by.source,
      schemaOf: (t: WriteTx) => shared.schemaIn(t),
      note: `undo of revision ${plan.revision}`,
    };
    if (plan.schema !== undefined) {
      return commitSchema(tx, plan.schema.doc, ctx, (rows) => checkRows(plan.schema?.doc, rows));
    }
    return commitChanges(tx, plan.changes, ctx);
  });
  shared.applyCommit(result);
  return result;
}

/** Replaces the stored schema (`text` is a checked document's JSON; undefined removes it). */
export function commitSchemaText(shared: SharedStore, text: string | undefined, by: Writer): CommitResult {
  const result = shared.storage.write((tx) =>
    commitSchema(tx, text, { wallMs: by.clock(), source: by.source, schemaOf: (t) => shared.schemaIn(t) }, (rows) =>
      checkRows(text, rows),
    ),
  );
  shared.applyCommit(result);
  return result;
}

/** The public shape of a commit. */
export function toCommit(r: CommitResult): Commit {
  return { revision: r.revision, at: r.at, changes: r.records.map(toRecord) };
}

/** Throws PSMC_SCHEMA_VIOLATION when a stored value does not satisfy the schema document. */
function checkRows(docText: string | undefined, rows: readonly StoredRow[]): void {
  if (docText === undefined) return;
  const schema = compileSchema(parseSchemaDocument(JSON.parse(docText) as unknown));
  for (const r of rows) schema.validate(r.key, JSON.parse(r.value) as JsonValue);
}
