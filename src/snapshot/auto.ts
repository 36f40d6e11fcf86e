/**
 * Automatic snapshots (§snapshot.auto): one before every restore, one before
 * every import, and one every `every` revisions. They are named
 * `auto-<revision>-<reason>` and rotate: only the newest `keep` automatic
 * snapshots are kept. Manual snapshots are never rotated.
 *
 * Nothing here runs by itself: the caller (the Store, the CLI) calls
 * `autoSnapshot` at those moments, and `autoSnapshotDue` (pure, no I/O) after
 * a commit to decide cheaply whether a periodic one is due.
 */
import { PsmcError } from '../core/errors.js';
import type { SnapshotReason } from './format.js';
import { resolveSettings, snapshotsDir, type SnapshotHost, type SnapshotSettings } from './host.js';
import { createSnapshot, listSnapshots, type SnapshotInfo } from './snapshots.js';
import { deleteSnapshotFile } from './store.js';

/**
 * True when a periodic snapshot is due: `every` > 0 and the store's revision
 * is at least `every` past the revision of the newest automatic snapshot
 * (0 when there is none).
 */
export function autoSnapshotDue(lastAutoRevision: number, revision: number, every: number): boolean {
  return every > 0 && revision > 0 && revision - lastAutoRevision >= every;
}

/**
 * The automatic snapshots to delete so that `keep` remain: all but the newest
 * `keep` (by revision, then createdAt, then name, descending), never a manual
 * one and never `protect`. Pure.
 */
export function rotationVictims(snapshots: readonly SnapshotInfo[], keep: number, protect?: string): string[] {
  const auto = snapshots.filter((s) => s.reason !== 'manual');
  auto.sort((a, b) => {
    if (a.revision !== b.revision) return b.revision - a.revision;
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
    return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
  });
  return auto
    .slice(keep)
    .map((s) => s.name)
    .filter((n) => n !== protect);
}

/** Deletes automatic snapshots beyond the newest `keep`; returns the names deleted. */
export function rotateSnapshots(host: SnapshotHost, keep: number, protect?: string): string[] {
  const { keep: k } = resolveSettings({ keep });
  const dir = snapshotsDir(host);
  const deleted: string[] = [];
  for (const name of rotationVictims(listSnapshots(host).snapshots, k, protect)) {
    try {
      deleteSnapshotFile(dir, name);
      deleted.push(name);
    } catch (e) {
      // Another process rotated it first.
      if (!(e instanceof PsmcError && e.code === 'PSMC_NOT_FOUND')) throw e;
    }
  }
  return deleted;
}

export interface AutoOptions {
  /** Who takes it (recorded in the file). @default 'api' */
  readonly source?: string;
  /** A snapshot the rotation must not delete (the one being restored). */
  readonly protect?: string;
  readonly now?: () => number;
}

/** Takes an automatic snapshot for `reason`, then rotates. */
export function autoSnapshot(
  host: SnapshotHost,
  reason: Exclude<SnapshotReason, 'manual'>,
  settings?: Partial<SnapshotSettings>,
  options: AutoOptions = {},
): SnapshotInfo & { readonly rotated: readonly string[] } {
  if (reason === ('manual' as string)) throw new TypeError('an automatic snapshot needs a reason other than manual');
  const s = resolveSettings(settings);
  const info = createSnapshot(host, {
    reason,
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const rotated = rotateSnapshots(host, s.keep, options.protect);
  return { ...info, rotated };
}

/** The revision of the newest automatic snapshot, or 0 (reads the snapshots directory). */
export function lastAutoRevision(host: SnapshotHost): number {
  let last = 0;
  for (const s of listSnapshots(host).snapshots) if (s.reason !== 'manual' && s.revision > last) last = s.revision;
  return last;
}

/**
 * Takes an `every-changes` snapshot when one is due (see autoSnapshotDue).
 * Pass `lastAuto` when the caller keeps it (so no directory is read unless a
 * snapshot is due); otherwise it is read from the snapshots directory.
 */
export function autoSnapshotIfDue(
  host: SnapshotHost,
  settings?: Partial<SnapshotSettings>,
  options: AutoOptions & { readonly lastAuto?: number } = {},
): (SnapshotInfo & { readonly rotated: readonly string[] }) | undefined {
  const s = resolveSettings(settings);
  if (s.every === 0) return undefined;
  const revision = host.revision();
  const last = options.lastAuto ?? lastAutoRevision(host);
  if (!autoSnapshotDue(last, revision, s.every)) return undefined;
  return autoSnapshot(host, 'every-changes', s, options);
}
