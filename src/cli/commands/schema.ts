/** psmc schema: show, set or clear the store's JSON Schema. */
import type { SchemaDocument } from '../../core/schema.js';
import { arg, usageError, type CommandSpec, type Context } from '../context.js';
import { readInput } from '../files.js';
import { parseJsonText } from '../json-text.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['<action>', '[file]'], options: {} };

export const usage = `Usage: psmc schema get | set <file|-> | clear

The JSON Schema of the store that receives writes: it is enforced on every
write, from every entry point.
  get           Print the schema (JSON), or say there is none (--json: null)
  set <file>    Replace the schema with the one in <file> (- for stdin). It is
                refused, changing nothing, when a stored value does not satisfy it
  clear         Remove the schema
Setting or clearing is recorded in history (key @schema) and can be undone.

Examples:
  psmc schema get
  psmc schema set schema.json
  psmc schema clear`;

const ACTIONS = ['get', 'set', 'clear'];

export async function run(ctx: Context): Promise<number> {
  const action = arg(ctx, 0);
  const file = ctx.args[1];
  if (!ACTIONS.includes(action)) {
    throw usageError(
      `Unknown schema action ${JSON.stringify(action)}.`,
      `Use one of: psmc schema get, psmc schema set <file>, psmc schema clear.`,
    );
  }
  if (action === 'set' && file === undefined)
    throw usageError('psmc schema set needs <file>.', 'Write psmc schema set schema.json (or - for stdin).');
  if (action !== 'set' && file !== undefined)
    throw usageError(`psmc schema ${action} takes no file; unexpected ${JSON.stringify(file)}.`, ctx.usageLine);

  if (action === 'get') {
    const doc = await withStore(ctx, (store) => store.schema());
    if (doc !== undefined) ctx.json(doc);
    else if (ctx.global.json) ctx.json(null);
    else ctx.out('No schema is set.');
    return 0;
  }
  let doc: SchemaDocument | undefined;
  if (action === 'set' && file !== undefined) {
    const { text, name } = await readInput(ctx, file);
    doc = parseJsonText(text, name, 'The schema file') as SchemaDocument;
  }
  const commit = await withStore(ctx, (store) => store.setSchema(doc));
  if (ctx.global.json)
    ctx.json({ changed: commit.changes.length > 0, revision: commit.revision, at: commit.at, changes: commit.changes });
  else if (commit.changes.length === 0)
    ctx.out(
      `The schema is already ${doc === undefined ? 'clear' : 'that'}; nothing changed (store revision ${commit.revision})`,
    );
  else ctx.out(`${doc === undefined ? 'Cleared the schema' : 'Set the schema'} (revision ${commit.revision})`);
  return 0;
}
