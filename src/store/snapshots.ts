/**
 * The Store's side of snapshots (spec/sections/snapshots.md §snapshot.auto):
 * the automatic-snapshot settings, kept in the write store's meta table, and
 * the periodic automatic snapshot, decided after a commit at no query in the
 * common case and taken later, never inside `set()`. The snapshot files
 * themselves are `src/snapshot/`'s.
 */
import type { StoragePort } from '../core/port.js';
import {
  autoSnapshot,
  autoSnapshotDue,
  resolveSettings,
  type SnapshotHost,
  type SnapshotSettings,
} from '../snapshot/index.js';

/** The meta names of the settings and of the newest periodic snapshot's revision. */
const KEEP = 'snapshots.keep';
const EVERY = 'snapshots.every';
const LAST_AUTO = 'snapshots.last_auto';

/** How long the settings and the last periodic snapshot's revision are cached, in milliseconds. */
const CACHE_MS = 1000;

/** The settings stored in a store's meta table, or the defaults (also when there is no store yet). */
export function readSnapshotSettings(storage: StoragePort | undefined): SnapshotSettings {
  const keep = storage?.readMeta(KEEP);
  const every = storage?.readMeta(EVERY);
  return resolveSettings({
    ...(keep === undefined ? {} : { keep: Number(keep) }),
    ...(every === undefined ? {} : { every: Number(every) }),
  });
}

/** Stores checked settings in the meta table (one transaction). */
export function writeSnapshotSettings(storage: StoragePort, settings: SnapshotSettings): void {
  storage.write((tx) => {
    tx.writeMeta(KEEP, String(settings.keep));
    tx.writeMeta(EVERY, String(settings.every));
  });
}

/** What the periodic automatic snapshot needs from its Store. */
export interface AutoSnapshotHooks {
  /** The store to snapshot (the Store itself). */
  readonly host: SnapshotHost;
  /** The source recorded in the snapshot file. */
  readonly source: string;
  /** The write store's storage when it is open, without creating it. */
  openStorage(): StoragePort | undefined;
  /** The write store's storage for a write (the handle must be open and writable). */
  writeStorage(): StoragePort;
  /** The current settings (`Store.snapshotSettings()`). */
  settings(): SnapshotSettings;
  /** True once the handle is closed: a pending snapshot is then dropped. */
  closed(): boolean;
}

/**
 * One handle's periodic automatic snapshot: every `every` revisions, one
 * `every-changes` snapshot, taken on a one-shot, unref'd `setImmediate` after
 * the commit that made it due (or at `close()`), never inside the commit.
 */
export class AutoSnapshots {
  readonly #hooks: AutoSnapshotHooks;
  #pending = false;
  #timer: NodeJS.Immediate | undefined;
  #run: (() => void) | undefined;
  #cache: { at: number; settings: SnapshotSettings; last: number } | undefined;

  constructor(hooks: AutoSnapshotHooks) {
    this.#hooks = hooks;
  }

  /** Forgets the cached settings (they were just changed). */
  forget(): void {
    this.#cache = undefined;
  }

  /** After a commit that changed something: schedules a snapshot when `revision` makes one due. */
  afterCommit(revision: number): void {
    if (this.#pending) return;
    // The settings and the last automatic snapshot's revision are read at most once a second:
    // this runs after every commit and must cost no query in the common case.
    const now = performance.now();
    if (this.#cache === undefined || now - this.#cache.at > CACHE_MS) {
      const storage = this.#hooks.openStorage();
      if (storage === undefined) return;
      this.#cache = {
        at: now,
        settings: this.#hooks.settings(),
        last: Number(storage.readMeta(LAST_AUTO) ?? '0'),
      };
    }
    const { settings, last } = this.#cache;
    if (!autoSnapshotDue(last, revision, settings.every)) return;
    this.#cache = undefined;
    this.#pending = true;
    const run = (): void => {
      this.#timer = undefined;
      if (!this.#pending || this.#hooks.closed()) return;
      this.#pending = false;
      const info = autoSnapshot(this.#hooks.host, 'every-changes', settings, { source: this.#hooks.source });
      this.#hooks.writeStorage().write((tx) => tx.writeMeta(LAST_AUTO, String(info.revision)));
    };
    this.#run = run;
    this.#timer = setImmediate(() => {
      try {
        run();
      } catch (e) {
        // Off the caller's path: a failed automatic snapshot is reported as a warning, not thrown.
        warn(e);
      }
    });
    this.#timer.unref();
  }

  /** At the handle's close (before it counts as closed): takes a pending snapshot now. */
  close(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    if (this.#pending && this.#run !== undefined) {
      try {
        this.#run();
      } catch (e) {
        warn(e);
      }
    }
  }
}

function warn(e: unknown): void {
  process.emitWarning(`automatic snapshot failed: ${(e as Error).message}`, { code: 'PSMC_SNAPSHOT' });
}
