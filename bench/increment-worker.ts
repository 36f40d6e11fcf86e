/**
 * Bench worker: one process of the 4-process increment test (bench/bench.ts).
 *
 * Opens the store given on the command line, waits for the parent's "go"
 * (over the IPC channel, so all workers start together), then performs N
 * read-modify-write increments of `counter` with compare-and-set, retrying on
 * PSMC_CONFLICT. Any other error is counted, printed to stderr and the
 * increment is retried (so the run still terminates with N successes unless
 * the error repeats more than `maxErrors` times).
 *
 * argv: <storeDir> <increments> [freshnessMs]
 * Reports one IPC message: { type: 'done', successes, conflicts, retries, errors, errorMessages, elapsedMs }.
 */
import { openStore, isPsmcError } from '../src/index.js';

const [dir, countArg, freshArg] = process.argv.slice(2);
if (dir === undefined || countArg === undefined || process.send === undefined) {
  console.error('usage: (forked) increment-worker.js <storeDir> <increments> [freshnessMs]');
  process.exit(2);
}
const increments = Number(countArg);
const freshnessMs = freshArg === undefined ? undefined : Number(freshArg);
const maxErrors = 50;

const store = openStore({
  dir,
  env: {},
  source: `bench-worker-${process.pid}`,
  ...(freshnessMs === undefined ? {} : { freshnessMs }),
});

function run(): void {
  let successes = 0;
  let conflicts = 0;
  let retries = 0;
  let errors = 0;
  const errorMessages: string[] = [];
  const t0 = process.hrtime.bigint();
  while (successes < increments) {
    try {
      const r = store.resolve('counter');
      const v = typeof r.value === 'number' ? r.value : 0;
      store.set('counter', v + 1, { expectRevision: r.revision });
      successes++;
    } catch (e) {
      if (isPsmcError(e) && e.code === 'PSMC_CONFLICT') {
        conflicts++;
        retries++;
        continue;
      }
      errors++;
      retries++;
      const msg = e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
      errorMessages.push(msg);
      console.error(`[worker ${process.pid}] error: ${msg}`);
      if (errors >= maxErrors) break;
    }
  }
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  store.close();
  process.send!({ type: 'done', successes, conflicts, retries, errors, errorMessages, elapsedMs }, () =>
    process.exit(0),
  );
}

process.on('message', (m: unknown) => {
  if (m === 'go') run();
});
process.send({ type: 'ready' });
