/**
 * Plaintext snapshots of a store (spec/sections/snapshots.md): named and
 * automatic, git-friendly JSON files in `<store dir>/snapshots/`, with diff and
 * an undoable restore. Works through `SnapshotHost`, which `Store` satisfies.
 */
export { DEFAULT_SETTINGS, resolveSettings, snapshotsDir, type SnapshotHost, type SnapshotSettings } from './host.js';
export { assertSnapshotName, isValidSnapshotName, MAX_NAME_LENGTH, nameProblem, RESERVED_NAMES } from './names.js';
export {
  buildSnapshot,
  checkSnapshot,
  parseSnapshot,
  renderSnapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_REASONS,
  SNAPSHOT_VERSION,
  type SnapshotDocument,
  type SnapshotEntry,
  type SnapshotParts,
  type SnapshotReason,
} from './format.js';
export {
  createSnapshot,
  deleteSnapshot,
  listSnapshots,
  readSnapshot,
  readSnapshotWithInfo,
  resolveName,
  type CreateOptions,
  type SnapshotInfo,
  type SnapshotList,
} from './snapshots.js';
export type { SnapshotProblem } from './store.js';
export { sweepTempFiles } from './store.js';
export {
  autoSnapshot,
  autoSnapshotDue,
  autoSnapshotIfDue,
  lastAutoRevision,
  rotateSnapshots,
  rotationVictims,
  type AutoOptions,
} from './auto.js';
export { CURRENT, diffEntries, diffSnapshots, type DiffItem, type DiffSide, type SnapshotDiff } from './diff.js';
export { restoreSnapshot, toExportDocument, type RestoreOptions, type RestoreResult } from './restore.js';
