/** psmc unset: remove a key from the store. */
import { arg, intOption, type CommandSpec, type Context } from '../context.js';
import { inlineValue } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = {
  args: ['<key>'],
  options: { 'expect-revision': { type: 'string' } },
};

export const usage = `Usage: psmc unset <key> [--expect-revision <n>]

Removes <key> from the store that receives writes (recorded in history, so
\`psmc undo\` brings it back). A key that is not set there is left alone.
Other layers (env, the user store under a project store, defaults) may
still give the key a value: \`psmc explain <key>\` shows them.

With --expect-revision <n>, fails with PSMC_CONFLICT (exit 4) unless the key
is still at revision <n>.

Options:
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc unset display.units
  psmc unset display.units --expect-revision 7
  psmc unset display.units --json`;

export async function run(ctx: Context): Promise<number> {
  const key = arg(ctx, 0);
  const expectRevision = intOption(ctx, 'expect-revision', 0, 'Pass the revision shown by `psmc get <key> --json`.');
  return withStore(ctx, (store) => {
    const commit = store.delete(key, expectRevision === undefined ? {} : { expectRevision });
    const removed = commit.changes[0];
    if (ctx.global.json) {
      ctx.json({
        key,
        changed: removed !== undefined,
        revision: commit.revision,
        at: commit.at,
        changes: commit.changes,
      });
    } else if (removed !== undefined) {
      ctx.out(`Unset ${key} (was ${inlineValue(removed.oldValue, 200)}; revision ${commit.revision})`);
    } else {
      ctx.out(`${key} is not set in the ${store.info.writeLayer} store; nothing changed`);
    }
    const r = store.explain(key);
    if (r.found && r.layer !== undefined)
      ctx.note(
        `note: ${key} still resolves to ${inlineValue(r.value)} from the ${r.layer} layer (see psmc explain ${key})`,
      );
    return 0;
  });
}
