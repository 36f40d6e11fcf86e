/** psmc mirror: show the plaintext mirror's format, or switch it (json, toml, yaml, off). */
import { existsSync } from 'node:fs';
import { usageError, type CommandSpec, type Context } from '../context.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['[format]'], options: {} };

export const usage = `Usage: psmc mirror [json|toml|yaml|off]

Without a format, prints the format of the store's plaintext mirror file and
where it is. With one, switches the store's mirror to it:

  json   config.json, JSON with comments (the default)
  toml   config.toml
  yaml   config.yaml
  off    no mirror file: nothing is exported or imported any more

The setting is kept in the store, so every process and language follows it.
A pending hand edit of the current file is merged first. The new file is
written at once from the database; the old file is left where it is (delete
it when you no longer want it). A file of the new format that was already
there is kept aside as <file>.old-<time>, never overwritten.

With --json: {"format","file","exists"} without a format; when switching,
{"format","file","changed","previous":{"format","file"}}.

Examples:
  psmc mirror
  psmc mirror toml
  psmc --project . mirror yaml --json
  psmc mirror off`;

const FORMATS = ['json', 'toml', 'yaml', 'off'] as const;
type Format = (typeof FORMATS)[number];

function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

export async function run(ctx: Context): Promise<number> {
  const wanted = ctx.args[0];
  if (wanted !== undefined && !isFormat(wanted)) {
    throw usageError(
      `unknown mirror format ${JSON.stringify(wanted)}.`,
      'Use one of: json (config.json), toml (config.toml), yaml (config.yaml), or off.',
    );
  }
  return withStore(ctx, (store) => {
    const before = store.status();
    if (wanted === undefined) {
      const m = before.mirror;
      if (ctx.global.json) ctx.json({ format: m?.format ?? 'json', file: m?.file ?? null, exists: before.exists });
      else if (m === undefined)
        ctx.out('json (the default; the store does not exist yet: the first write creates it and its config.json)');
      else if (m.format === 'off') ctx.out('off (this store keeps no plaintext mirror file)');
      else ctx.out(`${m.format} ${m.file}`);
      return 0;
    }
    const previous = before.mirror;
    // Switching to the format in use would set the live file aside and write a fresh one,
    // dropping its comments from view: the same format is a no-op.
    const same = previous !== undefined && previous.format === wanted;
    if (!same) store.setMirrorFormat(wanted);
    const after = store.status().mirror;
    const file = wanted === 'off' ? null : (after?.file ?? null);
    if (ctx.global.json) {
      ctx.json({
        format: wanted,
        file,
        changed: !same,
        previous: { format: previous?.format ?? 'json', file: previous?.file ?? null },
      });
      return 0;
    }
    if (same) {
      ctx.out(`The mirror is already ${wanted}${file === null ? '' : ` (${file})`}; nothing changed.`);
      return 0;
    }
    ctx.out(wanted === 'off' ? 'The mirror is off: no file is kept in step any more.' : `The mirror is now ${file}.`);
    const old = previous?.format === 'off' ? undefined : previous?.file;
    if (old !== undefined && old !== file && existsSync(old)) {
      ctx.note(`The old file ${old} was left in place, no longer kept in step; delete it when you no longer need it.`);
    }
    return 0;
  });
}
