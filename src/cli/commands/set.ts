/** psmc set: write a value to the store. */
import { parseLooseValue } from '../../core/value.js';
import { arg, flag, intOption, type CommandSpec, type Context } from '../context.js';
import { inlineValue } from '../format.js';
import { withStore } from '../open.js';
import { shadowNote } from '../notes.js';

export const spec: CommandSpec = {
  args: ['<key>', '<value>'],
  options: { string: { type: 'boolean' }, 'expect-revision': { type: 'string' } },
};

export const usage = `Usage: psmc set <key> <value> [--string] [--expect-revision <n>]

Sets <key> in the store that receives writes (the project store when there is
one, else the user store), recorded in history with the --source.

<value> is parsed as JSON when it parses (1 is a number, true a boolean,
{"x":1} an object, "1" the string 1); anything else is taken as a string
(hello, metric). --string always takes it as a string.

With --expect-revision <n> the write is a compare-and-set: it succeeds only
if the key is still at revision <n> (0: the key must not exist yet), else it
fails with PSMC_CONFLICT (exit 4) and shows the current value. Take <n> from
\`psmc get <key> --json\`.

Options:
  --string                  Take <value> as a string, never as JSON
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc set display.units metric
  psmc set retries 3
  psmc set build.tag 1.0 --string
  psmc set plot.range '{"min":0,"max":10}'
  psmc set display.units imperial --expect-revision 7
  psmc set offset -- -x`;

export async function run(ctx: Context): Promise<number> {
  const key = arg(ctx, 0);
  const text = arg(ctx, 1);
  const expectRevision = intOption(
    ctx,
    'expect-revision',
    0,
    'Pass the revision shown by `psmc get <key> --json` (0 means "the key must not exist yet").',
  );
  const value = flag(ctx, 'string') ? text : parseLooseValue(text, key);
  return withStore(ctx, (store) => {
    const commit = store.set(key, value, expectRevision === undefined ? {} : { expectRevision });
    const changed = commit.changes.length > 0;
    if (ctx.global.json) {
      ctx.json({ key, value, changed, revision: commit.revision, at: commit.at, changes: commit.changes });
    } else if (changed) {
      ctx.out(`${key} = ${inlineValue(value, 200)} (revision ${commit.revision})`);
    } else {
      ctx.out(`${key} is already ${inlineValue(value, 200)}; nothing changed (store revision ${commit.revision})`);
    }
    const note = shadowNote(store, key);
    if (note !== undefined) ctx.note(note);
    return 0;
  });
}
