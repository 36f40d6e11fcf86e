/**
 * Notices that the set of snapshots changed — a snapshot created or deleted
 * by another process (`psmc snapshot create`, Python, Rust), an automatic
 * snapshot, a rotation — for the change feed's `snapshots` event.
 *
 * Snapshots are files, not commits (spec/sections/snapshots.md), so history
 * does not see them. The probe reads the snapshots directory: one `stat` and
 * one `readdir` (no file is opened), which costs microseconds for the tens of
 * files a store keeps. The feed calls it every 500 ms while clients are
 * connected, and at once after each change it delivers and each snapshot
 * request it serves.
 *
 * What counts: the names of the snapshot files (`<name>.json`, not dot-files:
 * a write in progress is a dot-file temp, so only the finished snapshot
 * counts) and the directory's mtime and ctime in nanoseconds, so a snapshot
 * replaced under the same name is noticed too.
 */
import { readdirSync, statSync } from 'node:fs';

export interface SnapshotSet {
  /** Compares equal exactly when nothing changed. */
  readonly key: string;
  /** The snapshot names present, sorted. */
  readonly names: readonly string[];
}

/** The snapshot set in `dir` now; a missing directory is an empty set. Throws on other read errors. */
export function probeSnapshots(dir: string): SnapshotSet {
  let stamp: string;
  let entries: string[];
  try {
    const st = statSync(dir, { bigint: true });
    stamp = `${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
    entries = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { key: 'none', names: [] };
    throw e;
  }
  const names = entries
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .map((n) => n.slice(0, -'.json'.length))
    .sort();
  return { key: `${stamp}|${names.join('/')}`, names };
}
