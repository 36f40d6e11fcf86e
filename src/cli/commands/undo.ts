/** psmc undo: revert one revision as a new, recorded change. */
import { PsmcError } from '../../core/errors.js';
import { arg, flag, usageError, type CommandSpec, type Context } from '../context.js';
import { inlineValue } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['[revision]'], options: { force: { type: 'boolean' } } };

export const usage = `Usage: psmc undo [revision] [--force]

Reverts the changes of one revision (the newest by default) as a new change,
so the undo itself is in history and can be undone. A key changed again
after that revision is not overwritten: the undo fails with PSMC_CONFLICT
(exit 4) unless --force is given. Nothing to undo exits 3.

Options:
  --force   Revert even keys that were changed again later (those later
            changes stay in history)

Examples:
  psmc undo
  psmc undo 41
  psmc undo 41 --force
  psmc history --limit 5 && psmc undo`;

export async function run(ctx: Context): Promise<number> {
  let revision: number | undefined;
  if (ctx.args[0] !== undefined) {
    const text = arg(ctx, 0);
    revision = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(revision) || revision < 1) {
      throw usageError(
        `The revision to undo must be a whole number ≥ 1, received ${JSON.stringify(text)}.`,
        'Pick a revision listed by `psmc history`, or give none to undo the newest.',
      );
    }
  }
  const force = flag(ctx, 'force');
  return withStore(ctx, (store) => {
    // Checked here, before the library opens the database for writing, so that
    // undo on a store that was never written leaves no empty store behind.
    if (store.revision() === 0) {
      throw new PsmcError(
        'PSMC_NOTHING_TO_UNDO',
        `The store has no changes to undo (${store.info.writeLayer} store ${store.info[store.info.writeLayer]?.dir ?? ''}).`,
        {
          hint: 'Nothing was ever written to this store; check --store/--app/--project if you expected one.',
        },
      );
    }
    const commit = store.undo({ force, ...(revision === undefined ? {} : { revision }) });
    if (ctx.global.json) {
      ctx.json({ undone: commit.changes[0]?.note, revision: commit.revision, at: commit.at, changes: commit.changes });
      return 0;
    }
    const note = commit.changes[0]?.note;
    if (note === undefined) {
      ctx.out(
        `Nothing changed: the store already holds the values from before ${revision === undefined ? 'the newest revision' : `revision ${revision}`} (store revision ${commit.revision}).`,
      );
      return 0;
    }
    ctx.out(`Undid ${note.replace(/^undo of /, '')} (now revision ${commit.revision}):`);
    for (const c of commit.changes) {
      ctx.out(
        c.op === 'delete'
          ? `  ${c.key}: unset (was ${inlineValue(c.oldValue)})`
          : `  ${c.key}: ${inlineValue(c.oldValue)} → ${inlineValue(c.newValue)}`,
      );
    }
    return 0;
  });
}
