/** psmc list: every key with a value, optionally under a prefix. */
import type { CommandSpec, Context } from '../context.js';
import { inlineValue, table } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['[prefix]'], options: {} };

export const usage = `Usage: psmc list [prefix]

Lists every key that has a value in some layer, sorted, with its resolved
value (cut to fit), the layer it comes from and its source. With a prefix,
only keys under it: \`list display\` gives display.units but not displays.x.
With --json, prints an array of objects like \`psmc get --json\` does.

Examples:
  psmc list
  psmc list display
  psmc list --json`;

export async function run(ctx: Context): Promise<number> {
  const prefix = ctx.args[0];
  const rows = await withStore(ctx, (store) => store.list(prefix));
  if (ctx.global.json) {
    ctx.json(rows);
    return 0;
  }
  if (rows.length === 0) {
    ctx.note(prefix === undefined ? 'No keys are set.' : `No keys are set under ${prefix}.`);
    return 0;
  }
  const lines = table(
    ['KEY', 'VALUE', 'LAYER', 'SOURCE'],
    rows.map((r) => [r.key, inlineValue(r.value, 50), r.layer ?? '', r.source ?? '']),
  );
  for (const l of lines) ctx.out(l);
  return 0;
}
