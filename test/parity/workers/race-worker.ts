/**
 * TypeScript worker of the three-language race (test/parity/race.test.ts), using the library.
 *
 *   node dist/test/parity/workers/race-worker.js <storeDir> <count> [key]
 *
 * Protocol (the same for the Python and Rust workers): open the store, print `{"type":"ready"}`
 * on stdout, wait for one line on stdin (the start signal, so every worker starts together), do
 * `count` read-modify-write increments of `key` (default `counter`) with compare-and-set,
 * retrying on PSMC_CONFLICT and PSMC_BUSY, then print
 * `{"type":"done","successes","conflicts","busy","errors"}` and exit 0. Any other error stops the
 * loop and is reported, never retried. Writes use the library's default source (`api`).
 */
import { createInterface } from 'node:readline';
import { isPsmcError, openStore } from '../../../src/index.js';

const [dir, countText, key = 'counter'] = process.argv.slice(2);
const count = Number(countText);
if (dir === undefined || !Number.isSafeInteger(count) || count < 0) {
  process.stderr.write('usage: race-worker.js <storeDir> <count> [key]\n');
  process.exit(2);
}

function describe(e: unknown): string {
  if (isPsmcError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

const store = openStore({ dir, env: {} });
process.stdout.write(JSON.stringify({ type: 'ready', pid: process.pid }) + '\n');

const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  lines.close();
  let successes = 0;
  let conflicts = 0;
  let busy = 0;
  const errors: string[] = [];
  while (successes < count && errors.length === 0) {
    try {
      const r = store.resolve(key);
      // An absent key (revision 0) counts as 0: the store-creation race starts from nothing.
      const value = r.value === undefined && r.revision === 0 ? 0 : r.value;
      if (typeof value !== 'number') throw new Error(`${key} is not a number: ${JSON.stringify(r.value)}`);
      store.set(key, value + 1, { expectRevision: r.revision });
      successes++;
    } catch (e) {
      if (isPsmcError(e) && e.code === 'PSMC_CONFLICT') conflicts++;
      else if (isPsmcError(e) && e.code === 'PSMC_BUSY') busy++;
      else errors.push(describe(e));
    }
  }
  try {
    store.close(); // flushes the mirror export
  } catch (e) {
    errors.push(describe(e));
  }
  process.stdout.write(JSON.stringify({ type: 'done', successes, conflicts, busy, errors }) + '\n', () =>
    process.exit(0),
  );
});
