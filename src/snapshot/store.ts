/**
 * Snapshot files on disk (§snapshot.format, §snapshot.names): one file
 * `<store dir>/snapshots/<name>.json` per snapshot; the directory is created
 * 0700 and every file 0600.
 *
 * A file is written atomically: a temp file in the same directory (a dot-file,
 * so never mistaken for a snapshot), fsync, then a hard link (which refuses an
 * existing name, atomically) or a rename (when overwriting, or where the file
 * system has no hard links), then an fsync of the directory. A reader, or a
 * crash at any point, sees either no `<name>.json` or the whole file.
 *
 * Names are compared case-insensitively against the files present, because
 * Windows and macOS file systems are: `Before` and `before` cannot both exist.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { PsmcError } from '../core/errors.js';
import { ensureDir, ioError } from '../store/paths.js';
import { parseSnapshot, type SnapshotDocument } from './format.js';
import { assertSnapshotName, fileNameOf, nameOfFile, nameProblem } from './names.js';

/** A file in the snapshots directory that is not a readable snapshot. */
export interface SnapshotProblem {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

const TEMP_RE = /^\.(.+)\.json\.(\d+)\.[a-z0-9]+\.tmp$/;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** fsync of a directory, so a rename in it survives power loss. Not possible everywhere (Windows): best effort. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open or fsync a directory (EPERM/EISDIR); NTFS journals the rename itself.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or the directory is unwritable: the leftover is a dot-file that listings ignore
    // and that the next write sweeps (see sweepTempFiles).
  }
}

/** Names of the snapshot files present (as spelled on disk), and the files that are not usable snapshots. */
export function scanDir(dir: string): { names: string[]; problems: SnapshotProblem[] } {
  let dirents;
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errno(e) === 'ENOENT') return { names: [], problems: [] };
    throw ioError(e, dir);
  }
  const names: string[] = [];
  const problems: SnapshotProblem[] = [];
  for (const d of dirents) {
    const name = nameOfFile(d.name);
    if (name === undefined) continue;
    const problem = nameProblem(name);
    if (problem !== undefined) {
      problems.push({
        file: join(dir, d.name),
        code: 'PSMC_PARSE',
        message: `${JSON.stringify(d.name)} is not a snapshot file name: ${problem}.`,
      });
      continue;
    }
    if (!d.isFile()) {
      problems.push({
        file: join(dir, d.name),
        code: 'PSMC_PARSE',
        message: `${d.name} is not a regular file (a directory or a link); it is ignored.`,
      });
      continue;
    }
    names.push(name);
  }
  return { names: names.sort(), problems };
}

/** The name as spelled on disk of the snapshot that `name` means (case-insensitively), or undefined. */
export function existingName(dir: string, name: string): string | undefined {
  const lower = name.toLowerCase();
  const names = scanDir(dir).names;
  return names.find((n) => n === name) ?? names.find((n) => n.toLowerCase() === lower);
}

export function notFound(
  dir: string,
  name: string,
  known: readonly string[],
  suggestion: string | undefined,
): PsmcError {
  const did = suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
  return new PsmcError('PSMC_NOT_FOUND', `There is no snapshot named ${JSON.stringify(name)} in ${dir}.${did}`, {
    hint:
      known.length === 0
        ? 'There are no snapshots yet; take one with `psmc snapshot create [name]`.'
        : '`psmc snapshot list` shows the snapshots.',
    details: { name, ...(suggestion === undefined ? {} : { suggestion }) },
  });
}

/**
 * Reads and checks the snapshot file of `name` (a checked name, spelled as on
 * disk). Throws PSMC_NOT_FOUND, PSMC_PARSE (also for a symlink or a `name`
 * member that differs from the file name), PSMC_FORMAT_TOO_NEW, PSMC_IO.
 */
export function readSnapshotFile(dir: string, name: string): { doc: SnapshotDocument; bytes: number; path: string } {
  assertSnapshotName(name);
  const path = join(dir, fileNameOf(name));
  let text: string;
  try {
    const st = lstatSync(path);
    if (!st.isFile()) {
      throw new PsmcError(
        'PSMC_PARSE',
        `${path} is not a regular file (a directory or a link); psmc does not follow it.`,
        {
          hint: 'Snapshots are plain files written by psmc. Remove the link, or copy the real file in its place.',
          details: { file: path },
        },
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof PsmcError) throw e;
    if (errno(e) === 'ENOENT') throw notFound(dir, name, [], undefined);
    throw ioError(e, path);
  }
  return { doc: parseSnapshot(text, { file: path, expectName: name }), bytes: Buffer.byteLength(text, 'utf8'), path };
}

/**
 * Writes the text of snapshot `name` atomically with mode 0600 (see the file
 * comment). Refuses, with PSMC_USAGE, a name already taken (compared
 * case-insensitively) unless `overwrite` and the same spelling.
 */
export function writeSnapshotFile(
  dir: string,
  name: string,
  text: string,
  options: { overwrite?: boolean } = {},
): string {
  assertSnapshotName(name);
  ensureDir(dir);
  sweepTempFiles(dir);
  const taken = existingName(dir, name);
  if (taken !== undefined && (taken !== name || options.overwrite !== true)) {
    throw new PsmcError(
      'PSMC_USAGE',
      taken === name
        ? `A snapshot named ${JSON.stringify(name)} already exists.`
        : `The snapshot name ${JSON.stringify(name)} differs only in case from the existing snapshot ${JSON.stringify(taken)}; snapshot names are compared case-insensitively.`,
      {
        hint: 'Choose another name, or delete the old snapshot first (`psmc snapshot delete <name>`).',
        details: { name, existing: taken },
      },
    );
  }
  const path = join(dir, fileNameOf(name));
  const tmp = join(dir, `.${fileNameOf(name)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.overwrite === true) renameWithRetry(tmp, path);
    else publishNew(tmp, path, name);
    syncDir(dir);
    return path;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(tmp);
    if (e instanceof PsmcError) throw e;
    throw ioError(e, path);
  }
}

function renameWithRetry(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(from, to);
      return;
    } catch (e) {
      const code = errno(e);
      // Windows: an antivirus or indexer may hold the target for a moment.
      if (attempt >= 5 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
      sleepSync(20 * (attempt + 1));
    }
  }
}

/** Puts the finished temp file in place under a name that must not exist yet. */
function publishNew(tmp: string, path: string, name: string): void {
  try {
    linkSync(tmp, path);
    removeQuietly(tmp);
    return;
  } catch (e) {
    const code = errno(e);
    if (code === 'EEXIST') {
      throw new PsmcError(
        'PSMC_USAGE',
        `A snapshot named ${JSON.stringify(name)} already exists (it was just created by another process).`,
        {
          hint: 'Choose another name, or delete the old snapshot first (`psmc snapshot delete <name>`).',
          details: { name },
        },
      );
    }
    // No hard links on this file system (FAT, some Android storage): check, then rename.
    if (
      code !== 'EPERM' &&
      code !== 'ENOTSUP' &&
      code !== 'ENOSYS' &&
      code !== 'EXDEV' &&
      code !== 'EMLINK' &&
      code !== 'EOPNOTSUPP'
    )
      throw e;
  }
  if (existsSync(path)) {
    throw new PsmcError('PSMC_USAGE', `A snapshot named ${JSON.stringify(name)} already exists.`, {
      hint: 'Choose another name, or delete the old snapshot first (`psmc snapshot delete <name>`).',
      details: { name },
    });
  }
  renameWithRetry(tmp, path);
}

/** Deletes the snapshot file of `name` (spelled as on disk). Throws PSMC_NOT_FOUND when there is none. */
export function deleteSnapshotFile(dir: string, name: string): void {
  assertSnapshotName(name);
  const path = join(dir, fileNameOf(name));
  for (let attempt = 0; ; attempt++) {
    try {
      unlinkSync(path);
      break;
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT') throw notFound(dir, name, [], undefined);
      if (attempt >= 5 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw ioError(e, path);
      sleepSync(20 * (attempt + 1));
    }
  }
  syncDir(dir);
}

/** True when process `pid` is alive (or cannot be checked). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) !== 'ESRCH';
  }
}

/**
 * Removes temp files left by writers that died (kill -9, power loss) before
 * they could clean up. A temp file of a live process is left alone.
 * Returns the files removed.
 */
export function sweepTempFiles(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of files) {
    const m = TEMP_RE.exec(f);
    if (m === null || alive(Number(m[2]))) continue;
    removeQuietly(join(dir, f));
    removed.push(f);
  }
  return removed;
}
