/** psmc history: recorded changes, newest first. */
import type { ChangeRecord } from '../../core/change.js';
import { flag, intOption, usageError, type CommandSpec, type Context } from '../context.js';
import { inlineValue, shortTime, table } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = {
  args: ['[key]'],
  options: { prefix: { type: 'boolean' }, limit: { type: 'string' }, since: { type: 'string' } },
};

export const usage = `Usage: psmc history [key] [--prefix] [--limit <n>] [--since <revision>]

Lists the recorded changes of the store that receives writes, newest first:
revision, time (UTC), source, key, operation, and old → new value. A schema
change shows as key @schema. With a key, only its changes; with --prefix,
also those of the keys under it. With --json, prints an array of change
records ({revision, seq, key, op, oldValue, newValue, source, at, note});
an absent oldValue/newValue means the key did not exist.

Options:
  --prefix             With <key>: include the keys under it (display → display.units)
  --limit <n>          At most <n> changes
  --since <revision>   Only changes after <revision>

Examples:
  psmc history
  psmc history display.units
  psmc history display --prefix --limit 20
  psmc history --since 41 --json`;

function change(r: ChangeRecord): string {
  const text = `${inlineValue(r.oldValue, 40)} → ${inlineValue(r.newValue, 40)}`;
  return r.note === undefined ? text : `${text}  (${r.note})`;
}

export async function run(ctx: Context): Promise<number> {
  const key = ctx.args[0];
  const prefix = flag(ctx, 'prefix');
  if (prefix && key === undefined)
    throw usageError(
      '--prefix needs a key to use as the prefix.',
      'Write psmc history <prefix> --prefix, e.g. psmc history display --prefix.',
    );
  const limit = intOption(ctx, 'limit', 1, 'Give how many changes to show, e.g. --limit 20.');
  const since = intOption(ctx, 'since', 0, 'Give a revision from `psmc history`, e.g. --since 41.');
  const records = await withStore(ctx, (store) =>
    store.history(key, {
      prefix,
      ...(limit === undefined ? {} : { limit }),
      ...(since === undefined ? {} : { sinceRevision: since }),
    }),
  );
  if (ctx.global.json) {
    ctx.json(records);
    return 0;
  }
  if (records.length === 0) {
    ctx.note(key === undefined ? 'No changes are recorded.' : `No changes are recorded for ${key}.`);
    return 0;
  }
  const rows = records.map((r) => [String(r.revision), shortTime(r.at), r.source, r.key, r.op, change(r)]);
  for (const l of table(['REV', 'TIME (UTC)', 'SOURCE', 'KEY', 'OP', 'CHANGE'], rows)) ctx.out(l);
  return 0;
}
