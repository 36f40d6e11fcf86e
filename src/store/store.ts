/**
 * The Store: one handle on the layered configuration of an app (spec/SPEC.md
 * §layers). It wires the pure core to the SQLite adapter, the platform paths
 * and the process environment. Opening it has no side effects beyond opening
 * the databases; `get()` and `set()` never start timers, threads or watchers.
 */
import { basename } from 'node:path';
import { PsmcError } from '../core/errors.js';
import { assertKey, isValidKey, keyHasPrefix, normalizePrefix } from '../core/keys.js';
import { assertValue, type JsonValue } from '../core/value.js';
import type { WallClock } from '../core/clock.js';
import { SCHEMA_HISTORY_KEY, type ChangeRecord, type ChangeRequest } from '../core/change.js';
import { assertSource, prepareChanges, toRecord, type PreparedChange } from '../core/engine.js';
import { parseSchemaDocument, type CompiledSchema, type SchemaDocument } from '../core/schema.js';
import { AutoSnapshots, readSnapshotSettings, writeSnapshotSettings } from './snapshots.js';
import { explainKey, toResolved, type LayerReader } from './explain.js';
import { readEnv, type EnvCandidate } from './env-layer.js';
import { ABSENT, deepFreeze, type SharedStore } from './shared.js';
import { resolveOpenOptions } from './open-options.js';
import { Slot, type SlotOptions } from './slot.js';
import type {
  Commit,
  Explanation,
  GetOptions,
  HistoryOptions,
  OpenOptions,
  Resolved,
  SetOptions,
  StoreInfo,
  StoreStatus,
  UndoOptions,
} from './options.js';
import { commitPrepared, commitSchemaText, commitUndo, nothingToUndo, refuseOnEmptyStore, toCommit } from './commit.js';
import { buildExport, parseExport, type ExportDocument } from './export.js';
import { processImports, type ImportsReport } from '../mirror/imports.js';
import { Watcher, type WatchEvent, type WatchOptions } from '../watch/watcher.js';
import { watchHostOf } from '../watch/host.js';
import {
  autoSnapshot,
  createSnapshot,
  deleteSnapshot,
  diffSnapshots,
  listSnapshots,
  readSnapshot,
  resolveSettings,
  restoreSnapshot,
  type SnapshotDocument,
  type SnapshotInfo,
  type SnapshotList,
  type SnapshotSettings,
} from '../snapshot/index.js';

/**
 * Opens the configuration of an app: its user store, optionally a project
 * store, the environment and the given overrides and defaults.
 *
 * @example
 * const store = openStore({ app: 'plantctl', defaults: { 'display.units': 'metric' } });
 * store.set('display.units', 'imperial');
 * store.get('display.units'); // 'imperial'
 * store.close();
 */
export function openStore(options: OpenOptions = {}): Store {
  return new Store(options);
}

export class Store {
  /** Paths and settings of this handle. */
  readonly info: StoreInfo;
  readonly #slots: Slot[];
  readonly #write: Slot;
  readonly #overrides: Map<string, JsonValue>;
  readonly #defaults: Map<string, JsonValue>;
  readonly #envVars: Map<string, string>;
  readonly #envPrefix: string | false;
  readonly #envCache = new Map<string, EnvCandidate | null>();
  #envEpoch = -1;
  readonly #source: string;
  readonly #freshnessMs: number;
  readonly #clock: WallClock;
  readonly #readOnly: boolean;
  #closed = false;
  readonly #watchers = new Set<Watcher>();
  /** explain()'s view of the layers. */
  readonly #layerReader: LayerReader;
  /** The periodic automatic snapshot (`snapshots.ts`). */
  readonly #autoSnapshots: AutoSnapshots;

  constructor(options: OpenOptions = {}) {
    const o = resolveOpenOptions(options);
    this.#envPrefix = o.envPrefix;
    this.#source = o.source;
    this.#freshnessMs = o.freshnessMs;
    this.#clock = o.clock;
    this.#readOnly = o.readOnly;
    this.#overrides = o.overrides;
    this.#defaults = o.defaults;
    this.#envVars = o.envVars;
    const slotOptions: SlotOptions = {
      shared: o.sharedOptions,
      mirror: o.mirror,
      readOnly: o.readOnly,
      clock: o.clock,
      beforeImport: () => autoSnapshot(this, 'before-import', this.snapshotSettings(), { source: 'file' }),
    };
    const user = new Slot('user', o.userDir, slotOptions);
    const project = o.projectDir === undefined ? undefined : new Slot('project', o.projectDir, slotOptions);
    this.#slots = project === undefined ? [user] : [project, user];
    this.#write = project ?? user;
    this.#layerReader = {
      overrides: this.#overrides,
      envPrefix: this.#envPrefix,
      defaults: this.#defaults,
      env: (k) => this.#env(k),
      store: (layer, k) => {
        const slot = this.#slots.find((s) => s.layer === layer);
        return slot === undefined ? undefined : { dir: slot.dir, entry: this.#fromSlot(slot, k) };
      },
      schemaDefault: (k) => this.#schema()?.defaultFor(k),
    };
    this.#autoSnapshots = new AutoSnapshots({
      host: this,
      source: this.#source,
      openStorage: () => this.#write.shared?.storage,
      writeStorage: () => this.#writeShared().storage,
      settings: () => this.snapshotSettings(),
      closed: () => this.#closed,
    });
    this.info = Object.freeze({
      app: o.app,
      envPrefix: this.#envPrefix,
      writeLayer: this.#write.layer,
      user: { dir: user.dir, database: user.file },
      project: project === undefined ? undefined : { dir: project.dir, database: project.file },
    });
    try {
      for (const s of this.#slots) s.attach();
    } catch (e) {
      this.close();
      throw e;
    }
    if (this.#readOnly && this.#write.shared === undefined) {
      this.close();
      throw new PsmcError('PSMC_STORE_NOT_FOUND', `There is no store at ${this.#write.dir} to open read-only.`, {
        hint: 'Write a value first (which creates the store), or check the path, --store and PSMC_HOME.',
        details: { path: this.#write.dir },
      });
    }
  }

  /** The write slot's database, created on first write. */
  #writeShared(): SharedStore {
    this.#ensureOpen();
    if (this.#readOnly) {
      throw new PsmcError('PSMC_READ_ONLY', `This handle on ${this.#write.dir} was opened read-only.`, {
        hint: 'Open the store without readOnly to write.',
      });
    }
    return this.#write.create();
  }

  #ensureOpen(): void {
    if (this.#closed) {
      throw new PsmcError('PSMC_CLOSED', 'This store handle was closed.', {
        hint: 'Open the store again; a handle cannot be used after close().',
      });
    }
  }

  /** Reads a key from a store slot through its cache (the key is valid). */
  #fromSlot(slot: Slot, key: string) {
    let shared = slot.shared;
    if (shared === undefined) {
      slot.attach();
      shared = slot.shared;
      if (shared === undefined) return undefined;
    }
    shared.ensureFresh(this.#freshnessMs);
    return shared.read(key);
  }

  /** The schema that governs this handle: the write store's. */
  #schema(): CompiledSchema | undefined {
    const shared = this.#write.shared;
    if (shared === undefined) return undefined;
    shared.ensureFresh(this.#freshnessMs);
    return shared.schema();
  }

  #env(key: string): EnvCandidate | null {
    const epoch = this.#write.shared?.schemaEpoch ?? 0;
    if (epoch !== this.#envEpoch) {
      this.#envCache.clear();
      this.#envEpoch = epoch;
    }
    let c = this.#envCache.get(key);
    if (c === undefined) {
      c =
        this.#envPrefix === false
          ? null
          : readEnv(this.#envPrefix, this.#envVars, key, () => this.#schema()?.schemaFor(key));
      this.#envCache.set(key, c);
    }
    return c;
  }

  /**
   * The value of `key` from the highest layer that has it, or `options.default`,
   * or undefined. Objects and arrays come back frozen (they are shared with the
   * cache); copy them (structuredClone) to change them.
   *
   * Throws PSMC_KEY_SYNTAX/PSMC_KEY_RESERVED for an illegal key and
   * PSMC_ENV_COERCE when the key's environment variable does not parse.
   * @example store.get('display.units', { default: 'metric' })
   */
  get(key: string, options?: GetOptions): JsonValue | undefined {
    this.#ensureOpen();
    if (this.#overrides.size !== 0) {
      const o = this.#overrides.get(key);
      if (o !== undefined) return o;
    }
    if (this.#envVars.size !== 0) {
      if (!this.#envCache.has(key)) assertKey(key);
      // The env value is coerced with the schema: notice a schema changed by another process.
      this.#write.shared?.ensureFresh(this.#freshnessMs);
      const e = this.#env(key);
      if (e !== null) {
        if (e.error !== undefined) throw e.error;
        return e.value;
      }
    }
    let validated = false;
    for (const slot of this.#slots) {
      const shared = slot.shared;
      if (shared !== undefined) {
        shared.ensureFresh(this.#freshnessMs);
        const hit = shared.peekValue(key);
        if (hit !== undefined) {
          if (hit !== ABSENT) return hit;
          continue;
        }
      }
      if (!validated) {
        assertKey(key);
        validated = true;
      }
      const entry = this.#fromSlot(slot, key);
      if (entry !== undefined) return entry.value;
    }
    if (!validated) assertKey(key);
    const d = this.#defaults.get(key);
    if (d !== undefined) return d;
    const sd = this.#schema()?.defaultFor(key);
    if (sd !== undefined) return deepFreeze(sd);
    // A frozen copy of the caller's default: like every returned value, and never freezing their object.
    if (options?.default !== undefined) return deepFreeze(structuredClone(assertValue(options.default, key)));
    return undefined;
  }

  /** Like get, plus where the value came from (layer, revision, source, time). */
  resolve(key: string, options?: GetOptions): Resolved {
    const e = this.explain(key, options);
    if (e.layer === 'env') {
      const envLayer = e.layers.find((l) => l.layer === 'env');
      if (envLayer?.error !== undefined) throw this.#env(key)?.error;
    }
    return toResolved(e);
  }

  /** Every layer's candidate for `key`, which one won, and why. Never throws for a bad env value: it reports it. */
  explain(key: string, options?: GetOptions): Explanation {
    this.#ensureOpen();
    assertKey(key);
    return explainKey(this.#layerReader, key, options);
  }

  /** The resolved value of every known key under `prefix` (all keys when omitted), sorted by key. */
  list(prefix?: string): Resolved[] {
    this.#ensureOpen();
    const p = normalizePrefix(prefix);
    const keys = new Set<string>();
    for (const k of this.#overrides.keys()) if (keyHasPrefix(k, p)) keys.add(k);
    for (const k of this.#defaults.keys()) if (keyHasPrefix(k, p)) keys.add(k);
    for (const k of this.#schema()?.keys() ?? []) if (keyHasPrefix(k, p) && isValidKey(k)) keys.add(k);
    for (const slot of this.#slots) {
      slot.attach();
      for (const row of slot.shared?.storage.listRows(p) ?? []) keys.add(row.key);
    }
    const out: Resolved[] = [];
    for (const k of [...keys].sort()) {
      const r = this.resolve(k);
      if (r.found) out.push(r);
    }
    return out;
  }

  /** `list()` as a plain object of key → value. */
  all(prefix?: string): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    for (const r of this.list(prefix))
      Object.defineProperty(out, r.key, { value: r.value, enumerable: true, writable: true, configurable: true });
    return out;
  }

  /**
   * Sets `key` in the write store (the project store when there is one, else
   * the user store), recorded in history with this handle's source.
   * With `expectRevision`, fails with PSMC_CONFLICT unless the key is still at
   * that revision (0: the key must not exist).
   * @example store.set('display.units', 'imperial', { expectRevision: 12 })
   */
  set(key: string, value: unknown, options?: SetOptions): Commit {
    const req: ChangeRequest =
      options?.expectRevision === undefined
        ? { op: 'set', key, value }
        : { op: 'set', key, value, expectRevision: options.expectRevision };
    return this.#commit(prepareChanges([req]), options?.source);
  }

  /** Deletes `key` from the write store (recorded). Deleting an absent key changes nothing. */
  delete(key: string, options?: SetOptions): Commit {
    const req: ChangeRequest =
      options?.expectRevision === undefined
        ? { op: 'delete', key }
        : { op: 'delete', key, expectRevision: options.expectRevision };
    return this.#commit(prepareChanges([req]), options?.source);
  }

  /** Applies several changes in one transaction: all or none, one revision. */
  batch(changes: readonly ChangeRequest[], options?: { source?: string }): Commit {
    if (!Array.isArray(changes)) throw new TypeError('batch() takes an array of changes');
    return this.#commit(prepareChanges(changes), options?.source);
  }

  #commit(prepared: PreparedChange[], source: string | undefined): Commit {
    const src = source ?? this.#source;
    assertSource(src);
    this.#ensureOpen();
    this.#write.attach();
    // The store does not exist yet: every key is absent. Refuse what would fail before creating it.
    if (this.#write.shared === undefined) refuseOnEmptyStore(prepared);
    const result = commitPrepared(this.#writeShared(), prepared, { clock: this.#clock, source: src });
    if (result.records.length > 0) this.#autoSnapshots.afterCommit(result.revision);
    return toCommit(result);
  }

  /**
   * Reverts one revision (the newest by default) as a new change. Refuses with
   * PSMC_CONFLICT when a key it touched changed again since, unless `force`.
   */
  undo(options: UndoOptions = {}): Commit {
    const src = options.source ?? this.#source;
    assertSource(src);
    this.#ensureOpen();
    this.#write.attach();
    if (this.#write.shared === undefined && !this.#readOnly) throw nothingToUndo(this.#write.dir);
    const by = { clock: this.#clock, source: src };
    return toCommit(commitUndo(this.#writeShared(), options.revision, options.force ?? false, by));
  }

  /** Recorded changes of the write store, newest first; of one key (or a prefix) when given. `@schema` lists schema changes. */
  history(key?: string, options: HistoryOptions = {}): ChangeRecord[] {
    this.#ensureOpen();
    if (key !== undefined && key !== SCHEMA_HISTORY_KEY) assertKey(key);
    this.#write.attach();
    const shared = this.#write.shared;
    if (shared === undefined) return [];
    return shared.storage
      .history({
        ...(key === undefined ? {} : { key, prefix: options.prefix ?? false }),
        ...(options.sinceRevision === undefined ? {} : { afterRevision: options.sinceRevision }),
        ...(options.untilRevision === undefined ? {} : { uptoRevision: options.untilRevision }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      })
      .map(toRecord);
  }

  /** The write store's current revision (0 when nothing was written yet). */
  revision(): number {
    this.#ensureOpen();
    this.#write.attach();
    return this.#write.shared?.storage.readState().revision ?? 0;
  }

  /** The write store's schema document, or undefined. */
  schema(): SchemaDocument | undefined {
    this.#ensureOpen();
    this.#write.attach();
    const stored = this.#write.shared?.storage.readSchema();
    return stored === undefined ? undefined : (JSON.parse(stored.doc) as SchemaDocument);
  }

  /**
   * Replaces the write store's schema (undefined removes it), recorded in
   * history as `@schema`. Refused with PSMC_SCHEMA_VIOLATION, changing
   * nothing, when a stored value does not satisfy the new schema.
   */
  setSchema(doc: SchemaDocument | undefined, options: { source?: string } = {}): Commit {
    const src = options.source ?? this.#source;
    assertSource(src);
    const text = doc === undefined ? undefined : JSON.stringify(parseSchemaDocument(doc));
    return toCommit(commitSchemaText(this.#writeShared(), text, { clock: this.#clock, source: src }));
  }

  /** The write store's keys with metadata, read in one consistent transaction. */
  exportData(): ExportDocument {
    this.#ensureOpen();
    this.#write.attach();
    return buildExport(this.#write.shared?.storage.readAll());
  }

  /**
   * Merges an export document (or a flat object of key → value) into the
   * write store as one batch. With `replace`, keys absent from the document
   * are deleted. All or nothing. The source defaults to `import:<file name>`
   * when `file` is given, else to the handle's source. An automatic
   * `before-import` snapshot is taken first unless `snapshot: false`.
   */
  importData(
    doc: unknown,
    options: { replace?: boolean; source?: string; file?: string; snapshot?: boolean } = {},
  ): Commit {
    this.#ensureOpen();
    const values = parseExport(doc, options.file);
    const changes: ChangeRequest[] = [];
    for (const [key, value] of values) changes.push({ op: 'set', key, value });
    if (options.replace === true) {
      this.#write.attach();
      for (const row of this.#write.shared?.storage.listRows('') ?? []) {
        if (!values.has(row.key)) changes.push({ op: 'delete', key: row.key });
      }
    }
    const source = options.source ?? (options.file === undefined ? undefined : `import:${basename(options.file)}`);
    const prepared = prepareChanges(changes);
    if (options.snapshot !== false && this.#write.shared !== undefined && prepared.length > 0) {
      autoSnapshot(this, 'before-import', this.snapshotSettings(), { source: source ?? this.#source });
    }
    return this.#commit(prepared, source);
  }

  /**
   * Where everything is and how it stands: the database, the plaintext mirror
   * (in sync, pending export, or holding an invalid hand edit — with the error),
   * the snapshots and imports folders, the revision, and recorded conflicts.
   */
  status(): StoreStatus {
    this.#ensureOpen();
    this.#write.attach();
    return this.#write.status();
  }

  /**
   * Imports a pending hand edit of the mirror file and exports pending
   * changes, now. Returns when to try again if the file is mid-save. The
   * Watcher calls this when the file changes; `get()`/`set()` do it on their
   * own within the documented bounds. It also merges the files waiting in
   * `imports/`, unless `imports: false`.
   */
  syncMirror(options: { imports?: boolean } = {}): { retryInMs?: number; error?: { code: string; message: string } } {
    this.#ensureOpen();
    this.#write.attach();
    return this.#write.sync(this, options.imports !== false);
  }

  /** Imports the files waiting in the `imports/` drop folder now; returns what happened to each. */
  processImports(): ImportsReport {
    this.#ensureOpen();
    return processImports(this);
  }

  /** Switches the mirror format of the write store (`off` stops mirroring); the old file stays. */
  setMirrorFormat(format: 'json' | 'toml' | 'yaml' | 'off'): void {
    if (!['json', 'toml', 'yaml', 'off'].includes(format))
      throw new TypeError(`mirror format must be json, toml, yaml or off, received ${JSON.stringify(format)}`);
    const shared = this.#writeShared();
    shared.enableMirror(this.#clock);
    shared.mirror?.setFormat(format);
  }

  /**
   * Calls `listener(revision)` after each commit made through this process on
   * the write store. For the Watcher; prefer `watch()`.
   */
  onLocalCommit(listener: (revision: number) => void): (() => void) | undefined {
    this.#ensureOpen();
    // Subscribing is a read: it never creates the store. Undefined until the store exists.
    this.#write.attach();
    return this.#write.shared?.onLocalCommit(listener);
  }

  /** The mirror file's path (whether or not it exists yet). */
  get mirrorFile(): string | undefined {
    this.#write.attach();
    return this.#write.shared?.mirror?.file;
  }

  /**
   * Watches the write store: `callback` gets every change committed from now
   * on (or after `since`), by any process in any language and by hand edits
   * of the mirror, in revision order, none skipped or repeated. This is the
   * one place psmc subscribes to files or polls (spec/sections/watch.md).
   * Closing the store closes its watchers.
   * @example const w = store.watch({ prefix: 'display' }, (e) => console.log(e.key, e.newValue)); … w.close();
   */
  watch(options: WatchOptions = {}, callback?: (event: WatchEvent) => void): Watcher {
    this.#ensureOpen();
    const w = new Watcher(watchHostOf(this), options, callback);
    this.#watchers.add(w);
    return w;
  }

  // ── snapshots (spec/sections/snapshots.md) ──

  /** Takes a named snapshot of the write store (a plaintext JSON file in `snapshots/`). */
  snapshot(name?: string, options: { overwrite?: boolean } = {}): SnapshotInfo {
    this.#ensureOpen();
    return createSnapshot(this, {
      ...(name === undefined ? {} : { name }),
      source: this.#source,
      ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
    });
  }

  /** The snapshots, newest first (and files that could not be read, as problems). */
  snapshots(): SnapshotList {
    this.#ensureOpen();
    return listSnapshots(this);
  }

  /** A snapshot's document, checked (PSMC_NOT_FOUND when there is none of that name). */
  readSnapshot(name: string): SnapshotDocument {
    this.#ensureOpen();
    return readSnapshot(this, name);
  }

  /** What changed between two snapshots, or a snapshot and the current store. */
  diffSnapshots(a: string, b: string = 'current'): ReturnType<typeof diffSnapshots> {
    this.#ensureOpen();
    return diffSnapshots(this, a, b);
  }

  /** Deletes snapshot `name`; returns its name as spelled on disk. */
  deleteSnapshot(name: string): string {
    this.#ensureOpen();
    return deleteSnapshot(this, name);
  }

  /**
   * Dials the store back to a snapshot: an automatic `before-restore` snapshot
   * first, then one batch (source `restore:<name>`) that sets and deletes keys
   * to match. One revision: `undo()` reverts it. The schema is not restored.
   */
  restore(name: string, options: { source?: string } = {}): ReturnType<typeof restoreSnapshot> {
    this.#ensureOpen();
    return restoreSnapshot(this, name, {
      settings: this.snapshotSettings(),
      ...(options.source === undefined ? {} : { source: options.source }),
    });
  }

  /** How many automatic snapshots are kept, and every how many changes one is taken (0: never). */
  snapshotSettings(): SnapshotSettings {
    this.#write.attach();
    return readSnapshotSettings(this.#write.shared?.storage);
  }

  /** Changes the automatic-snapshot settings (kept in the store); returns them all. @example store.setSnapshotSettings({ every: 50 }) */
  setSnapshotSettings(settings: Partial<SnapshotSettings>): SnapshotSettings {
    this.#autoSnapshots.forget();
    const next = resolveSettings({ ...this.snapshotSettings(), ...settings });
    writeSnapshotSettings(this.#writeShared().storage, next);
    return next;
  }

  /** Checks the integrity of every open database; returns the problems found. */
  checkIntegrity(): string[] {
    this.#ensureOpen();
    const problems: string[] = [];
    for (const slot of this.#slots) {
      slot.attach();
      for (const p of slot.shared?.storage.checkIntegrity() ?? []) problems.push(`${slot.file}: ${p}`);
    }
    return problems;
  }

  /** Closes the handle. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    for (const w of this.#watchers) w.close();
    this.#watchers.clear();
    this.#autoSnapshots.close();
    this.#closed = true;
    for (const s of this.#slots ?? []) s.release();
  }
}
