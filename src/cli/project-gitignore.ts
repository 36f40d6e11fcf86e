/**
 * The `.gitignore` of a project store (`<project>/.psmc/.gitignore`).
 *
 * People commit their project, and a project store sits inside it. Some of its files belong to
 * this machine only and must never be committed: the database and its WAL/SHM files (binary,
 * changing on every write, meaningless to merge), `http-tokens.json` (psmc serve's hashed tokens
 * and browser sessions), the `imports/` drop folder, temp files of writes in progress, and the
 * automatic snapshots (numbered by this machine's revisions, rotated). The rest may be committed:
 * the mirror file (`config.json` / `.toml` / `.yaml`: the values in plaintext, which is how a
 * clone gets them — `psmc init` in a clone builds the database from it) and the named snapshots.
 *
 * Written by `psmc init` and by `psmc serve` before it first writes `http-tokens.json` into a
 * project store. Never overwritten: created with O_EXCL, so an existing file (the user's, or a
 * link) is left exactly as it is.
 */
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, HTTP_TOKENS_FILE } from '../store/paths.js';

export const GITIGNORE_FILE = '.gitignore';

/** The text written (patterns anchored to the store directory with a leading `/`). */
export const PROJECT_GITIGNORE = `# Written by psmc. The files of this psmc project store that belong to this machine only:
# keep them out of git. The mirror file (config.json, config.toml or config.yaml) and the
# named snapshots in snapshots/ may be committed; in a fresh clone, \`psmc init\` builds the
# database from the committed mirror file. psmc never overwrites this file: edit it freely.

# The database, its WAL/SHM/journal files, and copies set aside by psmc doctor
/${DATABASE_FILE}
/${DATABASE_FILE}-*
/${DATABASE_FILE}.*
# psmc serve: hashed API tokens and browser sessions, with their lock and temp files
/${HTTP_TOKENS_FILE}
/${HTTP_TOKENS_FILE}.*
# The drop folder: files waiting to be imported, done/ and rejected/
/imports/
# Automatic snapshots: numbered by this machine's revisions and rotated
/snapshots/auto-*.json
# Temp files of writes in progress (or interrupted)
.*.tmp
.*.psmc-tmp-*
`;

export interface GitignoreResult {
  readonly path: string;
  /** False when a `.gitignore` (or anything by that name) was already there: it was left alone. */
  readonly created: boolean;
}

/**
 * Writes `<storeDir>/.gitignore` (mode 0600) unless something by that name exists. Throws the
 * file system's error for anything but "exists" (the caller says what it means for its command).
 */
export function ensureProjectGitignore(storeDir: string): GitignoreResult {
  const path = join(storeDir, GITIGNORE_FILE);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { path, created: false };
    throw e;
  }
  try {
    writeSync(fd, PROJECT_GITIGNORE);
  } catch (e) {
    // A disk full: no half file left behind, so a later run writes it whole.
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return { path, created: true };
}

/**
 * Before a command first writes `http-tokens.json` into a project store (`psmc serve`,
 * `psmc token create`), makes sure the store's `.gitignore` keeps it out of git. `projectDir` is
 * the project store's directory, or undefined for a user or `--store` store (nothing to do).
 * Notes what it did, or why it could not, through `note`; never throws.
 */
export function guardTokensFromGit(projectDir: string | undefined, who: string, note: (line: string) => void): void {
  if (projectDir === undefined || !existsSync(projectDir) || existsSync(join(projectDir, HTTP_TOKENS_FILE))) return;
  try {
    const g = ensureProjectGitignore(projectDir);
    if (g.created) note(`${who}: wrote ${g.path} so that ${HTTP_TOKENS_FILE} and the database stay out of git.`);
  } catch (e) {
    note(
      `${who}: warning: could not write ${join(projectDir, GITIGNORE_FILE)}: ${(e as Error).message}. Keep ${HTTP_TOKENS_FILE} out of git yourself.`,
    );
  }
}
