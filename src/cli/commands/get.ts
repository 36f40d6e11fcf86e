/** psmc get: the resolved value of one key. */
import { PsmcError } from '../../core/errors.js';
import { parseLooseValue } from '../../core/value.js';
import { arg, stringOption, type CommandSpec, type Context } from '../context.js';
import { plainValue } from '../format.js';
import { withStore } from '../open.js';

export const spec: CommandSpec = {
  args: ['<key>'],
  options: { default: { type: 'string' } },
};

export const usage = `Usage: psmc get <key> [--default <value>]

Prints the value of <key> from the highest layer that has it (override, env,
project store, user store, default). A string is printed as is; any other
value as JSON. With --json, prints an object with key, value, found, layer,
revision, source and updatedAt.

Exits 3 (PSMC_NOT_FOUND) when no layer has the key and no --default is given.

Options:
  --default <value>   Print this when no layer has the key (parsed as JSON when
                      it parses, else taken as a string)

Examples:
  psmc get display.units
  psmc get display.units --json
  psmc get retries --default 3
  PSMC_DISPLAY__UNITS=imperial psmc get display.units`;

export async function run(ctx: Context): Promise<number> {
  const key = arg(ctx, 0);
  const fallback = stringOption(ctx, 'default');
  const r = await withStore(ctx, (store) =>
    store.resolve(key, fallback === undefined ? {} : { default: parseLooseValue(fallback, key) }),
  );
  if (!r.found) {
    throw new PsmcError('PSMC_NOT_FOUND', `The key ${JSON.stringify(key)} is not set in any layer.`, {
      hint: `Set it with \`psmc set ${key} <value>\`, give --default <value>, or see where psmc looked with \`psmc explain ${key}\`.`,
      details: { key },
    });
  }
  if (ctx.global.json) ctx.json(r);
  else ctx.out(plainValue(r.value));
  return 0;
}
