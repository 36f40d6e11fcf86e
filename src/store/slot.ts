/**
 * A store of a handle, `project` or `user`, whose database may not exist yet:
 * opened when it exists (a read never creates it), created by the first
 * write, and, for the write store, how it stands (`status()`) and the sync of
 * its mirror file and `imports/` drop folder (`sync()`). The database itself
 * is the per-process shared connection and cache of `shared.ts`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WallClock } from '../core/clock.js';
import { isPsmcError } from '../core/errors.js';
import { pendingImports, processImports, type ImportsHost, type ImportsReport } from '../mirror/imports.js';
import { acquireShared, canonicalDir, releaseShared, type SharedOptions, type SharedStore } from './shared.js';
import { DATABASE_FILE, ensureDir } from './paths.js';
import type { StoreStatus } from './options.js';

/** What a handle's stores share: how to open a database, and the handle's mirror settings. */
export interface SlotOptions {
  readonly shared: SharedOptions;
  /** The handle's `mirror` option: keep the mirror file in sync through this handle. */
  readonly mirror: boolean;
  readonly readOnly: boolean;
  readonly clock: WallClock;
  /** Runs before a hand edit of the mirror is imported (the handle's automatic snapshot). */
  readonly beforeImport: () => void;
}

/** What `Store.syncMirror()` returns: when to look again if the file is mid-save, and a refused hand edit. */
export interface MirrorSync {
  retryInMs?: number;
  error?: { code: string; message: string };
}

export class Slot {
  readonly layer: 'project' | 'user';
  /** The store directory, canonical (symbolic links resolved where it exists). */
  readonly dir: string;
  /** Its database file. */
  readonly file: string;
  /** The open database; undefined until it exists and is opened, and after release(). */
  shared: SharedStore | undefined = undefined;
  readonly #options: SlotOptions;

  constructor(layer: 'project' | 'user', dir: string, options: SlotOptions) {
    this.layer = layer;
    this.dir = canonicalDir(dir);
    this.file = join(this.dir, DATABASE_FILE);
    this.#options = options;
  }

  /** Opens the database when it exists. */
  attach(): void {
    if (this.shared === undefined && existsSync(this.file)) {
      this.shared = acquireShared(this.dir, this.file, this.#options.shared);
      if (this.#options.mirror && !this.#options.readOnly) this.#enableMirror(this.shared);
    }
  }

  /** The database for a write, created on first write (the caller checked the handle may write). */
  create(): SharedStore {
    if (this.shared === undefined) {
      ensureDir(this.dir);
      this.shared = acquireShared(this.dir, this.file, this.#options.shared);
      if (this.#options.mirror) this.#enableMirror(this.shared);
    }
    this.shared.storage.configure(this.#options.shared.durability, this.#options.shared.busyTimeoutMs);
    return this.shared;
  }

  #enableMirror(shared: SharedStore): void {
    // A hand edit is an import: an automatic snapshot first (inside the import's transaction,
    // so it shows the store just before the edit is applied).
    shared.beforeImport ??= this.#options.beforeImport;
    shared.enableMirror(this.#options.clock);
  }

  /** Lets go of the database (the shared connection closes with its last handle). */
  release(): void {
    if (this.shared !== undefined) releaseShared(this.shared);
    this.shared = undefined;
  }

  /** How this store stands (`Store.status()`); call attach() first. */
  status(): StoreStatus {
    const shared = this.shared;
    const mirror = shared?.mirrorStatus();
    const background = shared?.mirror?.lastBackgroundError;
    return {
      dir: this.dir,
      layer: this.layer,
      exists: shared !== undefined,
      database: this.file,
      revision: shared?.storage.readState().revision ?? 0,
      mirror:
        mirror === undefined
          ? undefined
          : { ...mirror, ...(background === undefined ? {} : { syncError: (background as Error).message }) },
      snapshots: join(this.dir, 'snapshots'),
      imports: join(this.dir, 'imports'),
      conflicts: shared === undefined ? 0 : shared.storage.countConflicts(),
    };
  }

  /**
   * `Store.syncMirror()`: merges the `imports/` drop folder through `host`
   * (unless `imports` is false or the handle is read-only), then imports a
   * hand edit of the mirror or exports pending changes. Call attach() first.
   */
  sync(host: ImportsHost, imports: boolean): MirrorSync {
    const shared = this.shared;
    if (shared !== undefined && !this.#options.readOnly && imports) this.#importDropFolder(host);
    // Cheap when nothing moved (a stat and a few reads): the Watcher calls this on every poll.
    if (shared?.mirror === undefined || !shared.mirror.needsSync()) return {};
    const r = shared.syncMirrorQuietly();
    if (r === undefined) return {};
    return {
      ...(r.retryInMs === undefined ? {} : { retryInMs: r.retryInMs }),
      ...(r.error === undefined ? {} : { error: { code: r.error.code, message: r.error.message } }),
    };
  }

  /**
   * Merges the files waiting in `imports/` (one batch each, source
   * `import:<file>`), moving them to `imports/done/` or `imports/rejected/`
   * (with a `.reason` file). Runs from syncMirror(), so from every Watcher
   * (`psmc watch`, the service); not on open, so that looking at a store
   * (status, doctor) never changes it. Cheap when the folder is empty.
   */
  #importDropFolder(host: ImportsHost): ImportsReport | undefined {
    if (pendingImports(this.dir).length === 0) return undefined;
    try {
      return processImports(host);
    } catch (e) {
      // A busy or closed store: the files stay where they are and the next sync tries again.
      if (isPsmcError(e) && (e.code === 'PSMC_BUSY' || e.code === 'PSMC_CLOSED')) return undefined;
      throw e;
    }
  }
}
