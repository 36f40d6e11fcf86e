/**
 * File input and output for the CLI: reading an input file (or stdin for
 * `-`) and writing an output file atomically with mode 0600.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PsmcError } from '../core/errors.js';
import type { Context } from './context.js';

function fileError(e: unknown, verb: string, path: string): PsmcError {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (e as Error).message;
  const hint =
    code === 'ENOENT'
      ? 'Check the path (it is relative to the current directory), or pass - to read from stdin.'
      : code === 'EACCES' || code === 'EPERM'
        ? 'Check the permissions of the file and its directory.'
        : 'Check the path and that the disk is healthy.';
  return new PsmcError('PSMC_IO', `Cannot ${verb} ${path}: ${reason}.`, {
    hint,
    cause: e,
    details: { file: path, errno: code },
  });
}

/** The text of `file`, or of stdin when `file` is `-`; and the name to show in messages. */
export async function readInput(ctx: Context, file: string): Promise<{ text: string; name: string }> {
  if (file === '-') return { text: await ctx.readStdin(), name: '<stdin>' };
  const path = resolve(ctx.cwd, file);
  try {
    return { text: readFileSync(path, 'utf8'), name: file };
  } catch (e) {
    throw fileError(e, 'read', file);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Writes `text` to `file` atomically: a temp file in the same directory
 * (created 0600), fsync, then rename over the target. Windows may hold the
 * target briefly (antivirus, indexer): the rename is retried a few times.
 * On failure the temp file is removed and the target is untouched.
 */
export function writeFileAtomic(ctx: Context, file: string, text: string): string {
  const path = resolve(ctx.cwd, file);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(tmp, path);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt >= 5 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
        sleepSync(20 * (attempt + 1));
      }
    }
    return path;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(tmp);
    throw fileError(e, 'write', file);
  }
}

/** Removes a temp file after a failure; a temp file that was never created is fine. */
function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    // ENOENT: the temp file was never created. Anything else must not hide the original error,
    // which the caller is about to throw; the leftover is a dot-file named *.tmp beside the target.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return;
  }
}
