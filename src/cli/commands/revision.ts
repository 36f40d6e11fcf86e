/** psmc revision: the store-wide change counter. */
import type { CommandSpec, Context } from '../context.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: [], options: {} };

export const usage = `Usage: psmc revision

Prints the revision of the store that receives writes: a counter that every
recorded change increases by one (0 for a store never written).

Examples:
  psmc revision
  psmc revision --json
  psmc history --since "$(psmc revision)"   # later: what changed since`;

export async function run(ctx: Context): Promise<number> {
  const revision = await withStore(ctx, (store) => store.revision());
  if (ctx.global.json) ctx.json({ revision });
  else ctx.out(String(revision));
  return 0;
}
