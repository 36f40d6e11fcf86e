/**
 * Where stores live (spec/SPEC.md §paths).
 *
 * - User store: the platform config directory for the app —
 *   Linux and other Unix (Termux, iSH): `$XDG_CONFIG_HOME/<app>` or `~/.config/<app>`;
 *   macOS: `~/Library/Application Support/<app>`;
 *   Windows: `%APPDATA%\<app>` (else `~\AppData\Roaming\<app>`).
 *   `<PREFIX>_HOME` (e.g. `PSMC_HOME`) names the store directory instead.
 * - Project store: a `.psmc/` directory, found by walking up from the working
 *   directory like git finds `.git/`.
 * - Inside a store directory the database is `psmc.db` (plus SQLite's -wal
 *   and -shm files). Directories are created 0700 and files 0600.
 */
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PsmcError } from '../core/errors.js';

export const DATABASE_FILE = 'psmc.db';
/** The hashed tokens and browser sessions of `psmc serve` (src/server/tokens.ts), mode 0600. */
export const HTTP_TOKENS_FILE = 'http-tokens.json';
export const PROJECT_DIR = '.psmc';

const APP_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws TypeError unless `app` is a safe directory name. */
export function assertAppName(app: unknown): asserts app is string {
  if (typeof app !== 'string' || !APP_RE.test(app) || app.includes('..')) {
    throw new TypeError(
      `app must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit (no path separators), received ${JSON.stringify(app)}`,
    );
  }
}

export interface PlatformInfo {
  readonly platform: NodeJS.Platform;
  readonly home: string;
  readonly env: Record<string, string | undefined>;
}

export function currentPlatform(env: Record<string, string | undefined>): PlatformInfo {
  return { platform: process.platform, home: homedir(), env };
}

/** The platform config directory for `app` (not created). */
export function userStoreDir(app: string, p: PlatformInfo): string {
  assertAppName(app);
  const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  switch (p.platform) {
    case 'darwin':
      return join(p.home, 'Library', 'Application Support', app);
    case 'win32':
      return join(nonEmpty(p.env['APPDATA']) ?? join(p.home, 'AppData', 'Roaming'), app);
    default:
      return join(nonEmpty(p.env['XDG_CONFIG_HOME']) ?? join(p.home, '.config'), app);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw ioError(e, path);
  }
}

/** Walks up from `start` to the filesystem root; returns the first `.psmc/` directory found. */
export function findProjectStore(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, PROJECT_DIR);
    if (isDirectory(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Creates `dir` (and missing parents) with mode 0700. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(e, dir);
  }
}

export function ioError(e: unknown, path: string): PsmcError {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'Check the ownership and permissions of the path (store directories should be yours, mode 0700).'
      : code === 'ENOSPC'
        ? 'The disk is full; free some space.'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'A file stands where a directory is needed; move it or choose another store path.'
          : 'Check that the path exists and is on a healthy local disk.';
  return new PsmcError('PSMC_IO', `Cannot use ${path}: ${(e as Error).message}`, {
    hint,
    cause: e,
    details: { path, errno: code },
  });
}
