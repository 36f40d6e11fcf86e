/**
 * One open database per process, shared by every Store handle on it, with the
 * read cache that makes `get()` cost a Map lookup.
 *
 * Cache contract (spec/SPEC.md §read.freshness):
 * - A commit through any handle in this process updates the cache before the
 *   write returns, so reads in this process see their own writes exactly.
 * - Commits by other processes are noticed within `freshnessMs`: a read first
 *   compares the monotonic clock with the last check; when the bound has
 *   passed it asks SQLite for `PRAGMA data_version` (no disk I/O), and only
 *   when that changed does it read the keys changed since the cached
 *   revision from history and evict just those. So the cost of a read does
 *   not grow with the size of the store.
 * - Nothing here starts a timer, a thread or a file watcher.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SCHEMA_HISTORY_KEY } from '../core/change.js';
import { decodeStored, type JsonValue, type ValueType } from '../core/value.js';
import type { CommitResult } from '../core/engine.js';
import type { StoredRow, WriteTx } from '../core/port.js';
import { compileSchema, parseSchemaDocument, type CompiledSchema } from '../core/schema.js';
import { SqliteStorage } from '../storage/sqlite/adapter.js';
import { Mirror, type MirrorStatus, type SyncResult } from '../mirror/mirror.js';
import type { WallClock } from '../core/clock.js';

export interface CachedEntry {
  /** Deep-frozen: callers share it. */
  readonly value: JsonValue;
  readonly type: ValueType;
  readonly revision: number;
  readonly updatedAt: string;
  readonly source: string;
}

/** Marks a key known to be absent in the value cache. */
export const ABSENT: unique symbol = Symbol('psmc.absent');

/** Cached reads between two clock readings within one synchronous turn (see ensureFresh). */
const READS_PER_CLOCK = 63;

/** Reads look at the mirror file (one stat) at most this often (§mirror.detect). */
export const MIRROR_CHECK_MS = 50;

/** More changed keys than this since the last look and the whole cache is dropped instead. */
const EVICT_LIMIT = 1000;

/** Freezes a JSON value and everything in it (values handed out are shared, so callers cannot change them). */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

export function toCached(row: StoredRow): CachedEntry {
  return {
    value: deepFreeze(decodeStored(row.value)),
    type: row.type as ValueType,
    revision: row.revision,
    updatedAt: row.updatedAt,
    source: row.source,
  };
}

export interface SharedOptions {
  readonly durability: 'full' | 'normal';
  readonly busyTimeoutMs: number;
}

export class SharedStore {
  readonly storage: SqliteStorage;
  readonly dir: string;
  readonly file: string;
  readonly registryKey: string;
  refs = 0;
  readonly #cache = new Map<string, CachedEntry | null>();
  /**
   * The hot path's view of #cache: key → value, or ABSENT. A separate map so
   * a hit is one lookup and no dependent load of the entry object.
   */
  readonly #values = new Map<string, JsonValue | typeof ABSENT>();
  /** Reads left before the clock is consulted again within this synchronous turn. */
  #budget = 0;
  #turnPending = false;
  readonly #endTurn = (): void => {
    this.#budget = 0;
    this.#turnPending = false;
  };
  #lastCheck = Number.NEGATIVE_INFINITY;
  #lastMirrorCheck = Number.NEGATIVE_INFINITY;
  /** The plaintext mirror, once a handle with the mirror on has opened this store. */
  mirror: Mirror | undefined;
  /** Called inside a mirror import's transaction before it applies a hand edit (automatic snapshot). */
  beforeImport: (() => void) | undefined;
  #dataVersion: number;
  #knownRevision: number;
  #schema: { revision: number; compiled: CompiledSchema | undefined } | undefined;
  /** Bumped whenever the schema may have changed, so dependants (the env layer) can drop derived caches. */
  schemaEpoch = 0;

  constructor(dir: string, file: string, registryKey: string, options: SharedOptions) {
    this.dir = dir;
    this.file = file;
    this.registryKey = registryKey;
    this.storage = new SqliteStorage({
      file,
      durability: options.durability,
      busyTimeoutMs: options.busyTimeoutMs,
    });
    try {
      this.#dataVersion = this.storage.dataVersion();
      this.#knownRevision = this.storage.readState().revision;
    } catch (e) {
      this.storage.close();
      throw e;
    }
    this.#lastCheck = performance.now();
  }

  /**
   * Brings the cache up to date when the freshness bound has passed (or always, with 0).
   *
   * Reading the monotonic clock costs 100–200 ns on some VMs, more than the
   * rest of a cached read. So within one synchronous turn the clock is read
   * on the first call and then every READS_PER_CLOCK calls; a microtask marks
   * the end of the turn (no timer). A read is therefore at most
   * `freshnessMs` plus the time of READS_PER_CLOCK cached reads (microseconds)
   * behind another process.
   */
  ensureFresh(freshnessMs: number): void {
    if (freshnessMs !== 0) {
      if (this.#budget > 0) {
        this.#budget--;
        return;
      }
      this.#budget = READS_PER_CLOCK;
      if (!this.#turnPending) {
        this.#turnPending = true;
        queueMicrotask(this.#endTurn);
      }
    }
    const now = performance.now();
    if (now - this.#lastCheck < freshnessMs) return;
    this.#lastCheck = now;
    if (this.mirror !== undefined && now - this.#lastMirrorCheck >= MIRROR_CHECK_MS) {
      this.#lastMirrorCheck = now;
      if (this.mirror.changedOnDisk()) this.syncMirrorQuietly();
    }
    const dv = this.storage.dataVersion();
    if (dv === this.#dataVersion) return;
    this.#dataVersion = dv;
    this.#catchUp();
  }

  #catchUp(): void {
    const revision = this.storage.readState().revision;
    if (revision === this.#knownRevision) return;
    const keys = this.storage.keysChangedSince(this.#knownRevision, EVICT_LIMIT);
    if (keys.length > EVICT_LIMIT || revision < this.#knownRevision) {
      this.#cache.clear();
      this.#values.clear();
      this.#dropSchema();
    } else {
      for (const k of keys) {
        if (k === SCHEMA_HISTORY_KEY) this.#dropSchema();
        else this.#evict(k);
      }
    }
    this.#knownRevision = revision;
  }

  #dropSchema(): void {
    this.#schema = undefined;
    this.schemaEpoch++;
  }

  #evict(key: string): void {
    this.#cache.delete(key);
    this.#values.delete(key);
  }

  #remember(key: string, e: CachedEntry | null): void {
    this.#cache.set(key, e);
    this.#values.set(key, e === null ? ABSENT : e.value);
  }

  /** The cached value: ABSENT when known absent, undefined when not cached (the key may be invalid). */
  peekValue(key: string): JsonValue | typeof ABSENT | undefined {
    return this.#values.get(key);
  }

  /** The cached entry of a (valid) key, reading it on a miss. */
  read(key: string): CachedEntry | undefined {
    let e = this.#cache.get(key);
    if (e === undefined) {
      const row = this.storage.readRow(key);
      e = row === undefined ? null : toCached(row);
      this.#remember(key, e);
    }
    return e ?? undefined;
  }

  /** The compiled schema stored in this database, cached by the revision that set it. */
  schema(): CompiledSchema | undefined {
    if (this.#schema === undefined) {
      const stored = this.storage.readSchema();
      this.#schema =
        stored === undefined
          ? { revision: 0, compiled: undefined }
          : { revision: stored.revision, compiled: compileStored(stored.doc) };
    }
    return this.#schema.compiled;
  }

  /** The compiled schema as stored inside a write transaction (cheap when it did not change). */
  schemaIn(tx: WriteTx): CompiledSchema | undefined {
    const revision = tx.readSchemaRevision();
    if (this.#schema?.revision === revision) return this.#schema.compiled;
    const stored = tx.readSchema();
    const compiled = stored === undefined ? undefined : compileStored(stored.doc);
    this.#schema = { revision, compiled };
    this.schemaEpoch++;
    return compiled;
  }

  /** Turns the mirror on for this store (first handle that wants it), and syncs it once. */
  enableMirror(clock: WallClock): void {
    if (this.mirror !== undefined) return;
    this.mirror = new Mirror({
      dir: this.dir,
      storage: this.storage,
      clock,
      schemaIn: (tx) => this.schemaIn(tx),
      applyCommit: (r) => this.applyCommit(r),
      beforeImport: () => this.beforeImport?.(),
    });
    try {
      if (this.mirror.needsSync()) this.syncMirrorQuietly();
    } catch (e) {
      this.mirror.lastBackgroundError = e;
    }
  }

  /**
   * Syncs the mirror, keeping (not throwing) failures: reads and writes go on
   * from the database whatever the file holds; status() reports the failure.
   */
  syncMirrorQuietly(): SyncResult | undefined {
    const m = this.mirror;
    if (m === undefined) return undefined;
    try {
      const r = m.sync();
      m.lastBackgroundError = undefined;
      return r;
    } catch (e) {
      m.lastBackgroundError = e;
      return undefined;
    }
  }

  /** Before a write: import a hand edit saved since the last look, so the write merges with it. */
  beforeWrite(): void {
    if (this.mirror?.changedOnDisk() === true) this.syncMirrorQuietly();
  }

  mirrorStatus(): MirrorStatus | undefined {
    return this.mirror?.status();
  }

  readonly #listeners = new Set<(revision: number) => void>();

  /**
   * Calls `listener(revision)` after every commit made through this process
   * (any handle). Used by the Watcher for low-latency local events; commits by
   * other processes are the Watcher's own business (it polls or watches files).
   * Returns the unsubscribe function.
   */
  onLocalCommit(listener: (revision: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a commit made through this process: the cache now holds exactly what was written. */
  applyCommit(result: CommitResult): void {
    if (result.records.length === 0) return;
    try {
      this.#applyCommit(result);
      this.mirror?.scheduleExport();
    } finally {
      for (const l of this.#listeners) l(result.revision);
    }
  }

  #applyCommit(result: CommitResult): void {
    if (result.previousRevision !== this.#knownRevision) {
      // Another process committed in between; let the next check evict its keys too.
      this.#lastCheck = Number.NEGATIVE_INFINITY;
      this.#dataVersion = Number.NaN;
    } else {
      this.#knownRevision = result.revision;
    }
    if (result.rows.size > 256) {
      // A big batch: evict rather than decode every value now; reads reload on demand.
      for (const key of result.rows.keys()) this.#evict(key);
    } else {
      for (const [key, row] of result.rows) this.#remember(key, row === undefined ? null : toCached(row));
    }
    if (result.records.some((r) => r.op === 'schema')) this.#dropSchema();
  }
}

function compileStored(doc: string): CompiledSchema {
  return compileSchema(parseSchemaDocument(JSON.parse(doc) as unknown));
}

const registry = new Map<string, SharedStore>();

/** The canonical path of a store directory (resolving symlinks when it exists). */
export function canonicalDir(dir: string): string {
  const abs = resolve(dir);
  try {
    return realpathSync(abs);
  } catch {
    // The directory does not exist yet (it is about to be created): the absolute path is canonical enough.
    return join(realpathOrSelf(dirname(abs)), abs.slice(dirname(abs).length + 1));
  }
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Opens (or shares) the database of a store directory that exists. */
export function acquireShared(dir: string, file: string, options: SharedOptions): SharedStore {
  // One connection per file, whatever the handle's options: a read-only handle must see this
  // process's writes exactly, so it shares the cache. Read-only is enforced by the handle.
  const key = file;
  let shared = registry.get(key);
  if (shared === undefined) {
    shared = new SharedStore(dir, file, key, options);
    registry.set(key, shared);
  }
  shared.refs++;
  return shared;
}

export function releaseShared(shared: SharedStore): void {
  shared.refs--;
  if (shared.refs <= 0 && registry.get(shared.registryKey) === shared) {
    registry.delete(shared.registryKey);
    try {
      shared.mirror?.close();
    } finally {
      shared.storage.close();
    }
  }
}
