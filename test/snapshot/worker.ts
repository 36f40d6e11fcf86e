// Child processes for test/snapshot/concurrency.test.ts. Does nothing when run without arguments
// (Node 20's `node --test <dir>` runs every .js file of a directory, this one included).
import { openStore } from '../../src/store/store.js';
import { createSnapshot } from '../../src/snapshot/index.js';

const [mode, dir, countText] = process.argv.slice(2);
if (mode === 'writer' && dir !== undefined) {
  // Writes batches that keep a === b, until `count` revisions are written.
  const store = openStore({ dir, env: {}, source: 'writer', durability: 'normal' });
  const count = Number(countText ?? '200');
  for (let i = 1; i <= count; i++) {
    const changes = [
      { op: 'set' as const, key: 'pair.a', value: i },
      { op: 'set' as const, key: 'pair.b', value: i },
      i % 3 === 0
        ? { op: 'delete' as const, key: `k${i % 7}` }
        : { op: 'set' as const, key: `k${i % 7}`, value: { i } },
    ];
    store.batch(changes);
  }
  store.close();
} else if (mode === 'snapshotter' && dir !== undefined) {
  // Takes snapshots in a loop until killed; prints a line after each.
  const store = openStore({ dir, env: {}, source: 'snapshotter' });
  for (let i = 0; ; i++) {
    createSnapshot(store, { name: `s${process.pid}-${i}` });
    process.stdout.write(`${i}\n`);
  }
}
