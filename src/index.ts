/**
 * psmc — Plaintext, Stable, Mutable Config. The public API.
 *
 * Importing this module has no side effects: no files, no timers, no
 * environment reads until `openStore()` is called.
 *
 * @example
 * import { openStore } from 'psmc';
 * const store = openStore({ app: 'plantctl' });
 * store.set('display.units', 'metric');
 * console.log(store.get('display.units'));
 * store.close();
 */
export { openStore, Store } from './store/store.js';
export { Watcher } from './watch/watcher.js';
export type { WatchEvent, WatchOptions } from './watch/watcher.js';
export type { SnapshotInfo, SnapshotList, SnapshotDocument, SnapshotSettings } from './snapshot/index.js';
export type { MirrorStatus, MirrorError, MirrorState } from './mirror/mirror.js';
export type {
  OpenOptions,
  SetOptions,
  GetOptions,
  Resolved,
  Explanation,
  LayerCandidate,
  LayerName,
  HistoryOptions,
  UndoOptions,
  Commit,
  StoreInfo,
  StoreStatus,
} from './store/options.js';
export type { ExportDocument, ExportEntry } from './store/export.js';
export type { ChangeRecord, ChangeRequest, ChangeOp } from './core/change.js';
export type { JsonValue, ValueType } from './core/value.js';
export type { SchemaDocument, KeySchema } from './core/schema.js';
export { PsmcError, isPsmcError, ERROR_CODES } from './core/errors.js';
export type { PsmcErrorCode, PsmcErrorDetails } from './core/errors.js';
export { isValidKey, MAX_KEY_LENGTH, MAX_KEY_SEGMENTS } from './core/keys.js';
export { MAX_VALUE_BYTES, MAX_DEPTH } from './core/value.js';
