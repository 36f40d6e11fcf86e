/**
 * A writer process for the change-feed tests: opens the store and commits,
 * then exits 0. Started with `node writer.js <storeDir> <count> <mode>`:
 *   burst  `count` sets of `burst.k<j>` = j, as fast as it can (one revision each);
 *   mixed  `count` commits, every third one a batch of three keys (one revision,
 *          three changes), with a few milliseconds between commits;
 *   split  `count` commits mixing keys under `in`, `out` and `inx` (a prefix
 *          test: `in` must not match `inx`), batches whose last change is
 *          under `in` or not, with a few milliseconds between commits.
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
  } else if (mode === 'split') {
    for (let j = 0; j < count; j++) {
      if (j % 4 === 0)
        store.batch([
          { op: 'set', key: `in.a${j}`, value: j },
          { op: 'set', key: `out.b${j}`, value: j },
          { op: 'set', key: `in.c${j}`, value: j },
        ]);
      else if (j % 4 === 1)
        store.batch([
          { op: 'set', key: `in.d${j}`, value: j },
          { op: 'set', key: `inx.e${j}`, value: j },
          { op: 'set', key: `out.f${j}`, value: j },
        ]);
      else if (j % 4 === 2) store.set(`out.single${j % 3}`, j);
      else store.set(j % 8 === 3 ? 'in' : `in.single${j % 3}`, j);
      await sleep(3);
    }
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
