/**
 * The public options and result types of `openStore` and the Store. The types
 * are the documentation: every field says its meaning, its default and gives
 * an example.
 */
import type { ChangeRecord } from '../core/change.js';
import type { WallClock } from '../core/clock.js';
import type { JsonValue } from '../core/value.js';
import type { SchemaDocument } from '../core/schema.js';
import type { MirrorStatus } from '../mirror/mirror.js';

/** The layers a value can come from, highest first. */
export type { LayerName } from '../core/layers.js';
import type { LayerName } from '../core/layers.js';

export interface OpenOptions {
  /**
   * The application name. Picks the user store in the platform config
   * directory (`~/.config/<app>` on Linux, `~/Library/Application Support/<app>`
   * on macOS, `%APPDATA%\<app>` on Windows) and the environment prefix.
   * @default 'psmc'
   * @example openStore({ app: 'plantctl' })
   */
  app?: string;
  /**
   * An explicit store directory. When given, it is the one store (layer
   * `user`): no platform directory and no project discovery.
   * @default undefined (then `PSMC_HOME` from `env` if set, else the platform directory)
   * @example openStore({ dir: '/srv/plant/config' })
   */
  dir?: string;
  /**
   * The project store: a directory that holds (or will hold) `.psmc/`, `true`
   * to find `.psmc/` by walking up from `cwd` like git does, or `false` for
   * none. Writes go to the project store when there is one.
   * @default false
   * @example openStore({ app: 'cad', project: true })
   */
  project?: string | boolean;
  /**
   * Create the project store's `.psmc/` when `project` is a directory that
   * has none.
   * @default false
   */
  createProject?: boolean;
  /** Where project discovery starts. @default process.cwd() */
  cwd?: string;
  /**
   * The environment to read `<PREFIX>_…` variables and `PSMC_HOME` from. It is
   * read once, when the store opens.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /**
   * The environment-variable prefix. `display.units` is read from
   * `<PREFIX>_DISPLAY__UNITS`. `false` turns the env layer off.
   * @default the app name upper-cased with `-` as `_` (`PSMC` for app `psmc`)
   */
  envPrefix?: string | false;
  /**
   * Values that beat every other layer (CLI flags, code). Keys must be legal.
   * @default {}
   * @example { 'display.units': 'metric' }
   */
  overrides?: Record<string, unknown>;
  /**
   * Shipped defaults, below the stores. Schema defaults rank just under these.
   * @default {}
   */
  defaults?: Record<string, unknown>;
  /**
   * The source recorded for writes through this handle.
   * @default 'api'
   * @example 'gui', 'rust-service', 'http:deploy-bot'
   */
  source?: string;
  /**
   * `full` (default): an acknowledged write survives power loss (SQLite
   * synchronous=FULL). `normal`: faster; the last writes before a power loss
   * may be lost, but the store is never corrupted (synchronous=NORMAL in WAL).
   * @default 'full'
   */
  durability?: 'full' | 'normal';
  /**
   * How long a writer waits for another process's write lock before failing
   * with PSMC_BUSY, in milliseconds.
   * @default 10000
   */
  busyTimeoutMs?: number;
  /**
   * How stale a read may be, in milliseconds, with respect to commits by
   * *other* processes. Writes through any handle in this process are seen at
   * once. 0 checks the database on every read.
   * @default 5
   */
  freshnessMs?: number;
  /**
   * Test hook: the wall clock used for timestamps.
   * @default Date.now
   */
  clock?: WallClock;
  /**
   * Open without creating anything: fail with PSMC_STORE_NOT_FOUND when the
   * store does not exist yet, and refuse writes with PSMC_READ_ONLY.
   * @default false
   */
  readOnly?: boolean;
  /**
   * Keep the store's plaintext mirror file (`config.json`) true in both
   * directions: export after commits, import hand edits. `false` leaves the
   * file alone for this handle (other handles and processes still sync it).
   * @default true
   */
  mirror?: boolean;
}

export interface SetOptions {
  /**
   * Compare-and-set: the revision of the key the caller last saw. The write
   * fails with PSMC_CONFLICT unless the key's current revision equals it.
   * `0` means "the key must not exist".
   */
  expectRevision?: number;
  /** Overrides the handle's source for this write. */
  source?: string;
}

export interface GetOptions {
  /** Returned (with layer `caller`) when no layer has the key. */
  default?: unknown;
}

/** The resolved value of a key and where it came from. */
export interface Resolved {
  readonly key: string;
  /** The winning value; undefined when no layer has the key. */
  readonly value: JsonValue | undefined;
  readonly found: boolean;
  /** The winning layer; undefined when not found. */
  readonly layer: LayerName | undefined;
  /** Revision of the key in its store (store layers only; else 0). */
  readonly revision: number;
  /** Source of the value: the writer for store layers, else the layer detail (e.g. `env:PSMC_X`). */
  readonly source: string | undefined;
  /** HLC text of the last change (store layers only). */
  readonly updatedAt: string | undefined;
}

export interface LayerCandidate {
  readonly layer: LayerName;
  /** True when this layer has a value for the key. */
  readonly present: boolean;
  readonly value?: JsonValue;
  /** Where: the env var name, the store directory, 'schema default' … */
  readonly origin: string;
  readonly revision?: number;
  readonly source?: string;
  readonly updatedAt?: string;
  /** Set when the layer has something unusable (e.g. an env var that does not parse). */
  readonly error?: { readonly code: string; readonly message: string; readonly hint: string };
}

export interface Explanation extends Resolved {
  /** Every layer, highest first, with its candidate. */
  readonly layers: readonly LayerCandidate[];
  /** One sentence: which layer won and why. */
  readonly reason: string;
}

export interface HistoryOptions {
  /** Keys under this prefix too (not only the exact key). @default false */
  prefix?: boolean;
  /** Records newer than this revision only. */
  sinceRevision?: number;
  /** Records up to and including this revision. */
  untilRevision?: number;
  /** At most this many, newest first. @default unlimited */
  limit?: number;
}

export interface UndoOptions {
  /** The revision to revert. @default the newest revision */
  revision?: number;
  /** Revert even when a key was changed again after that revision. @default false */
  force?: boolean;
  source?: string;
}

/** The result of a committed write. */
export interface Commit {
  /** The new store revision. */
  readonly revision: number;
  /** HLC text of the commit. */
  readonly at: string;
  /** What was recorded. Empty when nothing changed (the same value was set again). */
  readonly changes: readonly ChangeRecord[];
}

export interface StoreInfo {
  readonly app: string;
  readonly envPrefix: string | false;
  /** The store that receives writes. */
  readonly writeLayer: 'project' | 'user';
  readonly user: { readonly dir: string; readonly database: string } | undefined;
  readonly project: { readonly dir: string; readonly database: string } | undefined;
}

/** What `status()` reports. */
export interface StoreStatus {
  /** The write store's directory and layer. */
  readonly dir: string;
  readonly layer: 'project' | 'user';
  /** False until the first write creates the store. */
  readonly exists: boolean;
  readonly database: string;
  readonly revision: number;
  /** The plaintext mirror; undefined when the store does not exist or the mirror is off for this handle. */
  readonly mirror:
    | (MirrorStatus & {
        /** The last failure of a background sync (e.g. the directory is read-only), if any. */
        readonly syncError?: string;
      })
    | undefined;
  readonly snapshots: string;
  readonly imports: string;
  /** How many conflict records history holds (losing sides of conflicting changes). */
  readonly conflicts: number;
}

export type { SchemaDocument };
