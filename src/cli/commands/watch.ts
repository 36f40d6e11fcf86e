/** psmc watch: stream the store's changes as lines until interrupted. */
import type { ChangeRecord } from '../../core/change.js';
import { normalizePrefix } from '../../core/keys.js';
import { intOption, type CommandSpec, type Context } from '../context.js';
import { inlineValue } from '../format.js';
import { openCliStore } from '../open.js';

export const spec: CommandSpec = {
  args: ['[prefix]'],
  options: { since: { type: 'string' } },
};

export const usage = `Usage: psmc watch [prefix] [--since <revision>]

Prints each change of the store that receives writes as it is committed, by
any process in any language or by a hand edit of the mirror file, one line
per change, in revision order, until Ctrl-C (SIGINT) or SIGTERM; then exits 0.
With a prefix, only the keys under it (schema changes are shown only without
a prefix). Starts with the changes after the current revision, or after
--since <revision> (--since 0 replays the whole history first).

A line: revision, time (UTC), source, key, old → new value, e.g.
  r12 2026-11-26T04:03:25.146Z cli  display.units  "metric" → "imperial"
With --json, one compact JSON object per line (JSON Lines):
{revision, seq, key, op, oldValue, newValue, source, at, note}; an absent
oldValue/newValue means the key did not exist. Notes go to stderr.

Options:
  --since <revision>   Start after <revision> (default: the current revision)

Examples:
  psmc watch
  psmc watch display
  psmc watch --since 0 --json
  psmc watch display --since 41 --json | jq .newValue`;

/** The human line of one change. */
export function formatChange(r: ChangeRecord): string {
  const time = r.at.replace(/-\d+$/, ''); // the HLC without its tie-break counter
  let text = `r${r.revision} ${time} ${r.source}  ${r.key}  ${inlineValue(r.oldValue, 60)} → ${inlineValue(r.newValue, 60)}`;
  if (r.op === 'conflict') text += '  [conflict: the old value lost]';
  if (r.note !== undefined) text += `  (${r.note})`;
  return text;
}

export async function run(ctx: Context): Promise<number> {
  const prefixArg = ctx.args[0];
  const prefix = normalizePrefix(prefixArg);
  const since = intOption(ctx, 'since', 0, 'Give a revision from `psmc history` or `psmc revision`, e.g. --since 41.');
  const json = ctx.global.json;
  const store = await openCliStore(ctx);
  const { Watcher } = await import('../../watch/watcher.js');
  const { watchDirOf, watchHostOf } = await import('../../watch/host.js');
  let watcher: InstanceType<typeof Watcher> | undefined;
  try {
    watcher = new Watcher(
      watchHostOf(store),
      {
        ...(since === undefined ? {} : { since }),
        ...(prefix === '' ? {} : { prefix }),
        onError: (e) => ctx.note(`psmc watch: ${e instanceof Error ? e.message : String(e)}`),
      },
      (r) => ctx.out(json ? JSON.stringify(r) : formatChange(r)),
    );
    ctx.note(
      `Watching ${watchDirOf(store)}${prefix === '' ? '' : ` (keys under ${prefix})`} after revision ${watcher.revision}. Press Ctrl-C to stop.`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  } finally {
    watcher?.close();
    store.close();
  }
}
