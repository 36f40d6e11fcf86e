/** psmc init: create a project store. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandSpec, Context } from '../context.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = { args: ['[dir]'], options: {} };

export const usage = `Usage: psmc init [dir]

Creates a project store: a .psmc/ directory (mode 0700) in <dir>, or in the
current directory. Inside that directory and below it, psmc then reads and
writes the project store, like git finds .git/; keys it does not hold still
come from the user store. Running init again changes nothing.

Examples:
  psmc init
  psmc init ~/plants/north
  cd ~/plants/north/data && psmc set sensor.rate 10   # goes to ~/plants/north/.psmc`;

export async function run(ctx: Context): Promise<number> {
  const dir = resolve(ctx.cwd, ctx.args[0] ?? '.');
  const existed = existsSync(join(dir, '.psmc'));
  const path = await withStore(ctx, (store) => store.info.project?.dir ?? join(dir, '.psmc'), { createProjectIn: dir });
  if (ctx.global.json) ctx.json({ path, created: !existed });
  else
    ctx.out(
      existed ? `psmc project store already exists in ${path}` : `Initialized empty psmc project store in ${path}`,
    );
  return 0;
}
