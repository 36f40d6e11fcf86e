/** psmc doctor: check the store (database, mirror, schema, permissions, temp files, imports) and repair it. */
import { join, resolve } from 'node:path';
import { prefixFromApp } from '../../core/env.js';
import type { DoctorReport, Finding } from '../../doctor/index.js';
import { assertAppName, currentPlatform, findProjectStore, PROJECT_DIR, userStoreDir } from '../../store/paths.js';
import { flag, usageError, type CommandSpec, type Context } from '../context.js';
import { sourceGiven, writeSource } from '../open.js';

export const spec: CommandSpec = { args: [], options: { repair: { type: 'boolean' } } };

export const usage = `Usage: psmc doctor [--repair]

Checks the stores psmc would use here (the project store, if any, and the
user store; or the one --store names) and prints one line per check:
  database     it opens and passes SQLite's integrity check
  mirror       the plaintext mirror parses, validates and is in step
  schema       every stored value satisfies the schema
  snapshots    every file in snapshots/ is a readable snapshot
  permissions  directories 0700, files 0600 (not checked on Windows)
  temp-files   no temp files left by a writer that crashed
  imports      no files waiting in imports/
✓ passed, ✗ a problem, ! a warning. Exits 0 when no problem remains
(warnings do not count), 7 when one does, with a hint for each.

With --repair it fixes what it safely can, and says exactly what it did:
a damaged database is moved aside to psmc.db.corrupt-<UTC time> (never
deleted) and rebuilt from the newest snapshot that parses, with the mirror
file's values merged on top (source repair:mirror); permissions are set
with chmod; temp files older than a minute are deleted; waiting imports are
imported; the mirror is synced. Stop other programs using the store first.
Doctor never changes a value that breaks the schema, nor an invalid hand
edit of the mirror file: it tells you where they are.

Options:
  --repair   Fix what can be fixed

Examples:
  psmc doctor
  psmc doctor --repair
  psmc doctor --json
  psmc --store ~/.config/plantctl doctor --repair`;

/** The store directories the other commands would open, write store first. */
function storeDirs(ctx: Context): string[] {
  const g = ctx.global;
  if (g.store !== undefined) {
    if (g.project !== undefined) {
      throw usageError(
        '--store and --project cannot be used together.',
        '--store names the one store to use; drop one of them.',
      );
    }
    return [resolve(ctx.cwd, g.store)];
  }
  const app = g.app ?? 'psmc';
  assertAppName(app);
  const dirs: string[] = [];
  if (g.project !== undefined) dirs.push(join(resolve(ctx.cwd, g.project), PROJECT_DIR));
  else {
    const found = findProjectStore(ctx.cwd);
    if (found !== undefined) dirs.push(found);
  }
  const home = ctx.env[`${prefixFromApp(app)}_HOME`];
  dirs.push(home !== undefined && home !== '' ? resolve(ctx.cwd, home) : userStoreDir(app, currentPlatform(ctx.env)));
  return dirs;
}

function mark(f: Finding): string {
  if (f.ok) return '✓';
  if (f.repaired === true) return '✓';
  return f.severity === 'error' ? '✗' : '!';
}

function print(ctx: Context, report: DoctorReport): void {
  const width = Math.max(...report.findings.map((f) => f.check.length));
  for (const dir of report.stores) {
    ctx.out(`Store ${dir}`);
    for (const f of report.findings.filter((x) => x.store === dir)) {
      const fixed = f.repaired === true ? ' (repaired)' : f.repaired === false ? ' (not repaired)' : '';
      ctx.out(`  ${mark(f)} ${f.check.padEnd(width)}  ${f.message}${fixed}`);
      if (!f.ok && f.repaired !== true && f.hint !== '') ctx.out(`    ${' '.repeat(width)}  hint: ${f.hint}`);
    }
  }
  if (report.actions.length > 0) {
    ctx.out('');
    ctx.out('Repairs:');
    for (const a of report.actions) ctx.out(`  - ${a}`);
  }
  const problems = report.findings.filter((f) => !f.ok && f.repaired !== true && f.severity === 'error').length;
  const warnings = report.findings.filter((f) => !f.ok && f.repaired !== true && f.severity === 'warning').length;
  ctx.out('');
  if (problems === 0) {
    ctx.out(`Healthy${warnings === 0 ? '.' : ` (${warnings} warning${warnings === 1 ? '' : 's'}).`}`);
  } else {
    const fix = report.findings.some((f) => !f.ok && f.repaired === undefined)
      ? ' Run `psmc doctor --repair` to fix what can be fixed.'
      : '';
    ctx.out(`${problems} problem${problems === 1 ? '' : 's'} remain${problems === 1 ? 's' : ''}.${fix}`);
  }
}

export async function run(ctx: Context): Promise<number> {
  const repair = flag(ctx, 'repair');
  const dirs = storeDirs(ctx);
  const { runDoctor } = await import('../../doctor/index.js');
  const report = runDoctor(dirs, { repair, source: sourceGiven(ctx) ? writeSource(ctx) : 'doctor' });
  if (ctx.global.json) ctx.json(report);
  else print(ctx, report);
  return report.healthy ? 0 : 7;
}
