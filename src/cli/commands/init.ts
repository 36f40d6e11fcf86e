/** psmc init: create a project store (or set up a cloned one). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MIRROR_FILES } from '../../mirror/codecs/types.js';
import { DATABASE_FILE } from '../../store/paths.js';
import type { CommandSpec, Context } from '../context.js';
import { withStore } from '../open.js';
import { ensureProjectGitignore, type GitignoreResult } from '../project-gitignore.js';

export const spec: CommandSpec = { args: ['[dir]'], options: {} };

export const usage = `Usage: psmc init [dir]

Creates a project store: a .psmc/ directory (mode 0700) in <dir>, or in the
current directory. Inside that directory and below it, psmc then reads and
writes the project store, like git finds .git/; keys it does not hold still
come from the user store.

It also writes .psmc/.gitignore, which keeps the files that belong to this
machine out of git: the database (psmc.db and its -wal/-shm files), psmc
serve's tokens (http-tokens.json), the imports/ drop folder, automatic
snapshots and temp files. The mirror file (config.json) and named snapshots
may be committed. An existing .gitignore is never changed.

In a clone of a project whose .psmc/ holds a committed mirror file but no
database, init builds the database from that file, so reads see its values.
Otherwise, running init again changes nothing (it only adds a missing
.gitignore).

Examples:
  psmc init
  psmc init ~/plants/north
  cd ~/plants/north/data && psmc set sensor.rate 10   # goes to ~/plants/north/.psmc
  git clone …/north && cd north && psmc init           # the database from .psmc/config.json`;

/** The mirror file present in a store directory, if any. */
function mirrorFileIn(dir: string): string | undefined {
  return Object.values(MIRROR_FILES)
    .map((f) => join(dir, f))
    .find((p) => existsSync(p));
}

export async function run(ctx: Context): Promise<number> {
  const dir = resolve(ctx.cwd, ctx.args[0] ?? '.');
  const existed = existsSync(join(dir, '.psmc'));
  const { path, fromMirror } = await withStore(
    ctx,
    (store) => {
      const path = store.info.project?.dir ?? join(dir, '.psmc');
      // A cloned project: the mirror file was committed, the database (ignored by git) was not.
      // The first write creates the database and imports the mirror file into it (source `file`);
      // an empty import is that write, and changes nothing else.
      const mirror = existed && !existsSync(join(path, DATABASE_FILE)) ? mirrorFileIn(path) : undefined;
      if (mirror === undefined) return { path, fromMirror: undefined };
      store.importData({}, { source: 'init' });
      const keys = Object.keys(store.exportData().entries).length;
      const error = store.status().mirror?.error;
      return { path, fromMirror: { file: mirror, keys, revision: store.revision(), error } };
    },
    { createProjectIn: dir },
  );
  let gitignore: GitignoreResult | undefined;
  try {
    gitignore = ensureProjectGitignore(path);
  } catch (e) {
    // The store is made; say why the .gitignore is not, and what to do.
    ctx.note(
      `psmc: warning: could not write ${join(path, '.gitignore')}: ${(e as Error).message}. Keep psmc.db*, http-tokens.json* and imports/ out of git yourself.`,
    );
  }
  if (ctx.global.json) ctx.json({ path, created: !existed });
  else
    ctx.out(
      existed ? `psmc project store already exists in ${path}` : `Initialized empty psmc project store in ${path}`,
    );
  if (fromMirror?.error !== undefined) {
    const e = fromMirror.error;
    const where =
      e.line === undefined ? '' : ` (line ${e.line}${e.column === undefined ? '' : `, column ${e.column}`})`;
    ctx.note(
      `psmc: warning: created its database, but ${e.file} holds an edit psmc cannot use${where}: ${e.message}\n  hint: ${e.hint} Once the file is fixed, the next psmc command imports it.`,
    );
  } else if (fromMirror !== undefined) {
    ctx.note(`Built its database from ${fromMirror.file}: ${fromMirror.keys} key(s), revision ${fromMirror.revision}.`);
  }
  if (gitignore?.created === true)
    ctx.note(`Wrote ${gitignore.path}: the database, tokens and other files of this machine stay out of git.`);
  return 0;
}
