/** psmc explain: every layer's value for a key, and which one wins and why. */
import { arg, type CommandSpec, type Context } from '../context.js';
import { inlineValue, shortTime, table } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['<key>'], options: {} };

export const usage = `Usage: psmc explain <key>

Shows, highest first, what every layer holds for <key>: process overrides,
the environment variable (PSMC_<KEY> with . written as __), the project
store, the user store, defaults. The winning layer is marked with *, and a
last line says why it wins. An environment variable that does not parse is
shown with its error. With --json, prints the whole explanation object.

Examples:
  psmc explain display.units
  PSMC_DISPLAY__UNITS=imperial psmc explain display.units
  psmc explain display.units --json`;

export async function run(ctx: Context): Promise<number> {
  const key = arg(ctx, 0);
  const e = await withStore(ctx, (store) => store.explain(key));
  if (ctx.global.json) {
    ctx.json(e);
    return 0;
  }
  ctx.out(key);
  const rows = e.layers.map((l) => {
    const won = e.layer === l.layer && (l.present || l.error !== undefined);
    const value = l.error !== undefined ? `(error: ${l.error.code})` : l.present ? inlineValue(l.value, 50) : '-';
    const meta = [l.origin];
    if (l.revision !== undefined) meta.push(`revision ${l.revision}`);
    if (l.source !== undefined && l.layer !== 'env') meta.push(`by ${l.source}`);
    if (l.updatedAt !== undefined) meta.push(shortTime(l.updatedAt));
    return [won ? '*' : ' ', l.layer, value, meta.join(', ')];
  });
  for (const line of table(['', 'LAYER', 'VALUE', 'WHERE'], rows)) ctx.out(`  ${line}`);
  for (const l of e.layers) if (l.error !== undefined) ctx.out(`  ${l.layer}: ${l.error.message}`);
  ctx.out(e.reason);
  return 0;
}
