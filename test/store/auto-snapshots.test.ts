/**
 * The Store's periodic automatic snapshot (spec/sections/snapshots.md
 * §snapshot.auto) on real SQLite files: the settings kept in the store, one
 * `every-changes` snapshot every `every` revisions taken after the commit
 * (never inside set()), a burst coalesced into one, the pending one taken at
 * close(), rotation to `keep`, and `every: 0` turning it off.
 *
 * Every test gets its own temp directory and reads no real environment.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { openStore, type Store } from '../../src/index.js';

function fresh(t: TestContext): { dir: string; store: Store } {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-auto-'));
  const store = openStore({ dir, env: {}, source: 'test' });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store };
}

/** The snapshot files' names, sorted (none when the folder does not exist yet). */
function files(dir: string): string[] {
  const d = join(dir, 'snapshots');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

test('the settings are kept in the store: defaults first, then what was set, seen by another handle', (t) => {
  const { dir, store } = fresh(t);
  assert.deepEqual(store.snapshotSettings(), { keep: 20, every: 100 });
  assert.deepEqual(store.setSnapshotSettings({ every: 3 }), { keep: 20, every: 3 });
  assert.deepEqual(store.setSnapshotSettings({ keep: 2 }), { keep: 2, every: 3 });
  const other = openStore({ dir, env: {}, mirror: false });
  t.after(() => other.close());
  assert.deepEqual(other.snapshotSettings(), { keep: 2, every: 3 });
  assert.throws(() => store.setSnapshotSettings({ keep: 0 }), RangeError);
  assert.throws(() => store.setSnapshotSettings({ every: -1 }), RangeError);
  assert.deepEqual(store.snapshotSettings(), { keep: 2, every: 3 }, 'a refused setting changes nothing');
});

test('every 3 revisions one every-changes snapshot, taken after set() returns, rotated to keep', async (t) => {
  const { dir, store } = fresh(t);
  store.setSnapshotSettings({ every: 3, keep: 2 });
  const seen: string[][] = [];
  for (let i = 1; i <= 10; i++) {
    store.set('k', i);
    seen.push(files(dir));
    await tick();
  }
  assert.deepEqual(seen[2], [], 'never inside set(): revision 3 is not yet snapshotted when set() returns');
  assert.deepEqual(files(dir), ['auto-6-every-changes.json', 'auto-9-every-changes.json']);
  const list = store.snapshots().snapshots;
  assert.deepEqual(
    list.map((s) => [s.name, s.revision, s.reason, s.keys]),
    [
      ['auto-9-every-changes', 9, 'every-changes', 1],
      ['auto-6-every-changes', 6, 'every-changes', 1],
    ],
  );
  assert.equal(store.readSnapshot('auto-9-every-changes').entries['k']?.value, 9);
});

test('a burst of writes in one turn gives one snapshot, after the burst', async (t) => {
  const { dir, store } = fresh(t);
  store.setSnapshotSettings({ every: 3 });
  for (let i = 1; i <= 10; i++) store.set(`k${i}`, i);
  assert.deepEqual(files(dir), []);
  await tick();
  assert.deepEqual(files(dir), ['auto-10-every-changes.json']);
  // The count starts again from the snapshot's revision: two more writes are not enough.
  store.set('a', 1);
  store.set('b', 2);
  await tick();
  assert.deepEqual(files(dir), ['auto-10-every-changes.json']);
  store.set('c', 3);
  await tick();
  assert.deepEqual(files(dir), ['auto-10-every-changes.json', 'auto-13-every-changes.json']);
});

test('close() takes a pending snapshot before it returns; every: 0 takes none', async (t) => {
  const { dir, store } = fresh(t);
  store.setSnapshotSettings({ every: 2 });
  store.set('a', 1);
  store.set('b', 2);
  store.close();
  assert.deepEqual(files(dir), ['auto-2-every-changes.json']);

  const off = fresh(t);
  off.store.setSnapshotSettings({ every: 0 });
  for (let i = 1; i <= 5; i++) {
    off.store.set('k', i);
    await tick();
  }
  off.store.close();
  assert.deepEqual(files(off.dir), []);
});
