/**
 * The mirror engine (spec/sections/mirror-sync.md): keeps a store's plaintext
 * file (`config.json`, `.toml` or `.yaml`) true in both directions.
 *
 * - Export: after commits, coalesced (a burst or a batch gives one rewrite),
 *   atomic, editing only the changed spans of the file so comments, order and
 *   formatting survive.
 * - Import: a hand edit is detected by size and mtime, then a content hash
 *   recorded in the database; it is merged 3-way (core/merge.ts) with source
 *   `file`, conflicts resolved by time with the loser kept in history.
 * - An invalid edit is never applied and never overwritten: the error is
 *   recorded (file, line, column, key, what, how to fix), the store keeps
 *   working from the database, and exports wait until the file is fixed.
 *
 * Concurrency contract: every sync runs inside one storage write transaction
 * (the store's write lock), so two processes never export or import at once,
 * and the file and the bookkeeping in `meta` change together. A crash between
 * the file rename and the commit leaves a file that the next sync sees as a
 * hand edit equal to the database: merging it changes nothing.
 *
 * Timers: `get()`/`set()` never start a watcher, a poller or a recurring
 * timer. After a commit the engine schedules at most one one-shot, unref'd
 * export (setImmediate, or a timeout when the last export was under
 * EXPORT_INTERVAL_MS ago). Pending exports are also flushed by `close()` and
 * at process exit.
 */
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PsmcError, isPsmcError } from '../core/errors.js';
import { parseHlc } from '../core/clock.js';
import { commitChanges, type CommitResult, type PreparedChange } from '../core/engine.js';
import { mergeMirror } from '../core/merge.js';
import { decodeStored, encodeValue, valuesEqual, type JsonValue } from '../core/value.js';
import type { StoragePort, StoredRow, WriteTx } from '../core/port.js';
import { MIRROR_FILES, type MirrorCodec } from './codecs/types.js';
import { codecs } from './codecs-load.js';
import { commitTemp, discardTemp, writeTemp, writeTempRetrying } from './atomic.js';
import { decodeUtf8, sha256, statOf, sweepTemps, type FileStat } from './files.js';
import { locateKey } from './locate.js';
import { renderJsonFromRows } from './render-rows.js';
import type { MirrorError, MirrorHost, MirrorSetting, MirrorState, MirrorStatus, SyncResult } from './types.js';

/** A file modified less than this long ago may still be being written: wait before importing it. */
export const SETTLE_MS = 30;
/** An empty file is an editor mid-save; after this long it counts as deleted and is regenerated. A file with no entries over a base with keys waits as long, then imports. */
export const EMPTY_GRACE_MS = 2000;
/** At most one export per this interval while commits keep coming (the mirror's lag bound is well under 200 ms). */
export const EXPORT_INTERVAL_MS = 50;

const META = {
  format: 'mirror.format',
  revision: 'mirror.revision',
  hash: 'mirror.hash',
  size: 'mirror.size',
  mtime: 'mirror.mtime',
  error: 'mirror.error',
  errorHash: 'mirror.error_hash',
  exportedAt: 'mirror.exported_at',
  importedAt: 'mirror.imported_at',
} as const;

export type { MirrorError, MirrorHost, MirrorSetting, MirrorState, MirrorStatus, SyncResult } from './types.js';

/** Reads the store's mirror setting without a transaction. */
export function mirrorSetting(storage: StoragePort): MirrorSetting {
  const v = storage.readMeta(META.format);
  return v === 'toml' || v === 'yaml' || v === 'off' ? v : 'json';
}

const pendingAtExit = new Set<Mirror>();
let exitHookInstalled = false;
function flushAtExit(): void {
  for (const m of pendingAtExit) {
    try {
      m.flush();
    } catch (e) {
      // At exit there is no caller left to tell; the next process to open the store exports instead.
      process.stderr.write(`psmc: could not update the mirror ${m.file} at exit: ${(e as Error).message}\n`);
    }
  }
}

export class Mirror {
  readonly #host: MirrorHost;
  #setting: MirrorSetting;
  #codec: MirrorCodec | undefined;
  /** The file's stat after the last sync: a different stat means someone touched the file. */
  #known: FileStat | 'missing' | undefined;
  #pending = false;
  #timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #lastExport = Number.NEGATIVE_INFINITY;
  #closed = false;
  /** The last error of a scheduled (background) sync, for status. */
  lastBackgroundError: unknown;

  constructor(host: MirrorHost) {
    this.#host = host;
    this.#setting = mirrorSetting(host.storage);
    sweepTemps(host.dir, host.clock());
  }

  get format(): MirrorSetting {
    return this.#setting;
  }

  get file(): string {
    return join(this.#host.dir, MIRROR_FILES[this.#setting === 'off' ? 'json' : this.#setting]);
  }

  #codecNow(): MirrorCodec {
    return (this.#codec ??= codecs().codecFor(this.#setting === 'off' ? 'json' : this.#setting));
  }

  /**
   * Cheap check (one stat): true when the file may hold a hand edit (or was
   * deleted) since the last sync. Reads and writes call it before syncing.
   */
  changedOnDisk(): boolean {
    if (this.#setting === 'off') return false;
    const st = statOf(this.file);
    const known = this.#known;
    if (known === undefined) return true;
    if (st === undefined) return known !== 'missing';
    return known === 'missing' || known.size !== st.size || known.mtimeMs !== st.mtimeMs;
  }

  /**
   * True when a sync has work to do: the file changed (or vanished) since the
   * last export/import, or the database moved past the revision the file
   * shows. Reads only (a stat and a few rows), no write lock: a one-shot
   * `psmc get` on a store in sync pays no more.
   */
  needsSync(): boolean {
    if (this.#setting === 'off') return false;
    const s = this.#host.storage;
    const st = statOf(this.file);
    if (st === undefined) return true;
    if (Number(s.readMeta(META.size)) !== st.size || Number(s.readMeta(META.mtime)) !== st.mtimeMs) return true;
    if (Number(s.readMeta(META.revision) ?? '-1') < s.readState().revision && s.readMeta(META.error) === undefined)
      return true;
    this.#known = st;
    return false;
  }

  /** Imports a pending hand edit and exports pending changes, now. */
  sync(): SyncResult {
    if (this.#setting === 'off')
      return { imported: undefined, exported: false, retryInMs: undefined, error: undefined };
    let result: SyncResult;
    try {
      result = this.#host.storage.write((tx) => this.#importIn(tx));
    } catch (e) {
      if (
        !isPsmcError(e) ||
        e.code === 'PSMC_BUSY' ||
        e.code === 'PSMC_IO' ||
        e.code === 'PSMC_CLOSED' ||
        e.code === 'PSMC_CORRUPT'
      )
        throw e;
      // The hand edit is invalid (syntax, key, value, schema): the transaction rolled back;
      // record the error so status can show it, keep the file as the user saved it.
      const error = this.#recordError(e);
      return { imported: undefined, exported: false, retryInMs: undefined, error };
    }
    if (result.imported !== undefined) this.#host.applyCommit(result.imported);
    if (result.retryInMs !== undefined || result.error !== undefined || result.waiting === true) return result;
    const exported = result.exported || this.#exportIfNeeded();
    if (exported) this.#lastExport = performance.now();
    this.#pending = false;
    pendingAtExit.delete(this);
    return { ...result, exported };
  }

  #readMetaNum(tx: WriteTx, name: string): number | undefined {
    const v = tx.readMeta(name);
    return v === undefined ? undefined : Number(v);
  }

  /**
   * Under the write lock: notices a hand edit (or a deleted file) and imports
   * it. Exports are not done here (see #exportIfNeeded) except to regenerate a
   * missing file and to correct a file whose edit lost a conflict.
   */
  #importIn(tx: WriteTx): SyncResult & { waiting?: boolean } {
    const none = { imported: undefined, exported: false, retryInMs: undefined, error: undefined };
    this.#setting = tx.readMeta(META.format) === undefined ? this.#setting : mirrorSettingIn(tx);
    if (this.#setting === 'off') return { ...none, waiting: true };
    const file = this.file;
    const state = tx.readState();
    const st = statOf(file);
    if (st === undefined) {
      // No file (first export, or the user deleted it): write it from the database.
      this.#exportFull(tx, state.revision);
      return { ...none, exported: true };
    }
    if (this.#readMetaNum(tx, META.size) === st.size && this.#readMetaNum(tx, META.mtime) === st.mtimeMs) {
      if (tx.readMeta(META.error) !== undefined) return { ...none, waiting: true };
      this.#known = st;
      return none;
    }
    const bytes = readFileSync(file);
    const hash = sha256(bytes);
    if (hash === tx.readMeta(META.hash)) {
      // Touched, not changed (or rewritten with the same bytes); a fixed-back file clears the error.
      this.#recordStat(tx, st);
      tx.writeMeta(META.error, undefined);
      tx.writeMeta(META.errorHash, undefined);
      return none;
    }
    if (hash === tx.readMeta(META.errorHash)) {
      // The same invalid edit as before: still waiting for the user to fix it.
      this.#known = st;
      return { ...none, waiting: true };
    }
    const text = decodeUtf8(bytes, file);
    const age = this.#host.clock() - st.mtimeMs;
    if (text.trim() === '') {
      // Editors truncate, then write: an empty file is a save in progress, until it stays empty.
      if (age < EMPTY_GRACE_MS) return { ...none, retryInMs: EMPTY_GRACE_MS - Math.max(0, age) };
      this.#exportFull(tx, state.revision);
      return { ...none, exported: true };
    }
    if (age < SETTLE_MS && age > -1000) return { ...none, retryInMs: SETTLE_MS - Math.max(0, age) + 1 };
    return this.#import(tx, text, hash, st, this.#readMetaNum(tx, META.revision) ?? 0);
  }

  /**
   * Exports the changes committed since the file was last written, in three
   * steps so the write lock is held only for a rename: (1) in a read
   * transaction, gather what changed; (2) with no lock, compute the new text
   * and write + fsync a temp file; (3) under the write lock, check that
   * nobody exported or edited the file meanwhile, rename, fsync the directory
   * and record it. If step 3 finds the world moved, start again (twice at most;
   * then whoever moved it has exported).
   */
  #exportIfNeeded(): boolean {
    const storage = this.#host.storage;
    for (let attempt = 0; attempt < 3; attempt++) {
      const plan = storage.read((tx) => {
        const metaRevision = this.#readMetaNum(tx, META.revision);
        const revision = tx.readState().revision;
        if (metaRevision !== undefined && metaRevision >= revision) return undefined;
        if (tx.readMeta(META.error) !== undefined) return undefined;
        const metaHash = tx.readMeta(META.hash);
        const changes = tx.keysChangedAfter(metaRevision ?? 0).map((key) => {
          const row = tx.readRow(key);
          return { key, value: row === undefined ? undefined : decodeStored(row.value) };
        });
        return { metaRevision, metaHash, revision, changes };
      });
      if (plan === undefined) return false;
      const file = this.file;
      const before = statOf(file);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        return this.#host.storage.write((tx) => (this.#importIn(tx), true));
      }
      if (sha256(bytes) !== plan.metaHash) return false; // a hand edit: the next sync imports it first
      const base = bytes.toString('utf8');
      let text: string;
      try {
        text = this.#updatedText(base, plan.changes);
      } catch (e) {
        if (!isPsmcError(e)) throw e;
        // The file parses no more although its hash matched (should not happen): write it anew.
        return storage.write((tx) => (this.#exportFull(tx, tx.readState().revision), true));
      }
      const tmp = writeTemp(file, text);
      const done = storage.write((tx) => {
        const now = statOf(file);
        const moved =
          this.#readMetaNum(tx, META.revision) !== plan.metaRevision ||
          tx.readMeta(META.hash) !== plan.metaHash ||
          now === undefined ||
          before === undefined ||
          now.size !== before.size ||
          now.mtimeMs !== before.mtimeMs;
        if (moved) return false;
        const written = statOf(tmp);
        commitTemp(tmp, file);
        this.#recordWritten(tx, text, plan.revision, written);
        return true;
      });
      if (done) return true;
      discardTemp(tmp);
    }
    return false;
  }

  #recordStat(tx: WriteTx, st: FileStat): void {
    tx.writeMeta(META.size, String(st.size));
    tx.writeMeta(META.mtime, String(st.mtimeMs));
    this.#known = st;
  }

  /** Writes `text` over the mirror atomically and records it as exported at `revision`. */
  #writeAndRecord(tx: WriteTx, text: string, revision: number): void {
    const tmp = writeTempRetrying(this.file, text);
    const written = statOf(tmp);
    commitTemp(tmp, this.file);
    this.#recordWritten(tx, text, revision, written);
  }

  /**
   * Records `text` as the mirror's content at `revision`. `st` is the stat of the temp file taken
   * before its rename (a rename keeps size and mtime): a stat of the target after the rename could
   * see a hand save that landed in between, record it as ours, and never import it.
   */
  #recordWritten(tx: WriteTx, text: string, revision: number, st: FileStat | undefined): void {
    if (st === undefined)
      throw new PsmcError('PSMC_IO', `The temp file for ${this.file} vanished right after it was written.`, {
        hint: 'Check what else writes to the store directory.',
      });
    tx.writeMeta(META.revision, String(revision));
    tx.writeMeta(META.hash, sha256(text));
    tx.writeMeta(META.exportedAt, new Date(this.#host.clock()).toISOString());
    tx.writeMeta(META.error, undefined);
    tx.writeMeta(META.errorHash, undefined);
    this.#recordStat(tx, st);
  }

  #exportFull(tx: WriteTx, revision: number): void {
    const rows = tx.allRows();
    const text =
      this.#setting === 'json'
        ? renderJsonFromRows(rows, (e) => this.#codecNow().render(e))
        : this.#codecNow().render(rows.map((r) => [r.key, decodeStored(r.value)] as const));
    this.#writeAndRecord(tx, text, revision);
  }

  /**
   * The file with `changes` applied (§mirror.update). The span-edit update
   * rescans the file after each change, so a burst of many changes would cost
   * changes × file size. A file that is exactly canonical (no comments, no
   * custom layout) has nothing to preserve, and updating a canonical file
   * gives the canonical file: so for many changes to a canonical file, render
   * it anew — the same bytes in one pass.
   */
  #updatedText(base: string, changes: ReadonlyArray<{ key: string; value: JsonValue | undefined }>): string {
    const codec = this.#codecNow();
    if (changes.length > 16) {
      const values = new Map(codec.parse(base).values);
      const sorted = [...values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (codec.render(sorted) === base) {
        for (const c of changes) {
          if (c.value === undefined) values.delete(c.key);
          else values.set(c.key, c.value);
        }
        return codec.render([...values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    }
    return codec.update(base, changes);
  }

  #import(tx: WriteTx, text: string, hash: string, st: FileStat, baseRevision: number): SyncResult {
    const parsed = this.#codecNow().parse(text);
    const theirs = new Map<string, string>();
    for (const [key, value] of parsed.values) theirs.set(key, encodeValue(value, key));
    const rows = new Map<string, StoredRow>();
    for (const r of tx.allRows()) rows.set(r.key, r);
    const age = this.#host.clock() - st.mtimeMs;
    if (parsed.values.size === 0 && age < EMPTY_GRACE_MS) {
      // No entries over a base with keys: maybe an in-place save cut in its header; wait as for an empty file.
      const baseHasKey =
        [...rows.values()].some((r) => r.revision <= baseRevision) ||
        tx.keysChangedAfter(baseRevision).some((k) => tx.valueAt(k, baseRevision) !== null);
      if (baseHasKey)
        return { imported: undefined, exported: false, retryInMs: EMPTY_GRACE_MS - Math.max(0, age), error: undefined };
    }
    const keys = new Set<string>([...theirs.keys(), ...rows.keys(), ...tx.keysChangedAfter(baseRevision)]);
    const merge = mergeMirror({
      keys,
      theirs,
      base: (key) => {
        const row = rows.get(key);
        return row !== undefined && row.revision <= baseRevision ? row.value : tx.valueAt(key, baseRevision);
      },
      ours: (key) => {
        const row = rows.get(key);
        if (row !== undefined) return { text: row.value, timeMs: parseHlc(row.updatedAt).ms, source: row.source };
        const last = tx.lastRevisionOf(key);
        const record = last === 0 ? undefined : tx.changesAt(last).find((c) => c.key === key);
        return {
          text: null,
          timeMs: record === undefined ? 0 : parseHlc(record.at).ms,
          source: record?.source ?? 'file',
        };
      },
      fileTimeMs: st.mtimeMs,
    });
    let imported: CommitResult | undefined;
    if (merge.apply.length > 0 || merge.conflicts.length > 0) {
      this.#host.beforeImport?.();
      const prepared: PreparedChange[] = merge.apply.map(({ key, text: t }) =>
        t === null ? { op: 'delete', key } : { op: 'set', key, value: decodeStored(t), text: t },
      );
      imported = commitChanges(tx, prepared, {
        wallMs: this.#host.clock(),
        source: 'file',
        schemaOf: (t) => this.#host.schemaIn(t),
        conflicts: merge.conflicts.map((c) => ({
          key: c.key,
          lost: c.lost,
          won: c.won,
          source: c.loserSource,
          note:
            c.winner === 'file'
              ? `lost to a hand edit of ${MIRROR_FILES[this.#codecNow().format]}`
              : `hand edit of ${MIRROR_FILES[this.#codecNow().format]} lost to a later change`,
        })),
      });
      tx.writeMeta(META.importedAt, new Date(this.#host.clock()).toISOString());
    }
    // Where the database now disagrees with the file, correct the file: a conflict the store
    // won, or (with no base yet: a first import, a new format) keys the file never had.
    const after = new Map<string, string | null>();
    for (const [key, row] of rows) after.set(key, row.value);
    for (const a of merge.apply) after.set(a.key, a.text);
    const fix: Array<{ key: string; value: JsonValue | undefined }> = [];
    for (const key of new Set([...after.keys(), ...theirs.keys()])) {
      const db = after.get(key) ?? null;
      const file = theirs.get(key) ?? null;
      const equal = db === file || (db !== null && file !== null && valuesEqual(decodeStored(db), decodeStored(file)));
      if (!equal) fix.push({ key, value: db === null ? undefined : decodeStored(db) });
    }
    const revision = tx.readState().revision;
    if (fix.length > 0) {
      const next = this.#codecNow().update(text, fix);
      this.#writeAndRecord(tx, next, revision);
    } else {
      tx.writeMeta(META.revision, String(revision));
      tx.writeMeta(META.hash, hash);
      tx.writeMeta(META.error, undefined);
      tx.writeMeta(META.errorHash, undefined);
      this.#recordStat(tx, st);
    }
    return { imported, exported: fix.length > 0, retryInMs: undefined, error: undefined };
  }

  #recordError(e: PsmcError): MirrorError {
    const file = this.file;
    const d = e.details;
    let line = typeof d.line === 'number' ? d.line : undefined;
    let column = typeof d.column === 'number' ? d.column : undefined;
    const key = typeof d.key === 'string' ? d.key : undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(file);
    } catch (readError) {
      if ((readError as NodeJS.ErrnoException).code !== 'ENOENT') throw readError;
    }
    const text = bytes?.toString('utf8');
    if (line === undefined && key !== undefined && text !== undefined) {
      // Schema errors know the key, not the place: find the key's line in the file.
      const at = locateKey(text, key);
      if (at !== undefined) ({ line, column } = at);
    }
    const where = line === undefined ? file : `${file}:${line}${column === undefined ? '' : `:${column}`}`;
    const error: MirrorError = {
      code: e.code,
      message: `${where}: ${e.message}`,
      hint: `${e.hint} The store keeps working from the database and the file is left as you saved it; fix the file and save again (psmc status shows this error until then).`,
      file,
      ...(line === undefined ? {} : { line }),
      ...(column === undefined ? {} : { column }),
      ...(key === undefined ? {} : { key }),
    };
    const st = statOf(file);
    this.#host.storage.write((tx) => {
      tx.writeMeta(META.error, JSON.stringify(error));
      if (bytes !== undefined) tx.writeMeta(META.errorHash, sha256(bytes));
    });
    this.#known = st ?? 'missing';
    return error;
  }

  /** Marks changes to export and schedules one coalesced export (see the module comment). */
  scheduleExport(): void {
    if (this.#setting === 'off' || this.#closed) return;
    this.#pending = true;
    pendingAtExit.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', flushAtExit);
    }
    if (this.#timer !== undefined) return;
    const wait = this.#lastExport + EXPORT_INTERVAL_MS - performance.now();
    this.#schedule(wait);
  }

  #schedule(waitMs: number): void {
    const run = (): void => {
      this.#timer = undefined;
      this.#runScheduled();
    };
    this.#timer = waitMs <= 0 ? setImmediate(run) : setTimeout(run, Math.ceil(waitMs));
    this.#timer.unref();
  }

  #failures = 0;

  #runScheduled(): void {
    if (this.#closed || !this.#pending) return;
    try {
      const r = this.sync();
      this.lastBackgroundError = undefined;
      this.#failures = 0;
      if (r.retryInMs !== undefined) this.#schedule(r.retryInMs);
    } catch (e) {
      // A background export must never crash the process: keep the error for status() and retry
      // with backoff a few times; after that the next commit, sync() or close() tries again.
      this.lastBackgroundError = e;
      this.#failures++;
      if (this.#failures <= 5) this.#schedule(100 * 2 ** this.#failures);
    }
  }

  /** Exports pending changes now (close() and process exit call it). */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    if (this.#pending && this.#setting !== 'off') this.sync();
    this.#pending = false;
    pendingAtExit.delete(this);
  }

  status(): MirrorStatus {
    const s = this.#host.storage;
    const revision = Number(s.readMeta(META.revision) ?? '0');
    const errorText = s.readMeta(META.error);
    const error = errorText === undefined ? undefined : (JSON.parse(errorText) as MirrorError);
    const st = this.#setting === 'off' ? undefined : statOf(this.file);
    let state: MirrorState;
    if (this.#setting === 'off') state = 'off';
    else if (error !== undefined) state = 'invalid-edit';
    else if (st === undefined) state = 'missing';
    else if (Number(s.readMeta(META.size)) !== st.size || Number(s.readMeta(META.mtime)) !== st.mtimeMs)
      state = 'pending-import';
    else if (revision < s.readState().revision) state = 'pending-export';
    else state = 'in-sync';
    return {
      file: this.file,
      format: this.#setting,
      state,
      revision,
      exportedAt: s.readMeta(META.exportedAt),
      importedAt: s.readMeta(META.importedAt),
      error,
    };
  }

  /**
   * Switches the store's mirror format (or turns it off). The old format's file
   * is left in place; a stale file of the new format is renamed aside
   * (`config.toml.old-<time>`) and the new file written from the database.
   */
  setFormat(setting: MirrorSetting): void {
    this.flush();
    this.#host.storage.write((tx) => {
      tx.writeMeta(META.format, setting);
      for (const m of Object.values(META)) if (m !== META.format) tx.writeMeta(m, undefined);
      if (setting === 'off') return;
      // A file of the new format left from before is stale: keep it aside (never lose a human's
      // file), and write the new one from the database.
      const target = join(this.#host.dir, MIRROR_FILES[setting]);
      if (statOf(target) !== undefined) {
        renameSync(target, `${target}.old-${new Date(this.#host.clock()).toISOString().replace(/[:.]/g, '-')}`);
      }
    });
    this.#setting = setting;
    this.#codec = undefined;
    this.#known = undefined;
    if (setting !== 'off') this.sync();
  }

  /**
   * Flushes a pending export and stops. A failure here does not make close()
   * throw (the database is the authority and the next open exports again); it
   * is reported as a process warning (code PSMC_MIRROR).
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } catch (e) {
      process.emitWarning(`could not update the mirror ${this.file} on close: ${(e as Error).message}`, {
        code: 'PSMC_MIRROR',
      });
    } finally {
      this.#closed = true;
      pendingAtExit.delete(this);
    }
  }
}

function mirrorSettingIn(tx: WriteTx): MirrorSetting {
  const v = tx.readMeta(META.format);
  return v === 'toml' || v === 'yaml' || v === 'off' ? v : 'json';
}
