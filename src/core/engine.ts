/**
 * The write engine (spec/SPEC.md §revision, §history, §cas, §batch, §undo).
 * Pure: it runs inside a storage write transaction (`WriteTx`), and takes the
 * wall clock reading and the source as parameters.
 *
 * Contract: every function here is called with the store's write lock held
 * (inside `StoragePort.write`). A thrown error rolls the whole transaction
 * back, so a failed batch leaves the store unchanged.
 */
import { PsmcError } from './errors.js';
import { assertKey } from './keys.js';
import { decodeStored, encodeChecked, typeOf, type JsonValue } from './value.js';
import { formatHlc, nextHlc, parseHlc } from './clock.js';
import { SCHEMA_HISTORY_KEY, type ChangeRecord, type ChangeRequest } from './change.js';
import type { StoredChange, StoredRow, WriteTx } from './port.js';
import type { CompiledSchema } from './schema.js';

/** A request whose key and value have been checked and encoded (outside the lock). */
export interface PreparedChange {
  readonly op: 'set' | 'delete';
  readonly key: string;
  readonly value?: JsonValue;
  readonly text?: string;
  readonly expectRevision?: number;
}

/** A losing value to record with a commit (op `conflict`): the value did not change by it. */
export interface ConflictNote {
  readonly key: string;
  readonly lost: string | null;
  readonly won: string | null;
  readonly source: string;
  readonly note: string;
}

export interface WriteContext {
  /** Wall-clock reading for the commit, in ms since the epoch. */
  readonly wallMs: number;
  /** The source recorded on every change. */
  readonly source: string;
  /** The compiled schema of the store as stored in this transaction, or undefined. */
  readonly schemaOf: (tx: WriteTx) => CompiledSchema | undefined;
  /** Recorded with each change (e.g. `undo of revision 12`). */
  readonly note?: string;
  /** Conflict records to append to the commit (the mirror's merge); they alone also take a revision. */
  readonly conflicts?: readonly ConflictNote[];
}

export interface CommitResult {
  readonly revision: number;
  readonly at: string;
  readonly records: readonly StoredChange[];
  /** The new row of every changed key (undefined: deleted). */
  readonly rows: ReadonlyMap<string, StoredRow | undefined>;
  /** The revision the store had before this commit. */
  readonly previousRevision: number;
}

export const MAX_SOURCE_LENGTH = 128;
export const MAX_BATCH = 100_000;

/** Throws PSMC_USAGE unless `source` is 1–128 code points, well-formed, with no C0/C1 control character or DEL. */
/** Sources are counted in Unicode code points (as Python and Rust count), not UTF-16 units. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function assertSource(source: unknown): asserts source is string {
  if (
    typeof source !== 'string' ||
    source.length === 0 ||
    !source.isWellFormed() ||
    /[\u0000-\u001f\u007f-\u009f]/.test(source) ||
    codePoints(source) > MAX_SOURCE_LENGTH
  ) {
    throw new PsmcError('PSMC_USAGE', `The source ${JSON.stringify(source)} is not usable.`, {
      hint: `A source is 1–${MAX_SOURCE_LENGTH} printable characters naming the writer, e.g. cli, gui, http:deploy-bot.`,
    });
  }
}

function assertRevisionArg(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new PsmcError('PSMC_USAGE', `${what} must be a whole number ≥ 0, received ${JSON.stringify(n)}.`, {
      hint: 'Pass the revision shown by get --json or history (0 means "the key must not exist").',
    });
  }
}

/** Checks and encodes a batch before the lock is taken. Throws on the first bad request. */
export function prepareChanges(requests: readonly ChangeRequest[]): PreparedChange[] {
  if (requests.length > MAX_BATCH) {
    throw new PsmcError('PSMC_USAGE', `A batch holds ${requests.length} changes; the limit is ${MAX_BATCH}.`, {
      hint: 'Split it into several batches.',
    });
  }
  const seen = new Set<string>();
  return requests.map((r, i) => {
    if (r === null || typeof r !== 'object' || (r.op !== 'set' && r.op !== 'delete')) {
      throw new TypeError(`change ${i} must be { op: 'set', key, value } or { op: 'delete', key }`);
    }
    assertKey(r.key);
    if (seen.has(r.key)) {
      throw new PsmcError('PSMC_USAGE', `The key ${JSON.stringify(r.key)} appears twice in one batch (change ${i}).`, {
        hint: 'Give each key at most once per batch.',
        details: { key: r.key },
      });
    }
    seen.add(r.key);
    if (r.expectRevision !== undefined) assertRevisionArg(r.expectRevision, 'expectRevision');
    const base = r.expectRevision === undefined ? {} : { expectRevision: r.expectRevision };
    if (r.op === 'delete') return { op: 'delete', key: r.key, ...base };
    const { value, text } = encodeChecked(r.value, r.key);
    return { op: 'set', key: r.key, value, text, ...base };
  });
}

function conflict(key: string, current: StoredRow | undefined, expected: number): PsmcError {
  const currentRevision = current?.revision ?? 0;
  const details = {
    key,
    expectedRevision: expected,
    currentRevision,
    ...(current === undefined ? {} : { currentValue: decodeStored(current.value) }),
  };
  const what =
    current === undefined
      ? `does not exist (it was deleted or never set)`
      : `is at revision ${currentRevision} (set by ${current.source} at ${current.updatedAt})`;
  return new PsmcError(
    'PSMC_CONFLICT',
    `The key ${JSON.stringify(key)} ${what}, but the write expected revision ${expected}.`,
    {
      hint: 'Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.',
      details,
    },
  );
}

/**
 * Applies a prepared batch: checks compare-and-set and the schema, then, when
 * anything changes, takes the next revision and clock and records each change.
 * A set to the current value and a delete of an absent key change nothing and
 * record nothing; a batch that changes nothing takes no revision.
 */
export function commitChanges(tx: WriteTx, changes: readonly PreparedChange[], ctx: WriteContext): CommitResult {
  const state = tx.readState();
  const schema = ctx.schemaOf(tx);
  const effective: Array<{ c: PreparedChange; old: StoredRow | undefined }> = [];
  for (const c of changes) {
    const old = tx.readRow(c.key);
    if (c.expectRevision !== undefined && (old?.revision ?? 0) !== c.expectRevision) {
      throw conflict(c.key, old, c.expectRevision);
    }
    if (c.op === 'set') {
      schema?.validate(c.key, c.value as JsonValue);
      if (old !== undefined && old.value === c.text) continue;
    } else if (old === undefined) {
      continue;
    }
    effective.push({ c, old });
  }
  const conflicts = ctx.conflicts ?? [];
  if (effective.length === 0 && conflicts.length === 0) {
    return {
      revision: state.revision,
      at: state.clock,
      records: [],
      rows: new Map(),
      previousRevision: state.revision,
    };
  }
  const revision = state.revision + 1;
  const at = formatHlc(nextHlc(parseHlc(state.clock), ctx.wallMs));
  const records: StoredChange[] = [];
  const rows = new Map<string, StoredRow | undefined>();
  for (let seq = 0; seq < effective.length; seq++) {
    const { c, old } = effective[seq] as (typeof effective)[number];
    records.push({
      revision,
      seq,
      key: c.key,
      op: c.op,
      oldValue: old?.value ?? null,
      newValue: c.op === 'set' ? (c.text as string) : null,
      source: ctx.source,
      at,
      note: ctx.note ?? null,
    });
    rows.set(
      c.key,
      c.op === 'set'
        ? {
            key: c.key,
            value: c.text as string,
            type: typeOf(c.value as JsonValue),
            revision,
            updatedAt: at,
            source: ctx.source,
          }
        : undefined,
    );
  }
  // Write in key order: B-tree inserts into `entries` and the history index by key are then
  // sequential, several times faster for big batches. `seq` keeps the order the caller gave.
  const order =
    records.length > 64 ? records.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) : records;
  for (const record of order) {
    const row = rows.get(record.key);
    if (row === undefined) tx.deleteRow(record.key);
    else tx.putRow(row);
    tx.appendChange(record);
  }
  for (const c of conflicts) {
    const record: StoredChange = {
      revision,
      seq: records.length,
      key: c.key,
      op: 'conflict',
      oldValue: c.lost,
      newValue: c.won,
      source: c.source,
      at,
      note: c.note,
    };
    tx.appendChange(record);
    records.push(record);
  }
  tx.writeState(revision, at);
  return { revision, at, records, rows, previousRevision: state.revision };
}

/**
 * Replaces the stored schema (undefined removes it), recorded in history under
 * the key `@schema`. `check` validates every stored value against the new
 * schema first and throws PSMC_SCHEMA_VIOLATION when one fails.
 */
export function commitSchema(
  tx: WriteTx,
  docText: string | undefined,
  ctx: WriteContext,
  check: (rows: readonly StoredRow[]) => void,
): CommitResult {
  const state = tx.readState();
  const old = tx.readSchema();
  if ((old?.doc ?? undefined) === docText) {
    return {
      revision: state.revision,
      at: state.clock,
      records: [],
      rows: new Map(),
      previousRevision: state.revision,
    };
  }
  if (docText !== undefined) check(tx.allRows());
  const revision = state.revision + 1;
  const at = formatHlc(nextHlc(parseHlc(state.clock), ctx.wallMs));
  tx.writeSchema(docText, revision);
  const record: StoredChange = {
    revision,
    seq: 0,
    key: SCHEMA_HISTORY_KEY,
    op: 'schema',
    oldValue: old?.doc ?? null,
    newValue: docText ?? null,
    source: ctx.source,
    at,
    note: ctx.note ?? null,
  };
  tx.appendChange(record);
  tx.writeState(revision, at);
  return { revision, at, records: [record], rows: new Map(), previousRevision: state.revision };
}

/**
 * Plans the undo of one revision: the changes that put every key it touched
 * back to its value before that revision. Unless `force`, refuses with
 * PSMC_CONFLICT when a key was changed again afterwards, because undoing would
 * silently discard that later change.
 */
export function planUndo(
  tx: WriteTx,
  target: number | undefined,
  force: boolean,
): { revision: number; changes: PreparedChange[]; schema: { doc: string | undefined } | undefined } {
  if (target !== undefined) assertRevisionArg(target, 'revision');
  const revision = target ?? tx.lastChangedRevision();
  if (revision === 0 && target === undefined) {
    throw new PsmcError('PSMC_NOTHING_TO_UNDO', 'The store has no changes to undo.', {
      hint: 'Nothing was ever written to this store.',
    });
  }
  const records = tx.changesAt(revision);
  if (records.length > 0 && records.every((r) => r.op === 'conflict')) {
    throw new PsmcError(
      'PSMC_NOT_FOUND',
      `Revision ${revision} changed no value: it only records a conflict that the store won.`,
      {
        hint: 'The losing value is in history (op conflict); set it again if you want it. Pick another revision from `psmc history`.',
        details: { revision },
      },
    );
  }
  if (records.length === 0) {
    const last = tx.readState().revision;
    throw new PsmcError(
      'PSMC_NOT_FOUND',
      `Revision ${revision} has no recorded changes (the store is at revision ${last}).`,
      {
        hint: 'Pick a revision listed by `psmc history`.',
        details: { revision },
      },
    );
  }
  const changes: PreparedChange[] = [];
  let schema: { doc: string | undefined } | undefined;
  for (const r of records) {
    // A conflict record changed no value: there is nothing to put back.
    if (r.op === 'conflict') continue;
    if (r.op === 'schema') {
      // A later set *or removal* of the schema both leave a later @schema record.
      const later = tx.lastRevisionOf(r.key);
      if (!force && later !== revision) throw undoConflict(r.key, revision, later);
      schema = { doc: r.oldValue ?? undefined };
      continue;
    }
    const current = tx.readRow(r.key);
    const currentRevision = current?.revision ?? 0;
    if (!force && currentRevision !== revision && !(current === undefined && r.op === 'delete')) {
      throw undoConflict(r.key, revision, currentRevision);
    }
    if (r.oldValue === null) changes.push({ op: 'delete', key: r.key });
    else changes.push({ op: 'set', key: r.key, value: decodeStored(r.oldValue), text: r.oldValue });
  }
  return { revision, changes, schema };
}

function undoConflict(key: string, revision: number, laterRevision: number): PsmcError {
  return new PsmcError(
    'PSMC_CONFLICT',
    `Cannot undo revision ${revision}: ${JSON.stringify(key)} was changed again at revision ${laterRevision}.`,
    {
      hint: `Undo revision ${laterRevision} first, or force the undo (psmc undo ${revision} --force) to overwrite the later change (it stays in history).`,
      details: { key, revision, currentRevision: laterRevision },
    },
  );
}

/** Turns a stored history row into the public record. */
export function toRecord(c: StoredChange): ChangeRecord {
  return {
    revision: c.revision,
    seq: c.seq,
    key: c.key,
    op: c.op,
    oldValue:
      c.oldValue === null
        ? undefined
        : c.op === 'schema'
          ? (JSON.parse(c.oldValue) as JsonValue)
          : decodeStored(c.oldValue),
    newValue:
      c.newValue === null
        ? undefined
        : c.op === 'schema'
          ? (JSON.parse(c.newValue) as JsonValue)
          : decodeStored(c.newValue),
    source: c.source,
    at: c.at,
    note: c.note ?? undefined,
  };
}
