/**
 * Atomic file replacement (spec/sections/mirror-sync.md §mirror.export).
 *
 * A temp file in the same directory (`.<name>.psmc-tmp-<pid>-<random>`,
 * mode 0600), written in full, fsynced, closed, renamed over the target, and
 * the directory fsynced — so a reader, or a crash at any instant, sees either
 * the old file or the new one, never a mix, never an empty or short file.
 *
 * - After an fsync error the temp file is discarded and the whole write is
 *   redone once from scratch: after a failed fsync the kernel may have dropped
 *   the dirty pages, so retrying the fsync could "succeed" on lost data.
 * - On Windows a rename over a file that another process holds open fails
 *   with EPERM/EBUSY/EACCES: retry with backoff (up to ~2 s). There is never a
 *   fallback to a non-atomic write.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const TEMP_MARK = '.psmc-tmp-';

const RENAME_RETRY_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function tempPath(target: string): string {
  const rand = Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0');
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${process.pid}-${rand}`);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    // Already gone (or never created): nothing to clean up.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Writes `text` to a new temp file beside `target`, fsynced; returns its path. */
export function writeTemp(target: string, text: string): string {
  const tmp = tempPath(target);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    removeQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    // Windows cannot open a directory for fsync; its rename is already durable enough (NTFS journal).
    if (process.platform === 'win32') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR); the rename itself has happened.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    closeSync(fd);
  }
}

/** Removes a temp file that will not be committed. */
export function discardTemp(tmp: string): void {
  removeQuietly(tmp);
}

/**
 * `writeTemp`, redone once from scratch after an error that a retry can cure (an fsync error: see the
 * module comment). Returns the temp file's path; `commitTemp` puts it in place.
 */
export function writeTempRetrying(target: string, text: string): string {
  try {
    return writeTemp(target, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'ENOENT') throw e;
    // One retry from scratch: a new temp file, written and fsynced again.
    return writeTemp(target, text);
  }
}

/** Replaces `target` with `text` atomically (see the module comment). */
export function writeFileAtomic(target: string, text: string): void {
  commitTemp(writeTempRetrying(target, text), target);
}

/** Renames a written temp file over `target` (retrying where Windows holds it) and fsyncs the directory. */
export function commitTemp(tmp: string, target: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(tmp, target);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (!RENAME_RETRY_CODES.has(code) || attempt >= 10) {
        removeQuietly(tmp);
        throw e;
      }
      sleepMs(Math.min(10 * 2 ** attempt, 500));
    }
  }
  syncDir(dirname(target));
}
