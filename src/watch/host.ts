/**
 * What the Watcher needs from a store: a narrow port, so the Watcher can be
 * tested and reused without the whole Store, and so the Store's own methods
 * stay free of subscriptions (get() and set() never start timers or file
 * watchers; only a Watcher does).
 *
 * `watchHostOf(store)` adapts a Store. It uses the optional hooks
 * (`onLocalCommit`, `syncMirror`, `mirrorFile`) when the Store has them and
 * otherwise falls back on the file watch and the poll alone, so it compiles
 * and works against a Store with or without them.
 */
import { existsSync } from 'node:fs';
import type { ChangeRecord } from '../core/change.js';
import type { Store } from '../store/store.js';

/** A range of revisions to read from history: `sinceRevision < revision <= untilRevision`. */
export interface WatchHistoryRange {
  readonly sinceRevision: number;
  readonly untilRevision: number;
}

/** What the result of a mirror check may ask for: look again after this many milliseconds. */
export interface MirrorSyncResult {
  readonly retryInMs?: number;
}

export interface WatchHost {
  /** The directory of the store whose history is watched (it holds `psmc.db` and the mirror file). */
  readonly dir: string;
  /** History records in the range, in any order (Store.history gives newest first; the Watcher sorts). */
  history(key: undefined, range: WatchHistoryRange): ChangeRecord[];
  /** The store's committed revision, read from the database (0 when the store does not exist yet). */
  revision(): number;
  /**
   * Calls `listener(revision)` after each commit made by this process. Returns
   * the unsubscribe function, or undefined when it cannot subscribe yet (the
   * store does not exist): the Watcher asks again at each poll.
   */
  onLocalCommit?(listener: (revision: number) => void): (() => void) | undefined;
  /** Imports a pending hand edit of the mirror file, if any (a commit of source `file`). */
  syncMirror?(): MirrorSyncResult | void;
  /** The mirror file's path (its base name is what the Watcher listens for); default: `config.{json,jsonc,toml,yaml,yml}`. */
  readonly mirrorFile?: string;
}

/** The optional Store methods the adapter uses when they exist. */
interface OptionalHooks {
  onLocalCommit(listener: (revision: number) => void): () => void;
  syncMirror(): MirrorSyncResult | void;
  readonly mirrorFile: string;
}

/** The store that receives writes (the one whose history a Watcher delivers): its directory and database file. */
function writeSlotOf(store: Store): { readonly dir: string; readonly database: string } {
  const info = store.info;
  const slot = info.writeLayer === 'project' ? info.project : info.user;
  if (slot === undefined) throw new TypeError(`this store handle has no ${info.writeLayer} store to watch`);
  return slot;
}

/** The directory of the store that receives writes. */
export function watchDirOf(store: Store): string {
  return writeSlotOf(store).dir;
}

/** The Watcher's view of a Store: the write store's directory, history and revision, and the optional hooks. */
export function watchHostOf(store: Store): WatchHost {
  const { dir, database } = writeSlotOf(store);
  const hooks = store as Store & Partial<OptionalHooks>;
  const subscribe =
    'onLocalCommit' in store && typeof hooks.onLocalCommit === 'function' ? hooks.onLocalCommit.bind(store) : undefined;
  // Subscribing must not create the store (watching is a read): wait until the database exists.
  const onLocalCommit =
    subscribe === undefined
      ? undefined
      : (listener: (revision: number) => void) => (existsSync(database) ? subscribe(listener) : undefined);
  const syncMirror =
    'syncMirror' in store && typeof hooks.syncMirror === 'function' ? hooks.syncMirror.bind(store) : undefined;
  const mirrorFile = 'mirrorFile' in store && typeof hooks.mirrorFile === 'string' ? hooks.mirrorFile : undefined;
  return {
    dir,
    history: (key, range) =>
      store.history(key, { sinceRevision: range.sinceRevision, untilRevision: range.untilRevision }),
    revision: () => store.revision(),
    ...(onLocalCommit === undefined ? {} : { onLocalCommit }),
    ...(syncMirror === undefined ? {} : { syncMirror }),
    ...(mirrorFile === undefined ? {} : { mirrorFile }),
  };
}
