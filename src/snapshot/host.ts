/**
 * What the snapshot module needs from a store: a narrow interface that
 * `Store` (src/store/store.ts) satisfies structurally, so this module never
 * imports the Store class and tests can pass any object of this shape.
 *
 * - `exportData()` reads every key with its metadata in ONE read transaction:
 *   a snapshot is never a copy of the database file.
 * - `importData(doc, { replace: true, source })` applies a whole document as
 *   one batch (one revision), which is what makes a restore undoable.
 */
import { join } from 'node:path';
import type { Commit } from '../store/options.js';
import type { ExportDocument } from '../store/export.js';

export interface SnapshotHost {
  readonly info: {
    readonly user: { readonly dir: string } | undefined;
    readonly project: { readonly dir: string } | undefined;
    readonly writeLayer: 'project' | 'user';
  };
  exportData(): ExportDocument;
  importData(doc: unknown, options: { replace?: boolean; source?: string; snapshot?: boolean }): Commit;
  revision(): number;
}

/** Automatic-snapshot settings (§snapshot.auto). The caller keeps them (the store's settings). */
export interface SnapshotSettings {
  /** How many automatic snapshots to keep (1–10000). Manual snapshots are never rotated. @default 20 */
  readonly keep: number;
  /** Take an automatic snapshot every this many revisions; 0 turns that off. @default 100 */
  readonly every: number;
}

export const DEFAULT_SETTINGS: SnapshotSettings = Object.freeze({ keep: 20, every: 100 });

/** Fills in and checks settings. Throws TypeError/RangeError for caller misuse. */
export function resolveSettings(settings: Partial<SnapshotSettings> | undefined): SnapshotSettings {
  const keep = settings?.keep ?? DEFAULT_SETTINGS.keep;
  const every = settings?.every ?? DEFAULT_SETTINGS.every;
  if (!Number.isSafeInteger(keep) || keep < 1 || keep > 10_000)
    throw new RangeError(`snapshot keep must be a whole number from 1 to 10000, received ${String(keep)}`);
  if (!Number.isSafeInteger(every) || every < 0)
    throw new RangeError(`snapshot every must be a whole number ≥ 0 (0 = off), received ${String(every)}`);
  return { keep, every };
}

/** The directory of the write store's snapshots: `<write store dir>/snapshots`. */
export function snapshotsDir(host: SnapshotHost): string {
  const slot = host.info.writeLayer === 'project' ? host.info.project : host.info.user;
  if (slot === undefined) throw new TypeError(`the store has no ${host.info.writeLayer} directory`);
  return join(slot.dir, 'snapshots');
}
