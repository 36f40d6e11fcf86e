/** psmc export: the whole store as a JSON document. */
import { stringOption, type CommandSpec, type Context } from '../context.js';
import { writeFileAtomic } from '../files.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: [], options: { output: { type: 'string', short: 'o' } } };

export const usage = `Usage: psmc export [--output <file>]

Writes every key of the store that receives writes, with its metadata and
the store's schema, as a pretty JSON document:
  {"format":"psmc-export","version":1,"revision":N,"entries":{key:{value,type,revision,updatedAt,source}},"schema":{…}}
to stdout, or to <file> (written atomically, mode 0600). \`psmc import\` reads it back.
Only the store itself is exported: env variables and defaults are not.

Options:
  -o, --output <file>   Write to <file> instead of stdout

Examples:
  psmc export > backup.json
  psmc export --output backup.json
  psmc --app plantctl export -o plantctl-config.json`;

export async function run(ctx: Context): Promise<number> {
  const output = stringOption(ctx, 'output');
  const doc = await withStore(ctx, (store) => store.exportData());
  const text = JSON.stringify(doc, null, 2) + '\n';
  if (output === undefined) {
    ctx.out(text.slice(0, -1));
    return 0;
  }
  const path = writeFileAtomic(ctx, output, text);
  const keys = Object.keys(doc.entries).length;
  if (ctx.global.json) ctx.json({ file: path, revision: doc.revision, keys });
  else ctx.out(`Exported ${keys} key${keys === 1 ? '' : 's'} at revision ${doc.revision} to ${path}`);
  return 0;
}
