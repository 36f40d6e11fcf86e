/**
 * The `imports/` drop folder of a store (DESIGN.md, the mirror protocol):
 * `<store dir>/imports/`, created 0700 on demand. A person or a program drops
 * a file there; `processImports` merges it into the store as one batch and
 * moves it aside, to `imports/done/` or to `imports/rejected/` with a
 * `<file>.reason` text beside it saying what was wrong, where, and how to fix it.
 *
 * Accepted files (by extension, case-insensitive):
 * - `*.json` (JSONC accepted), `*.toml`, `*.yaml` / `*.yml`;
 * - in the plain form (flat top-level keys → values, parsed like the mirror
 *   file: spec/sections/mirror-format.md §mirror.parse), or in the full form
 *   with metadata: a psmc export document `{"format":"psmc-export",…}` (a
 *   snapshot document `{"format":"psmc-snapshot",…}` is taken as its entries).
 *
 * Each file is one batch (one revision, all or nothing) recorded with source
 * `import:<file name>`. Safety rules:
 * - Files still being written are left for later: modified less than
 *   SETTLE_MS (1 s) ago, or whose size or mtime changes between two looks
 *   RECHECK_MS (50 ms) apart.
 * - Dot-files and editor/download temp files (`~`, `.tmp`, `.swp`, `.part` …)
 *   are skipped; so are directories.
 * - Nothing is followed: a symbolic link (or a FIFO, socket, device) is never
 *   read but moved to `rejected/` with its reason; `imports/`, `done/` and
 *   `rejected/` themselves must be real directories. Files are opened with
 *   O_NOFOLLOW where the platform has it and checked again after opening.
 * - A file is claimed first (renamed to a hidden `.psmc-import-<pid>-<rand>-<name>`
 *   in the same folder), so two processes (a TS watcher and the Rust service)
 *   never import the same drop twice. A claim left by a process that died is
 *   put back on the next run.
 * - Moving aside never overwrites: `x.json` becomes `x-1.json`, `x-2.json` …
 *   when the name is taken (a hard link refuses an existing name atomically;
 *   where links are unavailable, a checked rename).
 *
 * No timers, no watchers: the caller decides when to run it (the Watcher, the
 * Rust service, `psmc doctor --repair`).
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { extname, join } from 'node:path';
import { isPsmcError, PsmcError } from '../core/errors.js';
import type { MirrorFormat } from './codecs/types.js';
import { locateKey, nameProblem, parseImportText, reasonText, STORE_ERRORS } from './import-document.js';

export { parseImportText } from './import-document.js';

export const IMPORTS_DIR = 'imports';
export const DONE_DIR = 'done';
export const REJECTED_DIR = 'rejected';
/** A file modified less than this long ago may still be being written. */
export const SETTLE_MS = 1000;
/** The two looks at a file's size and mtime are this far apart. */
export const RECHECK_MS = 50;
/** Larger files are refused (a value is at most 1 MiB; a whole store export rarely nears this). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

const CLAIM_PREFIX = '.psmc-import-';
const CLAIM_RE = /^\.psmc-import-(\d+)-([0-9a-f]{8})-(.+)$/s;

/** The extension → format table. */
const FORMATS: Readonly<Record<string, MirrorFormat>> = {
  '.json': 'json',
  '.toml': 'toml',
  '.yaml': 'yaml',
  '.yml': 'yaml',
};

/** What processImports needs from a store; `Store` satisfies it (through `info`). */
export type ImportsHost = (
  | { readonly dir: string }
  | {
      readonly info: {
        readonly writeLayer: 'project' | 'user';
        readonly user: { readonly dir: string } | undefined;
        readonly project: { readonly dir: string } | undefined;
      };
    }
) & {
  /** Merges an export document or a flat object of key → value as one batch. */
  importData(
    doc: unknown,
    options: { source: string },
  ): { readonly revision: number; readonly changes: readonly unknown[] };
};

export interface ImportDone {
  /** The file name as dropped. */
  readonly file: string;
  /** Where it is now (`imports/done/<name>`). */
  readonly movedTo: string;
  readonly source: string;
  /** The store revision after the import (unchanged when the file changed nothing). */
  readonly revision: number;
  /** How many keys it changed. */
  readonly changes: number;
}

export interface ImportRejected {
  readonly file: string;
  /** Where it is now (`imports/rejected/<name>`). */
  readonly movedTo: string;
  /** The reason text beside it (`<movedTo>.reason`). */
  readonly reasonFile: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly line?: number;
  readonly column?: number;
  readonly key?: string;
}

export interface ImportSkipped {
  readonly file: string;
  /** Why it was left where it is (still being written, hidden, a directory …). */
  readonly reason: string;
}

export interface ImportsReport {
  /** The imports folder. */
  readonly dir: string;
  readonly done: ImportDone[];
  readonly rejected: ImportRejected[];
  readonly skipped: ImportSkipped[];
}

export interface ImportsOptions {
  /** The wall clock in ms (tests). @default Date.now */
  readonly now?: () => number;
  /** @default SETTLE_MS */
  readonly settleMs?: number;
  /** @default RECHECK_MS */
  readonly recheckMs?: number;
}

/** The imports folder of a store directory (not created). */
export function importsDir(storeDir: string): string {
  return join(storeDir, IMPORTS_DIR);
}

function hostDir(host: ImportsHost): string {
  if ('dir' in host) return host.dir;
  const slot = host.info.writeLayer === 'project' ? host.info.project : host.info.user;
  if (slot === undefined) throw new TypeError(`the store has no ${host.info.writeLayer} directory`);
  return slot.dir;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function ioError(e: unknown, path: string, what: string): PsmcError {
  return new PsmcError('PSMC_IO', `Cannot ${what} ${path}: ${(e as Error).message}`, {
    hint: 'Check the permissions of the imports folder (it should be yours, mode 0700) and that the disk is healthy.',
    cause: e,
    details: { path, errno: errno(e) ?? 'EIO' },
  });
}

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw ioError(e, path, 'look at');
  }
}

/** Creates `dir` 0700 when missing; refuses anything but a real directory there (a symlink could lead outside). */
function ensureRealDir(dir: string): void {
  const st = lstatOrUndefined(dir);
  if (st === undefined) {
    try {
      mkdirSync(dir, { mode: 0o700 });
      return;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw ioError(e, dir, 'create');
    }
    return ensureRealDir(dir);
  }
  if (!st.isDirectory()) {
    throw new PsmcError(
      'PSMC_IO',
      `${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; psmc only uses a real directory there.`,
      {
        hint: 'Move it away (psmc recreates the folder, mode 0700), so that imports cannot be redirected outside the store.',
        details: { path: dir },
      },
    );
  }
}

/** Hidden files, editor swap/backup files and partial downloads: never imported. */
export function isTempName(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('~')) return true;
  if (name.startsWith('#') && name.endsWith('#')) return true;
  return /\.(tmp|temp|swp|swx|swo|part|partial|crdownload|download|bak|lock)$/i.test(name);
}

/** True when the process `pid` is alive (or cannot be checked). */
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
 * The files of the imports folder that a run would take (or reject), by name,
 * sorted; without waiting to see whether they are still being written. For
 * `psmc status` and `psmc doctor`. An absent folder has none.
 */
export function pendingImports(storeDir: string): string[] {
  const dir = importsDir(storeDir);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return [];
    throw ioError(e, dir, 'read');
  }
  return entries
    .filter((d) => !d.isDirectory() && !isTempName(d.name) && d.name !== DONE_DIR && d.name !== REJECTED_DIR)
    .map((d) => d.name)
    .sort();
}

/** Claims left by processes that died: put back under their own name (or a free one). */
function recoverClaims(dir: string, names: readonly string[]): void {
  for (const name of names) {
    const m = CLAIM_RE.exec(name);
    if (m === null || alive(Number(m[1]))) continue;
    const original = m[3] as string;
    try {
      moveNoClobber(join(dir, name), dir, original, lstatOrUndefined(join(dir, name))?.isSymbolicLink() ?? false);
    } catch {
      // Another process recovered it first, or the folder is unwritable: doctor reports the leftover.
    }
  }
}

/** `x.json` → `x-<n>.json` (n ≥ 1); names without an extension get `-<n>` at the end. */
function numbered(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length);
  return `${stem}-${n}${ext === name ? '' : ext}`;
}

/**
 * Moves `from` into `toDir` as `name`, or `name-1`, `name-2` … when taken;
 * never overwrites. A hard link refuses an existing name atomically; links
 * are not used for symbolic links (some systems would follow them) or where
 * the file system has none. `alsoFree` names a companion (`<name>.reason`)
 * that must be free too. Returns the name used.
 */
function moveNoClobber(
  from: string,
  toDir: string,
  name: string,
  isLink: boolean,
  alsoFree?: (n: string) => string,
): string {
  for (let n = 0; n < 10_000; n++) {
    const candidate = numbered(name, n);
    const target = join(toDir, candidate);
    if (alsoFree !== undefined && lstatOrUndefined(join(toDir, alsoFree(candidate))) !== undefined) continue;
    if (!isLink) {
      try {
        linkSync(from, target);
        try {
          unlinkSync(from);
        } catch (e) {
          unlinkSync(target);
          throw e;
        }
        return candidate;
      } catch (e) {
        const code = errno(e);
        if (code === 'EEXIST') continue;
        if (
          code !== 'EPERM' &&
          code !== 'ENOTSUP' &&
          code !== 'EOPNOTSUPP' &&
          code !== 'EXDEV' &&
          code !== 'EMLINK' &&
          code !== 'ENOSYS'
        ) {
          throw ioError(e, from, 'move');
        }
        // No hard links here: fall through to a checked rename.
      }
    }
    if (lstatOrUndefined(target) !== undefined) continue;
    try {
      renameSync(from, target);
    } catch (e) {
      throw ioError(e, from, 'move');
    }
    return candidate;
  }
  throw new PsmcError('PSMC_IO', `There is no free name for ${name} in ${toDir}.`, {
    hint: `Clean up ${toDir} (its files are kept for your reference only).`,
    details: { path: toDir },
  });
}

function randomHex(): string {
  return Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0');
}

/** Reads a claimed file without following links; checks it is still the regular file that was looked at. */
function readClaimed(path: string, expected: Stats): string {
  const noFollow = (fsConstants as { O_NOFOLLOW?: number }).O_NOFOLLOW ?? 0;
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | noFollow);
  } catch (e) {
    if (errno(e) === 'ELOOP')
      throw rejectError(
        'PSMC_PARSE',
        'it became a symbolic link while being read.',
        'Drop a regular file, not a link.',
      );
    throw ioError(e, path, 'read');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.ino !== expected.ino || st.dev !== expected.dev) {
      throw rejectError(
        'PSMC_PARSE',
        'it was replaced by something else while being read.',
        'Drop the file again, and do not change it once it is in imports/.',
      );
    }
    if (st.size > MAX_IMPORT_BYTES) {
      throw rejectError(
        'PSMC_VALUE_TOO_LARGE',
        `it is ${st.size} bytes; the limit is ${MAX_IMPORT_BYTES}.`,
        'Split it into several files.',
      );
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, off));
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    } catch {
      throw rejectError(
        'PSMC_PARSE',
        'it is not UTF-8 text.',
        'Save the file as UTF-8 (without a byte order mark is best).',
      );
    }
  } finally {
    closeSync(fd);
  }
}

function rejectError(code: 'PSMC_PARSE' | 'PSMC_VALUE_TOO_LARGE', what: string, hint: string): PsmcError {
  return new PsmcError(code, `The file cannot be imported: ${what}`, { hint });
}

/**
 * Imports the files waiting in `<store dir>/imports/` (see the module
 * comment). Throws PsmcError PSMC_IO when the folder cannot be used, and
 * rethrows a store failure (busy, closed, read-only, damaged) after putting
 * the file it was importing back.
 */
export function processImports(host: ImportsHost, options: ImportsOptions = {}): ImportsReport {
  const now = options.now ?? Date.now;
  const settleMs = options.settleMs ?? SETTLE_MS;
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  const storeDir = hostDir(host);
  const dir = importsDir(storeDir);
  const report: ImportsReport = { dir, done: [], rejected: [], skipped: [] };
  if (lstatOrUndefined(storeDir) === undefined) return report; // no store yet: nothing to create
  ensureRealDir(dir);

  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw ioError(e, dir, 'read');
  }
  recoverClaims(
    dir,
    names.filter((n) => n.startsWith(CLAIM_PREFIX)),
  );
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw ioError(e, dir, 'read');
  }

  // First look: classify; note the stat of each candidate.
  const candidates: { name: string; st: Stats }[] = [];
  for (const name of names) {
    if (name === DONE_DIR || name === REJECTED_DIR) continue;
    if (isTempName(name)) {
      report.skipped.push({ file: name, reason: name.startsWith('.') ? 'a hidden file' : 'a temporary file' });
      continue;
    }
    const st = lstatOrUndefined(join(dir, name));
    if (st === undefined) continue; // taken by another process meanwhile
    if (st.isDirectory()) {
      report.skipped.push({ file: name, reason: 'a directory (only files are imported)' });
      continue;
    }
    candidates.push({ name, st });
  }
  // Files still being written: modified just now, or growing between two looks.
  const settled: { name: string; st: Stats }[] = [];
  for (const c of candidates) {
    if (c.st.isFile() && now() - c.st.mtimeMs < settleMs) {
      report.skipped.push({ file: c.name, reason: `still being written (modified less than ${settleMs} ms ago)` });
    } else settled.push(c);
  }
  if (settled.some((c) => c.st.isFile())) sleepMs(recheckMs);
  const ready: { name: string; st: Stats }[] = [];
  for (const c of settled) {
    if (!c.st.isFile()) {
      ready.push(c);
      continue;
    }
    const again = lstatOrUndefined(join(dir, c.name));
    if (again === undefined) continue;
    if (again.size !== c.st.size || again.mtimeMs !== c.st.mtimeMs || again.ino !== c.st.ino || !again.isFile()) {
      report.skipped.push({ file: c.name, reason: 'still being written (its size or time changed while psmc looked)' });
    } else ready.push({ name: c.name, st: again });
  }

  for (const { name, st } of ready) {
    const at = now();
    const reject = (
      from: string,
      isLink: boolean,
      e: PsmcError | { code: string; message: string; hint: string; details?: Record<string, unknown> },
      text?: string,
    ): void => {
      const d = e.details ?? {};
      let line = typeof d['line'] === 'number' ? d['line'] : undefined;
      let column = typeof d['column'] === 'number' ? d['column'] : undefined;
      const key = typeof d['key'] === 'string' ? d['key'] : undefined;
      if (line === undefined && key !== undefined && text !== undefined) {
        const where = locateKey(text, key);
        if (where !== undefined) ({ line, column } = where);
      }
      const where = line === undefined ? name : `${name}:${line}${column === undefined ? '' : `:${column}`}`;
      const facts = {
        code: e.code,
        message: e.message.startsWith(name) ? e.message : `${where}: ${e.message}`,
        hint: e.hint,
        ...(line === undefined ? {} : { line }),
        ...(column === undefined ? {} : { column }),
        ...(key === undefined ? {} : { key }),
      };
      const rejectedDir = join(dir, REJECTED_DIR);
      ensureRealDir(rejectedDir);
      const moved = moveNoClobber(from, rejectedDir, name, isLink, (n) => `${n}.reason`);
      const reasonFile = join(rejectedDir, `${moved}.reason`);
      try {
        writeFileSync(reasonFile, reasonText(name, facts, at), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        throw ioError(err, reasonFile, 'write');
      }
      report.rejected.push({ file: name, movedTo: join(rejectedDir, moved), reasonFile, ...facts });
    };

    // Claim it first, so no other process imports (or rejects) it too. A rename moves a link, never its target.
    const path = join(dir, name);
    let claimed = join(dir, `${CLAIM_PREFIX}${process.pid}-${randomHex()}-${name}`);
    try {
      renameSync(path, claimed);
    } catch (e) {
      if (errno(e) === 'ENOENT') continue; // another process took it
      if (errno(e) !== 'ENAMETOOLONG') throw ioError(e, path, 'claim');
      claimed = path; // a name too long to prefix: handle it in place
    }
    const putBack = (): void => {
      if (claimed !== path) moveNoClobber(claimed, dir, name, st.isSymbolicLink());
    };

    const problem = nameProblem(name);
    if (st.isSymbolicLink()) {
      reject(claimed, true, {
        code: 'PSMC_PARSE',
        message: `${name} is a symbolic link; links are never followed in imports/ (one could point outside the store).`,
        hint: 'Copy the file itself into imports/ instead of linking it.',
      });
      continue;
    }
    if (!st.isFile()) {
      reject(claimed, false, {
        code: 'PSMC_PARSE',
        message: `${name} is not a regular file (a FIFO, socket or device).`,
        hint: 'Drop regular files only.',
      });
      continue;
    }
    if (problem !== undefined) {
      reject(claimed, false, {
        code: 'PSMC_PARSE',
        message: `The file name ${JSON.stringify(name)} is not usable: ${problem}.`,
        hint: 'Rename the file (letters, digits, ".", "_", "-") and drop it again.',
      });
      continue;
    }
    const format = FORMATS[extname(name).toLowerCase()];
    if (format === undefined) {
      reject(claimed, false, {
        code: 'PSMC_PARSE',
        message: `${name}: unsupported extension ${extname(name) === '' ? '(none)' : JSON.stringify(extname(name))}; imports/ takes .json, .toml, .yaml and .yml files.`,
        hint: 'Rename the file with the extension of its format (.json, .toml, .yaml or .yml) and drop it again.',
      });
      continue;
    }

    let text: string | undefined;
    let commit: { revision: number; changes: readonly unknown[] };
    const source = `import:${name}`;
    try {
      text = readClaimed(claimed, st);
      const doc = parseImportText(text, format);
      commit = host.importData(doc, { source });
    } catch (e) {
      if (!isPsmcError(e)) {
        putBack();
        throw e;
      }
      if (STORE_ERRORS.has(e.code)) {
        putBack();
        throw e;
      }
      reject(claimed, false, e, text);
      continue;
    }
    const doneDir = join(dir, DONE_DIR);
    ensureRealDir(doneDir);
    const moved = moveNoClobber(claimed, doneDir, name, false);
    report.done.push({
      file: name,
      movedTo: join(doneDir, moved),
      source,
      revision: commit.revision,
      changes: commit.changes.length,
    });
  }
  return report;
}
