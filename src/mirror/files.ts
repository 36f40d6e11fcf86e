/**
 * The mirror engine's file primitives: a file's stat as the engine records it (size, mtime in whole
 * ms), SHA-256, strict UTF-8 decoding with the place of the first bad byte, and the sweep of temp
 * files left by killed writers.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PsmcError } from '../core/errors.js';
import { discardTemp, TEMP_MARK } from './atomic.js';

export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
}

export function statOf(file: string): FileStat | undefined {
  try {
    const st = statSync(file);
    return { size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes the file's bytes as UTF-8, refusing invalid sequences with the
 * line and column of the first bad byte: a file saved in another encoding is
 * an invalid edit, never imported with U+FFFD in place of characters.
 */
export function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    // Find the first bad byte: the longest prefix that decodes.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        // This prefix holds the bad byte: search the lower half (the error is the answer, not a failure).
        hi = mid - 1;
      }
    }
    const before = bytes.subarray(0, lo).toString('utf8');
    const line = before.split('\n').length;
    const column = [...before.slice(before.lastIndexOf('\n') + 1)].length + 1;
    throw new PsmcError(
      'PSMC_PARSE',
      `${file} is not valid UTF-8: byte ${lo} (line ${line}, column ${column}) cannot start or continue a character.`,
      {
        hint: 'Save the file as UTF-8 (most editors: "Save with encoding" → UTF-8).',
        details: { file, line, column },
        cause,
      },
    );
  }
}

/**
 * Removes temp files of the mirror left by writers killed mid-export (older
 * than a minute: a live export finishes in well under that). One readdir.
 */
export function sweepTemps(dir: string, nowMs: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    if (!name.startsWith('.config.') || !name.includes(TEMP_MARK)) continue;
    const path = join(dir, name);
    const st = statOf(path);
    if (st !== undefined && nowMs - st.mtimeMs > 60_000) discardTemp(path);
  }
}
