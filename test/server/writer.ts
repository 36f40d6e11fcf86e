/**
 * A writer process for the change-feed tests: opens the store and commits,
 * then exits 0. Started with `node writer.js <storeDir> <count> <mode>`:
 *   burst  `count` sets of `burst.k<j>` = j, as fast as it can (one revision each);
 *   mixed  `count` commits, every third one a batch of three keys (one revision,
 *          three changes), with a few milliseconds between commits.
 * Run without arguments, it does nothing and exits 0.
 */
import { openStore } from '../../src/index.js';

const [dir, countText, mode] = process.argv.slice(2);

if (dir !== undefined && countText !== undefined) {
  const count = Number(countText);
  const store = openStore({ dir, env: {}, source: `writer-${process.pid}` });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  if (mode === 'burst') {
    for (let j = 0; j < count; j++) store.set(`burst.k${j}`, j);
  } else {
    for (let j = 0; j < count; j++) {
      if (j % 3 === 0)
        store.batch([
          { op: 'set', key: `mixed.a${j}`, value: j },
          { op: 'set', key: `mixed.b${j}`, value: j },
          { op: 'set', key: `mixed.c${j}`, value: j },
        ]);
      else store.set(`mixed.single${j % 5}`, j);
      await sleep(3);
    }
  }
  store.close();
}
