/** psmc edit: open the plaintext mirror file in $VISUAL / $EDITOR, then merge the saved edit. */
import { spawnSync } from 'node:child_process';
import { PsmcError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import { usageError, type CommandSpec, type Context } from '../context.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: [], options: {} };

export const usage = `Usage: psmc edit

Opens the plaintext mirror of the store that receives writes (config.json,
.toml or .yaml in the store directory) in your editor: $VISUAL, else $EDITOR,
else vi. The variable may hold arguments, split on spaces (e.g.
EDITOR="code --wait"; quote a path with spaces). The mirror is brought up to
date first; when the editor exits, the saved file is merged into the store
(a 3-way merge with changes made meanwhile by others, source "file") and psmc
says how many keys changed.

An invalid edit (a syntax error, an illegal key or value, a value the schema
refuses) is not applied and the file is left exactly as you saved it: psmc
prints file:line:column, what is wrong and how to fix it, and exits 5. Run
\`psmc edit\` again to fix it. A store that does not exist yet is created.

Examples:
  psmc edit
  EDITOR=nano psmc edit
  VISUAL="code --wait" psmc --project . edit`;

/** Splits an editor command like a shell would for simple cases: spaces, '…', "…" and \\. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && (text[i + 1] === '"' || text[i + 1] === '\\')) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && process.platform !== 'win32' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (has || cur !== '') out.push(cur);
  return out;
}

function editorCommand(env: Readonly<Record<string, string | undefined>>): { text: string; from: string } {
  for (const name of ['VISUAL', 'EDITOR']) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') return { text: v, from: `$${name}` };
  }
  return { text: process.platform === 'win32' ? 'notepad' : 'vi', from: 'the default editor' };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Syncs until the file is settled (an editor may still be closing it), at most ~3 s. */
function settle(store: Store): void {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = store.syncMirror();
    if (r.retryInMs === undefined || Date.now() > deadline) return;
    sleepMs(Math.min(r.retryInMs, 250));
  }
}

function runEditor(ctx: Context, file: string): void {
  const { text, from } = editorCommand(ctx.env);
  const parts = splitCommand(text);
  const cmd = parts[0];
  if (cmd === undefined)
    throw usageError(`${from} is empty.`, 'Set $VISUAL or $EDITOR to your editor, e.g. EDITOR=nano.');
  const win = process.platform === 'win32';
  // Windows editors are often .cmd scripts (code.cmd), which only a shell can start.
  const quoted = (s: string): string => (/[\s"&|<>^]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const r = win
    ? spawnSync([...parts, file].map(quoted).join(' '), {
        stdio: 'inherit',
        env: { ...ctx.env },
        shell: true,
        cwd: ctx.cwd,
      })
    : spawnSync(cmd, [...parts.slice(1), file], { stdio: 'inherit', env: { ...ctx.env }, cwd: ctx.cwd });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw usageError(
      `Cannot start the editor ${JSON.stringify(text)} (from ${from}): ${code === 'ENOENT' ? 'command not found' : r.error.message}.`,
      'Set $VISUAL or $EDITOR to an editor on your PATH, e.g. EDITOR=nano or VISUAL="code --wait".',
    );
  }
  if (r.status !== 0) {
    ctx.note(
      `psmc: the editor exited with ${r.status === null ? `signal ${String(r.signal)}` : `status ${r.status}`}; merging the file as it is on disk.`,
    );
  }
}

export async function run(ctx: Context): Promise<number> {
  return withStore(ctx, (store) => {
    if (!store.status().exists) store.batch([]); // creates the store and its mirror file
    settle(store);
    const before = store.status();
    const m = before.mirror;
    if (m === undefined || m.state === 'off') {
      throw usageError(
        `The store at ${before.dir} keeps no plaintext mirror (it is turned off), so there is no file to edit.`,
        "Turn the mirror on from the library (store.setMirrorFormat('json')), or change values with psmc set.",
      );
    }
    if (m.state === 'invalid-edit' && m.error !== undefined) {
      ctx.note(`psmc: ${m.file} still holds an invalid edit from before: ${m.error.message}`);
    }
    const startRevision = store.revision();
    runEditor(ctx, m.file);
    settle(store);
    const after = store.status();
    const am = after.mirror;
    if (am?.state === 'invalid-edit' && am.error !== undefined) {
      const e = am.error;
      const details = {
        file: e.file,
        ...(e.line === undefined ? {} : { line: e.line }),
        ...(e.column === undefined ? {} : { column: e.column }),
        ...(e.key === undefined ? {} : { key: e.key }),
        code: e.code,
      };
      // Always exit 5, whatever the code (a too-new header is also just a bad edit here).
      const err = new PsmcError('PSMC_PARSE', e.message, { hint: e.hint, details });
      ctx.note(`psmc: ${err.message}`);
      ctx.note(`  hint: ${err.hint}`);
      if (ctx.global.json) ctx.json({ error: { code: e.code, message: e.message, hint: e.hint, details } });
      return 5;
    }
    // Applied hand edits have source "file"; conflict records (only mirror imports make them) keep the loser's source.
    const changes = store
      .history(undefined, { sinceRevision: startRevision })
      .filter((c) => c.source === 'file' || c.op === 'conflict');
    const applied = changes.filter((c) => c.op !== 'conflict');
    const conflicts = changes.length - applied.length;
    const revision = store.revision();
    if (ctx.global.json) {
      ctx.json({ file: am?.file ?? m.file, imported: applied.length, conflicts, revision, changes });
      return 0;
    }
    if (applied.length === 0 && conflicts === 0) ctx.out(`No changes (revision ${revision}).`);
    else {
      ctx.out(
        `Imported ${applied.length} change${applied.length === 1 ? '' : 's'} from ${am?.file ?? m.file} (revision ${revision}).`,
      );
    }
    if (conflicts > 0) {
      ctx.note(
        `note: ${conflicts} key${conflicts === 1 ? '' : 's'} changed meanwhile elsewhere too; the later change won and the other value is kept in history (psmc history).`,
      );
    }
    return 0;
  });
}
