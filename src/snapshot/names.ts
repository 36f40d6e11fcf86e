/**
 * Snapshot names (spec/sections/snapshots.md §snapshot.names). Pure: no I/O.
 *
 * A snapshot is the file `<store>/snapshots/<name>.json`, so a name is also a
 * file name: it is checked against an allowlist, never against a denylist.
 * 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter or digit, with
 * no `..`, not ending in `.json`, and not `current` (which `diff` uses for the
 * live store). A name cannot hold a path separator, start with a dot, or be
 * `.`/`..`, so it cannot leave the snapshots directory.
 *
 * The same check runs on every name that comes from outside: the user's
 * argument (PSMC_USAGE), a file name found on disk, and the `name` member of a
 * snapshot file (PSMC_PARSE: the file is malformed).
 */
import { PsmcError } from '../core/errors.js';

export const MAX_NAME_LENGTH = 64;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Names that mean something else where a snapshot name is expected. Compared case-insensitively. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['current']);

/** Why `name` is not a usable snapshot name, or undefined when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `a snapshot name must be a string, not ${name === null ? 'null' : typeof name}`;
  if (name === '') return 'a snapshot name cannot be empty';
  if (name.length > MAX_NAME_LENGTH) return `it is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`;
  if (name.includes('/') || name.includes('\\')) return 'it holds a path separator';
  if (name.startsWith('.')) return 'it starts with a dot';
  if (!NAME_RE.test(name)) {
    const bad = [...name].find((c) => !/[A-Za-z0-9._-]/.test(c));
    return bad === undefined
      ? 'it must start with a letter or a digit'
      : `it holds ${JSON.stringify(bad)}, which is not one of A–Z, a–z, 0–9, ".", "_", "-"`;
  }
  if (name.includes('..')) return 'it holds ".."';
  if (name.toLowerCase().endsWith('.json')) return 'it ends in ".json" (the file name adds that)';
  if (RESERVED_NAMES.has(name.toLowerCase())) return `"${name}" is reserved (diff uses it for the live store)`;
  return undefined;
}

/** True when `name` is a usable snapshot name. */
export function isValidSnapshotName(name: unknown): name is string {
  return nameProblem(name) === undefined;
}

const NAME_HINT =
  'A snapshot name is 1–64 of A–Z a–z 0–9 . _ -, starting with a letter or digit, without "..", not ending in .json, e.g. before-upgrade or 2026-11-26.';

function shown(name: unknown): string {
  if (typeof name !== 'string') return String(name);
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** Throws PSMC_USAGE unless `name` (given by a caller) is a usable snapshot name. */
export function assertSnapshotName(name: unknown): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new PsmcError('PSMC_USAGE', `${shown(name)} cannot be a snapshot name: ${problem}.`, { hint: NAME_HINT });
  }
}

/**
 * Throws PSMC_PARSE unless `name`, read from a file, is a usable snapshot
 * name. `where` names the file for the message.
 */
export function assertStoredName(name: unknown, where: string): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new PsmcError('PSMC_PARSE', `${where}: the snapshot name ${shown(name)} is not usable: ${problem}.`, {
      hint: 'The file was not written by psmc or was edited by hand. Fix its "name" member (it must match the file name), or delete the file.',
      details: { file: where },
    });
  }
}

/** The file name of a snapshot: `<name>.json`. */
export function fileNameOf(name: string): string {
  return `${name}.json`;
}

/** The snapshot name of a file name in the snapshots directory, or undefined when the file is not a snapshot. */
export function nameOfFile(fileName: string): string | undefined {
  if (!fileName.endsWith('.json') || fileName.startsWith('.')) return undefined;
  return fileName.slice(0, -'.json'.length);
}

/** The first of `base`, `base-2`, `base-3` … that is not taken (compared case-insensitively). */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  const lower = new Set([...taken].map((n) => n.toLowerCase()));
  if (!lower.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) {
    const suffix = `-${i}`;
    const candidate = base.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
    if (!lower.has(candidate.toLowerCase())) return candidate;
  }
}
