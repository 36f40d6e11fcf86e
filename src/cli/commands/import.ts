/** psmc import: merge a JSON document into the store as one change. */
import { basename } from 'node:path';
import { arg, flag, type CommandSpec, type Context } from '../context.js';
import { readInput } from '../files.js';
import { parseJsonText } from '../json-text.js';
import { sourceGiven, withStore, writeSource } from '../open.js';

export const spec: CommandSpec = { args: ['<file>'], options: { replace: { type: 'boolean' } } };

export const usage = `Usage: psmc import <file|-> [--replace]

Merges a JSON document into the store that receives writes, as one batch
(one revision, all or nothing). The document is either what \`psmc export\`
writes, or a flat object of dotted key → value:
  {"display.units": "metric", "retries": 3}
Keys not in the document are kept, unless --replace is given, which deletes
them. Use - to read from stdin. The changes are recorded with source
import:<file name> unless --source (or PSMC_SOURCE) says otherwise.

A file that is not valid JSON is refused with its line and column (exit 5),
and a bad key or value anywhere refuses the whole file: the store is unchanged.

Options:
  --replace   Make the store hold exactly the document's keys

Examples:
  psmc import backup.json
  psmc import backup.json --replace
  echo '{"display.units":"metric"}' | psmc import -
  psmc export --store a | psmc import - --store b`;

export async function run(ctx: Context): Promise<number> {
  const file = arg(ctx, 0);
  const replace = flag(ctx, 'replace');
  const { text, name } = await readInput(ctx, file);
  const doc = parseJsonText(text, name, 'The import file');
  const source = sourceGiven(ctx) ? writeSource(ctx) : `import:${file === '-' ? 'stdin' : basename(file)}`;
  const commit = await withStore(ctx, (store) =>
    store.importData(doc, { replace, source, ...(file === '-' ? {} : { file: name }) }),
  );
  if (ctx.global.json) {
    ctx.json({
      file: name,
      changed: commit.changes.length,
      revision: commit.revision,
      at: commit.at,
      changes: commit.changes,
    });
    return 0;
  }
  const n = commit.changes.length;
  if (n === 0) ctx.out(`Imported ${name}: nothing changed (store revision ${commit.revision})`);
  else {
    const deleted = commit.changes.filter((c) => c.op === 'delete').length;
    ctx.out(
      `Imported ${name}: ${n - deleted} key${n - deleted === 1 ? '' : 's'} set, ${deleted} deleted (revision ${commit.revision})`,
    );
  }
  return 0;
}
