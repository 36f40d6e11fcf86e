/**
 * Creating, listing, reading and deleting snapshots of a store (§snapshot.format).
 *
 * A snapshot is read with the host's `exportData()`: one read transaction, so
 * it is the store exactly as it was at one revision even while other processes
 * write. It is never a copy of the database file.
 */
import { PsmcError } from '../core/errors.js';
import { assertSource } from '../core/engine.js';
import {
  buildSnapshot,
  isoTime,
  renderSnapshot,
  type SnapshotDocument,
  type SnapshotReason,
  SNAPSHOT_REASONS,
} from './format.js';
import { snapshotsDir, type SnapshotHost } from './host.js';
import { assertSnapshotName, uniqueName } from './names.js';
import { deleteSnapshotFile, readSnapshotFile, scanDir, writeSnapshotFile, type SnapshotProblem } from './store.js';

/** One snapshot as listings show it. */
export interface SnapshotInfo {
  readonly name: string;
  readonly createdAt: string;
  readonly revision: number;
  readonly reason: SnapshotReason;
  readonly source: string;
  /** How many keys it holds. */
  readonly keys: number;
  /** Size of the file in bytes. */
  readonly bytes: number;
  /** The file. */
  readonly path: string;
}

export interface SnapshotList {
  /** Newest first (createdAt, then revision, descending; then name). */
  readonly snapshots: SnapshotInfo[];
  /** Files in the snapshots directory that are not readable snapshots (skipped). */
  readonly problems: SnapshotProblem[];
}

export interface CreateOptions {
  /** The name; default `snap-<yyyymmdd-hhmmss>` (UTC) for a manual snapshot, `auto-<revision>-<reason>` otherwise, made unique with `-2`, `-3` … */
  readonly name?: string;
  /** @default 'manual' */
  readonly reason?: SnapshotReason;
  /** Who takes it (recorded in the file). @default 'api' */
  readonly source?: string;
  /** Replace an existing snapshot of the same name. @default false */
  readonly overwrite?: boolean;
  /** The wall clock, for createdAt (tests). @default Date.now */
  readonly now?: () => number;
}

export function infoOf(doc: SnapshotDocument, bytes: number, path: string): SnapshotInfo {
  return {
    name: doc.name,
    createdAt: doc.createdAt,
    revision: doc.revision,
    reason: doc.reason,
    source: doc.source,
    keys: Object.keys(doc.entries).length,
    bytes,
    path,
  };
}

function defaultName(reason: SnapshotReason, revision: number, ms: number): string {
  if (reason !== 'manual') return `auto-${revision}-${reason}`;
  const iso = isoTime(ms);
  return `snap-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/**
 * Takes a snapshot of the host's write store and writes it to
 * `<store dir>/snapshots/<name>.json`. Refuses a name that is taken (PSMC_USAGE)
 * unless `overwrite`. Does not rotate: see `autoSnapshot`.
 */
export function createSnapshot(host: SnapshotHost, options: CreateOptions = {}): SnapshotInfo {
  const reason = options.reason ?? 'manual';
  if (!SNAPSHOT_REASONS.includes(reason))
    throw new TypeError(`reason must be one of ${SNAPSHOT_REASONS.join(', ')}, received ${JSON.stringify(reason)}`);
  const source = options.source ?? 'api';
  assertSource(source);
  if (options.name !== undefined) assertSnapshotName(options.name);
  const dir = snapshotsDir(host);
  const ms = (options.now ?? Date.now)();
  const exported = host.exportData();
  const parts = {
    createdAt: isoTime(ms),
    revision: exported.revision,
    reason,
    source,
    entries: exported.entries,
    ...(exported.schema === undefined ? {} : { schema: exported.schema }),
  };
  if (options.name !== undefined) {
    const doc = buildSnapshot({ ...parts, name: options.name });
    const text = renderSnapshot(doc);
    const path = writeSnapshotFile(dir, options.name, text, { overwrite: options.overwrite === true });
    return infoOf(doc, Buffer.byteLength(text, 'utf8'), path);
  }
  // A generated name: another process may take the same one between the scan and the write.
  const base = defaultName(reason, exported.revision, ms);
  for (let attempt = 0; ; attempt++) {
    const name = uniqueName(base, new Set(scanDir(dir).names));
    const doc = buildSnapshot({ ...parts, name });
    const text = renderSnapshot(doc);
    try {
      const path = writeSnapshotFile(dir, name, text);
      return infoOf(doc, Buffer.byteLength(text, 'utf8'), path);
    } catch (e) {
      if (!(e instanceof PsmcError && e.code === 'PSMC_USAGE' && e.details['name'] === name) || attempt >= 20) throw e;
    }
  }
}

/** Every snapshot of the host's write store, newest first; unreadable files are reported, not thrown. */
export function listSnapshots(host: SnapshotHost): SnapshotList {
  const dir = snapshotsDir(host);
  const { names, problems } = scanDir(dir);
  const snapshots: SnapshotInfo[] = [];
  const all = [...problems];
  for (const name of names) {
    try {
      const { doc, bytes, path } = readSnapshotFile(dir, name);
      snapshots.push(infoOf(doc, bytes, path));
    } catch (e) {
      if (!(e instanceof PsmcError)) throw e;
      // Deleted by another process since the scan: not a problem.
      if (e.code === 'PSMC_NOT_FOUND') continue;
      all.push({ file: `${dir}/${name}.json`, code: e.code, message: e.message });
    }
  }
  snapshots.sort(newestFirst);
  return { snapshots, problems: all };
}

export function newestFirst(a: SnapshotInfo, b: SnapshotInfo): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.revision !== b.revision) return b.revision - a.revision;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The name of the snapshot `name` means, as spelled on disk (names compare
 * case-insensitively). Throws PSMC_USAGE for a bad name, PSMC_NOT_FOUND (with
 * `details.known`: the names present) when there is none.
 */
export function resolveName(host: SnapshotHost, name: string): string {
  assertSnapshotName(name);
  const dir = snapshotsDir(host);
  const names = scanDir(dir).names;
  const found = names.find((n) => n === name) ?? names.find((n) => n.toLowerCase() === name.toLowerCase());
  if (found !== undefined) return found;
  throw new PsmcError('PSMC_NOT_FOUND', `There is no snapshot named ${JSON.stringify(name)} in ${dir}.`, {
    hint:
      names.length === 0
        ? 'There are no snapshots yet; take one with `psmc snapshot create [name]`.'
        : '`psmc snapshot list` shows the snapshots.',
    details: { name, known: names },
  });
}

/** The checked document of snapshot `name`. */
export function readSnapshot(host: SnapshotHost, name: string): SnapshotDocument {
  return readSnapshotFile(snapshotsDir(host), resolveName(host, name)).doc;
}

/** The document and the listing facts of snapshot `name`. */
export function readSnapshotWithInfo(host: SnapshotHost, name: string): { doc: SnapshotDocument; info: SnapshotInfo } {
  const { doc, bytes, path } = readSnapshotFile(snapshotsDir(host), resolveName(host, name));
  return { doc, info: infoOf(doc, bytes, path) };
}

/** Deletes snapshot `name`; returns its name as spelled on disk. */
export function deleteSnapshot(host: SnapshotHost, name: string): string {
  const found = resolveName(host, name);
  deleteSnapshotFile(snapshotsDir(host), found);
  return found;
}
