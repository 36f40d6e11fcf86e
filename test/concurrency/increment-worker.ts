/**
 * Worker process for test/concurrency/increment.test.ts. Forked with an IPC
 * channel: it opens the store, says { type: 'ready' }, waits for 'go' (so all
 * workers start together), does its work and replies with a report.
 *
 * Modes (argv):
 *   increment <storeDir> <count>
 *     `count` read-modify-write increments of `counter` with compare-and-set,
 *     retrying only on PSMC_CONFLICT. Any other error is reported, not retried.
 *   batch <storeDir> <worker> <batches>
 *     `batches` batch() writes of 5 distinct keys each: `w<worker>.b<i>.k<j>`
 *     = worker * 1_000_000 + i * 10 + j.
 *
 * Report: { type: 'done', successes, conflicts, errors: string[] }.
 */
import { isPsmcError, openStore } from '../../src/index.js';

const [mode, dir, ...rest] = process.argv.slice(2);
if (process.send === undefined || dir === undefined || (mode !== 'increment' && mode !== 'batch')) {
  console.error(
    'usage (forked with IPC): increment-worker.js increment <dir> <count> | batch <dir> <worker> <batches>',
  );
  process.exit(2);
}
const send = process.send.bind(process);
const store = openStore({ dir, env: {}, source: `test-worker-${process.pid}` });

function describe(e: unknown): string {
  if (isPsmcError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

function increment(count: number): { successes: number; conflicts: number; errors: string[] } {
  let successes = 0;
  let conflicts = 0;
  const errors: string[] = [];
  while (successes < count && errors.length === 0) {
    try {
      const r = store.resolve('counter');
      if (typeof r.value !== 'number') throw new Error(`counter is not a number: ${JSON.stringify(r.value)}`);
      store.set('counter', r.value + 1, { expectRevision: r.revision });
      successes++;
    } catch (e) {
      if (isPsmcError(e) && e.code === 'PSMC_CONFLICT') {
        conflicts++;
        continue;
      }
      errors.push(describe(e));
    }
  }
  return { successes, conflicts, errors };
}

function batches(worker: number, count: number): { successes: number; conflicts: number; errors: string[] } {
  let successes = 0;
  const errors: string[] = [];
  for (let i = 0; i < count && errors.length === 0; i++) {
    const changes = [0, 1, 2, 3, 4].map((j) => ({
      op: 'set' as const,
      key: `w${worker}.b${i}.k${j}`,
      value: worker * 1_000_000 + i * 10 + j,
    }));
    try {
      store.batch(changes);
      successes++;
    } catch (e) {
      errors.push(describe(e));
    }
  }
  return { successes, conflicts: 0, errors };
}

process.on('message', (m: unknown) => {
  if (m !== 'go') return;
  let report: { successes: number; conflicts: number; errors: string[] };
  try {
    report = mode === 'increment' ? increment(Number(rest[0])) : batches(Number(rest[0]), Number(rest[1]));
  } catch (e) {
    report = { successes: 0, conflicts: 0, errors: [describe(e)] };
  }
  store.close();
  send({ type: 'done', ...report }, () => process.exit(0));
});
send({ type: 'ready' });
