/**
 * Worker process for the watch tests, forked with an IPC channel. It opens the
 * store, says { type: 'ready' }, waits for 'go', works, and says
 * { type: 'done', ... } before exiting 0.
 *
 * Modes (argv):
 *   set <storeDir> <worker> <count>
 *     `count` sets of `w<worker>.k<j>` = j (one revision each).
 *   watch <storeDir> <since> <until> <outFile>
 *     A Watcher from revision <since>; appends `revision seq key` of every event
 *     to <outFile>, one per line, until it has scanned revision <until>.
 *     It is ready (and the test may start writing) once the Watcher exists.
 *
 * Run without arguments (as `node --test dist/test/watch/` does with every
 * file of the folder), it does nothing and exits 0.
 */
import { appendFileSync } from 'node:fs';
import { openStore } from '../../src/index.js';
import { Watcher } from '../../src/watch/watcher.js';
import { watchHostOf } from '../../src/watch/host.js';

const [mode, dir, ...rest] = process.argv.slice(2);
const send = process.send?.bind(process);

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

if (mode !== undefined && dir !== undefined && send !== undefined) {
  const store = openStore({ dir, env: {}, source: `watch-worker-${process.pid}` });
  if (mode === 'set') {
    const worker = Number(rest[0]);
    const count = Number(rest[1]);
    process.on('message', (m: unknown) => {
      if (m !== 'go') return;
      const errors: string[] = [];
      for (let j = 0; j < count && errors.length === 0; j++) {
        try {
          store.set(`w${worker}.k${j}`, j);
        } catch (e) {
          errors.push(describe(e));
        }
      }
      store.close();
      send({ type: 'done', errors }, () => process.exit(0));
    });
    send({ type: 'ready' });
  } else if (mode === 'watch') {
    const since = Number(rest[0]);
    const until = Number(rest[1]);
    const out = rest[2] ?? '';
    const errors: string[] = [];
    const w = new Watcher(watchHostOf(store), { since, onError: (e) => errors.push(describe(e)) }, (e) => {
      appendFileSync(out, `${e.revision} ${e.seq} ${e.key}\n`);
      if (e.revision >= until) {
        w.close();
        // Inside the callback `revision` is still the previous whole revision; it becomes e.revision on return.
        setImmediate(() => {
          store.close();
          send({ type: 'done', errors, revision: w.revision }, () => process.exit(0));
        });
      }
    });
    send({ type: 'ready' });
  } else {
    console.error(`watch worker: unknown mode ${mode}`);
    process.exit(2);
  }
}
