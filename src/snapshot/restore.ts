/**
 * Restoring a snapshot (§snapshot.restore): "dial back to a known state".
 *
 * 1. The snapshot file is read and checked first: a bad file changes nothing.
 * 2. An automatic `before-restore` snapshot of the current state is taken
 *    (and the automatic snapshots rotate, never deleting the one restored).
 * 3. The snapshot's values are imported with replace, as ONE batch: one
 *    revision, every change recorded with source `restore:<name>`. So the
 *    restore is in history, and `undo` of that revision brings back the values
 *    from before it.
 *
 * Values only: a key's metadata (revision, updatedAt, source) is new, as for
 * any write, and the snapshot's schema is NOT restored in this version (the
 * store's current schema stays, and it checks the restored values: a value the
 * current schema refuses fails the whole restore, changing nothing).
 */
import type { Commit } from '../store/options.js';
import type { ExportDocument } from '../store/export.js';
import type { SnapshotDocument } from './format.js';
import { snapshotsDir, type SnapshotHost, type SnapshotSettings } from './host.js';
import { autoSnapshot } from './auto.js';
import { resolveName, type SnapshotInfo } from './snapshots.js';
import { readSnapshotFile } from './store.js';

export interface RestoreOptions {
  /** The source of the restore's changes. @default `restore:<name>` */
  readonly source?: string;
  /** Automatic-snapshot settings (for the rotation after the before-restore snapshot). */
  readonly settings?: Partial<SnapshotSettings>;
  readonly now?: () => number;
}

export interface RestoreResult {
  /** The snapshot restored (name as spelled on disk). */
  readonly name: string;
  /** The write: one revision (no changes when the store already held the snapshot's values). */
  readonly commit: Commit;
  /** The automatic snapshot taken just before. */
  readonly autoSnapshot: SnapshotInfo & { readonly rotated: readonly string[] };
}

/** The export document that makes a store hold exactly the snapshot's values. */
export function toExportDocument(doc: SnapshotDocument): ExportDocument {
  return { format: 'psmc-export', version: 1, revision: doc.revision, entries: doc.entries };
}

/** Restores snapshot `name` into the host's write store (see the file comment). */
export function restoreSnapshot(host: SnapshotHost, name: string, options: RestoreOptions = {}): RestoreResult {
  const found = resolveName(host, name);
  const { doc } = readSnapshotFile(snapshotsDir(host), found);
  const source = options.source ?? `restore:${found}`;
  const auto = autoSnapshot(host, 'before-restore', options.settings, {
    source,
    protect: found,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // The before-restore snapshot above is the import's snapshot: no second one.
  const commit = host.importData(toExportDocument(doc), { replace: true, source, snapshot: false });
  return { name: found, commit, autoSnapshot: auto };
}
