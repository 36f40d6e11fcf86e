// Snapshots through the library: create, list, show, diff, restore (one undoable revision), delete,
// automatic snapshots and rotation, names and traversal, file modes, atomic files.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isPsmcError } from '../../src/core/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import {
  autoSnapshot,
  autoSnapshotDue,
  autoSnapshotIfDue,
  createSnapshot,
  deleteSnapshot,
  diffEntries,
  diffSnapshots,
  lastAutoRevision,
  listSnapshots,
  parseSnapshot,
  readSnapshot,
  renderSnapshot,
  restoreSnapshot,
  rotationVictims,
  snapshotsDir,
  sweepTempFiles,
  type SnapshotHost,
  type SnapshotInfo,
} from '../../src/snapshot/index.js';

function fresh(t: TestContext): { dir: string; store: Store } {
  const dir = mkdtempSync(join(tmpdir(), 'psmc-snap-'));
  const store = openStore({ dir, env: {}, source: 'test' });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isPsmcError(e)) return e.code;
    throw e;
  }
  assert.fail('expected a PsmcError');
}

// Compile-time check: a Store is a SnapshotHost.
const asHost = (s: Store): SnapshotHost => s;

test('create writes <store>/snapshots/<name>.json that parses back to the store', (t) => {
  const { dir, store } = fresh(t);
  store.set('display.units', 'metric');
  store.set('retries', 3);
  store.set('window', { w: 800, h: 600 });
  const info = createSnapshot(asHost(store), { name: 'first', source: 'cli' });
  assert.equal(info.path, join(dir, 'snapshots', 'first.json'));
  assert.equal(snapshotsDir(store), join(dir, 'snapshots'));
  assert.deepEqual([info.name, info.revision, info.reason, info.source, info.keys], ['first', 3, 'manual', 'cli', 3]);
  const text = readFileSync(info.path, 'utf8');
  assert.equal(info.bytes, Buffer.byteLength(text));
  const doc = parseSnapshot(text, { expectName: 'first' });
  assert.equal(renderSnapshot(doc), text, 'rendering is stable (byte-exact round trip)');
  assert.deepEqual(doc.entries['window']?.value, { w: 800, h: 600 });
  assert.equal(doc.entries['retries']?.type, 'integer');
  assert.equal(doc.entries['retries']?.revision, 2);
  assert.match(doc.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(text.endsWith('}\n') && text.startsWith('{\n  "format": "psmc-snapshot",\n  "version": 1,\n'));
  assert.deepEqual(readSnapshot(store, 'first'), doc);
});

test('the snapshot holds the schema; the default name is snap-<utc> and made unique', (t) => {
  const { store } = fresh(t);
  store.setSchema({ keys: { retries: { type: 'integer' } } });
  store.set('retries', 1);
  const now = () => Date.UTC(2026, 10, 26, 4, 5, 6);
  const a = createSnapshot(store, { now });
  const b = createSnapshot(store, { now });
  assert.equal(a.name, 'snap-20261126-040506');
  assert.equal(b.name, 'snap-20261126-040506-2');
  assert.deepEqual(readSnapshot(store, a.name).schema, { keys: { retries: { type: 'integer' } } });
});

test('a taken name is refused (also differing only in case) unless overwrite', (t) => {
  const { store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'Keep' });
  assert.equal(
    code(() => createSnapshot(store, { name: 'Keep' })),
    'PSMC_USAGE',
  );
  assert.equal(
    code(() => createSnapshot(store, { name: 'keep' })),
    'PSMC_USAGE',
  );
  store.set('a', 2);
  const info = createSnapshot(store, { name: 'Keep', overwrite: true });
  assert.equal(readSnapshot(store, 'Keep').entries['a']?.value, 2);
  assert.equal(info.revision, 2);
  // Names resolve case-insensitively to the spelling on disk.
  assert.equal(readSnapshot(store, 'KEEP').name, 'Keep');
});

test('list is newest first, with keys and bytes; unreadable files are reported and skipped', (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'one', now: () => 1_000 });
  store.set('b', 2);
  createSnapshot(store, { name: 'two', now: () => 2_000 });
  writeFileSync(join(dir, 'snapshots', 'broken.json'), '{"format":"psmc-snapshot",');
  writeFileSync(join(dir, 'snapshots', 'liar.json'), readFileSync(join(dir, 'snapshots', 'one.json'), 'utf8'));
  writeFileSync(join(dir, 'snapshots', 'notes.txt'), 'not a snapshot');
  writeFileSync(join(dir, 'snapshots', '.x.json.123.abc.tmp'), 'temp');
  const { snapshots, problems } = listSnapshots(store);
  assert.deepEqual(
    snapshots.map((s) => [s.name, s.keys]),
    [
      ['two', 2],
      ['one', 1],
    ],
  );
  assert.ok(snapshots.every((s) => s.bytes > 100));
  assert.deepEqual(
    problems.map((p) => [p.file.endsWith('broken.json') || p.file.endsWith('liar.json'), p.code]),
    [
      [true, 'PSMC_PARSE'],
      [true, 'PSMC_PARSE'],
    ],
  );
  assert.match(
    problems.find((p) => p.file.endsWith('liar.json'))?.message ?? '',
    /named "liar" but its "name" member says "one"/,
  );
});

test('list and show on a store without snapshots create nothing', (t) => {
  const { dir, store } = fresh(t);
  assert.deepEqual(listSnapshots(store), { snapshots: [], problems: [] });
  assert.equal(
    code(() => readSnapshot(store, 'nope')),
    'PSMC_NOT_FOUND',
  );
  assert.equal(existsSync(join(dir, 'snapshots')), false);
});

test('diff: two snapshots, a snapshot and current; sorted; values compared by §value.equality', (t) => {
  const { store } = fresh(t);
  store.set('a', 1);
  store.set('b', { x: 1, y: 2 });
  store.set('c', 'gone');
  createSnapshot(store, { name: 's1' });
  store.set('a', 2);
  store.set('b', { y: 2, x: 1 });
  store.delete('c');
  store.set('d', [1]);
  createSnapshot(store, { name: 's2' });
  store.set('e', null);
  const expected = [
    { key: 'a', change: 'changed', before: 1, after: 2 },
    { key: 'c', change: 'removed', before: 'gone' },
    { key: 'd', change: 'added', after: [1] },
  ];
  const d = diffSnapshots(store, 's1', 's2');
  assert.deepEqual(d.from, { name: 's1', revision: 3 });
  assert.deepEqual(d.to, { name: 's2', revision: 7 });
  assert.deepEqual(d.changes, expected);
  const cur = diffSnapshots(store, 's1');
  assert.deepEqual(cur.to, { name: 'current', revision: 8 });
  assert.deepEqual(cur.changes, [...expected, { key: 'e', change: 'added', after: null }]);
  assert.deepEqual(diffSnapshots(store, 's2', 's2').changes, []);
  assert.deepEqual(diffSnapshots(store, 'current', 's2').changes, [{ key: 'e', change: 'removed', before: null }]);
  assert.deepEqual(diffEntries(new Map([['k', 1]]), { k: 1.0 }), []);
  assert.equal(
    code(() => diffSnapshots(store, 's3')),
    'PSMC_NOT_FOUND',
  );
});

test('restore is one revision with source restore:<name>, preceded by an auto snapshot; undo brings the values back', (t) => {
  const { store } = fresh(t);
  store.set('a', 1);
  store.set('b', 'keep');
  createSnapshot(store, { name: 'good' });
  store.set('a', 99);
  store.delete('b');
  store.set('c', 'new');
  const before = store.all();
  const rev = store.revision();
  const r = restoreSnapshot(store, 'good');
  assert.equal(r.name, 'good');
  assert.equal(r.commit.revision, rev + 1, 'exactly one revision');
  assert.deepEqual(store.all(), { a: 1, b: 'keep' });
  const records = store.history(undefined, { sinceRevision: rev });
  assert.equal(records.length, 3);
  assert.ok(records.every((c) => c.revision === rev + 1 && c.source === 'restore:good'));
  assert.deepEqual(records.map((c) => [c.key, c.op]).sort(), [
    ['a', 'set'],
    ['b', 'set'],
    ['c', 'delete'],
  ]);
  // The automatic snapshot holds the state from just before.
  assert.equal(r.autoSnapshot.name, `auto-${rev}-before-restore`);
  assert.equal(r.autoSnapshot.reason, 'before-restore');
  assert.equal(r.autoSnapshot.source, 'restore:good');
  assert.deepEqual(diffSnapshots(store, r.autoSnapshot.name, 'current').changes.length, 3);
  const auto = readSnapshot(store, r.autoSnapshot.name);
  assert.deepEqual(Object.fromEntries(Object.entries(auto.entries).map(([k, e]) => [k, e.value])), before);
  // Undo reverts the whole restore.
  store.undo();
  assert.deepEqual(store.all(), before);
  // Restoring the auto snapshot is the other way back.
  restoreSnapshot(store, r.autoSnapshot.name, { source: 'gui' });
  assert.deepEqual(store.all(), before);
});

test('restore of a store already at the snapshot changes nothing; a bad snapshot file changes nothing', (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'same' });
  const r = restoreSnapshot(store, 'same');
  assert.equal(r.commit.changes.length, 0);
  assert.equal(store.revision(), 1);
  const path = join(dir, 'snapshots', 'evil.json');
  const text = readFileSync(join(dir, 'snapshots', 'same.json'), 'utf8').replace(
    '"name": "same"',
    '"name": "../../etc/passwd"',
  );
  writeFileSync(path, text);
  const files = readdirSync(join(dir, 'snapshots')).sort();
  assert.equal(
    code(() => restoreSnapshot(store, 'evil')),
    'PSMC_PARSE',
  );
  assert.deepEqual(readdirSync(join(dir, 'snapshots')).sort(), files, 'no automatic snapshot was taken');
  assert.equal(store.revision(), 1);
});

test('restore honours the current schema: a refused value fails the whole restore', (t) => {
  const { store } = fresh(t);
  store.set('n', 'text');
  store.set('m', 1);
  createSnapshot(store, { name: 'old' });
  store.delete('n');
  store.setSchema({ keys: { n: { type: 'integer' } } });
  const rev = store.revision();
  assert.equal(
    code(() => restoreSnapshot(store, 'old')),
    'PSMC_SCHEMA_VIOLATION',
  );
  assert.equal(store.revision(), rev);
});

test('traversal and bad names are refused everywhere, and the store and directory are unchanged', (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'ok' });
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'x.json'), readFileSync(join(dir, 'snapshots', 'ok.json')));
  const files = readdirSync(join(dir, 'snapshots')).sort();
  for (const bad of [
    '../x',
    '../outside/x',
    'a/b',
    '..',
    '.',
    '.hidden',
    '/etc/passwd',
    'a\\b',
    'x.json',
    'café',
    'a'.repeat(65),
    '',
    'current',
  ]) {
    assert.equal(
      code(() => createSnapshot(store, { name: bad })),
      'PSMC_USAGE',
      `create ${JSON.stringify(bad)}`,
    );
    assert.equal(
      code(() => restoreSnapshot(store, bad)),
      'PSMC_USAGE',
      `restore ${JSON.stringify(bad)}`,
    );
    assert.equal(
      code(() => deleteSnapshot(store, bad)),
      'PSMC_USAGE',
      `delete ${JSON.stringify(bad)}`,
    );
    assert.equal(
      code(() => readSnapshot(store, bad)),
      'PSMC_USAGE',
      `read ${JSON.stringify(bad)}`,
    );
  }
  assert.deepEqual(readdirSync(join(dir, 'snapshots')).sort(), files);
  assert.ok(existsSync(join(dir, 'outside', 'x.json')));
  assert.equal(store.revision(), 1);
  assert.deepEqual(store.all(), { a: 1 });
});

test('a symlinked snapshot file is not followed', { skip: process.platform === 'win32' }, (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'real' });
  symlinkSync(join(dir, 'snapshots', 'real.json'), join(dir, 'snapshots', 'link.json'));
  assert.equal(
    code(() => readSnapshot(store, 'link')),
    'PSMC_NOT_FOUND',
  );
  const { snapshots, problems } = listSnapshots(store);
  assert.deepEqual(
    snapshots.map((s) => s.name),
    ['real'],
  );
  assert.match(problems[0]?.message ?? '', /link\.json is not a regular file/);
});

test('delete removes the file; unknown names are PSMC_NOT_FOUND listing the names', (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'one' });
  try {
    deleteSnapshot(store, 'onee');
    assert.fail('expected PSMC_NOT_FOUND');
  } catch (e) {
    assert.ok(isPsmcError(e) && e.code === 'PSMC_NOT_FOUND');
    assert.deepEqual(e.details['known'], ['one']);
  }
  assert.equal(deleteSnapshot(store, 'ONE'), 'one');
  assert.deepEqual(readdirSync(join(dir, 'snapshots')), []);
});

test('files are 0600 and the directory 0700; no temp files are left', { skip: process.platform === 'win32' }, (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  for (let i = 0; i < 5; i++) createSnapshot(store, { name: `s${i}` });
  autoSnapshot(store, 'before-import', { keep: 2 });
  assert.equal(statSync(join(dir, 'snapshots')).mode & 0o777, 0o700);
  for (const f of readdirSync(join(dir, 'snapshots'))) {
    assert.ok(!f.startsWith('.'), `temp file left: ${f}`);
    assert.equal(statSync(join(dir, 'snapshots', f)).mode & 0o777, 0o600, f);
  }
});

test('temp files of dead writers are swept; those of live ones are kept', (t) => {
  const { dir, store } = fresh(t);
  store.set('a', 1);
  createSnapshot(store, { name: 'x' });
  const snaps = join(dir, 'snapshots');
  writeFileSync(join(snaps, '.y.json.999999999.abc.tmp'), '{"partial');
  writeFileSync(join(snaps, `.z.json.${process.pid}.abc.tmp`), '{"mine');
  assert.deepEqual(sweepTempFiles(snaps), ['.y.json.999999999.abc.tmp']);
  assert.ok(existsSync(join(snaps, `.z.json.${process.pid}.abc.tmp`)));
});

test('automatic snapshots: auto-<revision>-<reason>, rotation keeps the newest N, manual ones stay', (t) => {
  const { store } = fresh(t);
  createSnapshot(store, { name: 'manual-one' });
  const made: string[] = [];
  for (let i = 1; i <= 6; i++) {
    store.set('n', i);
    const reason = i % 2 === 0 ? 'before-import' : 'every-changes';
    const s = autoSnapshot(store, reason, { keep: 3 });
    assert.equal(s.name, `auto-${i}-${reason}`);
    made.push(s.name);
  }
  const again = autoSnapshot(store, 'every-changes', { keep: 3 });
  assert.equal(again.name, 'auto-6-every-changes');
  assert.deepEqual(again.rotated, ['auto-4-before-import']);
  const names = listSnapshots(store)
    .snapshots.map((s) => s.name)
    .sort();
  assert.deepEqual(names, ['auto-5-every-changes', 'auto-6-before-import', 'auto-6-every-changes', 'manual-one']);
  assert.equal(lastAutoRevision(store), 6);
});

test('rotationVictims is pure: newest by revision, never manual, never the protected one', () => {
  const info = (
    name: string,
    revision: number,
    reason: SnapshotInfo['reason'],
    createdAt = '2026-01-01T00:00:00.000Z',
  ): SnapshotInfo => ({
    name,
    revision,
    reason,
    createdAt,
    source: 'x',
    keys: 0,
    bytes: 0,
    path: name,
  });
  const list = [
    info('m', 1, 'manual'),
    info('a1', 1, 'every-changes'),
    info('a2', 2, 'before-import'),
    info('a3', 3, 'before-restore'),
    info('a0', 0, 'before-import'),
  ];
  assert.deepEqual(rotationVictims(list, 2), ['a1', 'a0']);
  assert.deepEqual(rotationVictims(list, 2, 'a1'), ['a0']);
  assert.deepEqual(rotationVictims(list, 10), []);
});

test('every K changes: autoSnapshotDue is pure; autoSnapshotIfDue takes one only when due', (t) => {
  assert.equal(autoSnapshotDue(0, 99, 100), false);
  assert.equal(autoSnapshotDue(0, 100, 100), true);
  assert.equal(autoSnapshotDue(100, 150, 100), false);
  assert.equal(autoSnapshotDue(100, 200, 100), true);
  assert.equal(autoSnapshotDue(0, 1000, 0), false, '0 turns it off');
  assert.equal(autoSnapshotDue(0, 0, 1), false, 'nothing to snapshot at revision 0');
  const { store } = fresh(t);
  const taken: string[] = [];
  for (let i = 1; i <= 10; i++) {
    store.set('k', i);
    const s = autoSnapshotIfDue(store, { every: 3, keep: 20 });
    if (s !== undefined) taken.push(s.name);
  }
  assert.deepEqual(taken, ['auto-3-every-changes', 'auto-6-every-changes', 'auto-9-every-changes']);
  assert.equal(autoSnapshotIfDue(store, { every: 0 }), undefined);
  assert.equal(autoSnapshotIfDue(store, { every: 3 }, { lastAuto: 9 }), undefined);
  assert.throws(() => autoSnapshot(store, 'before-import', { keep: 0 }), RangeError);
});

test('a snapshot of a store never written is empty and restoring it empties a store', (t) => {
  const { store } = fresh(t);
  const s = createSnapshot(store, { name: 'blank' });
  assert.deepEqual([s.revision, s.keys], [0, 0]);
  store.set('a', 1);
  store.set('b', 2);
  const r = restoreSnapshot(store, 'blank');
  assert.equal(r.commit.changes.length, 2);
  assert.deepEqual(store.all(), {});
  store.undo();
  assert.deepEqual(store.all(), { a: 1, b: 2 });
});

test('a project store keeps its snapshots in .psmc/snapshots', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'psmc-snap-proj-'));
  const store = openStore({ project: join(root, 'p'), createProject: true, env: { PSMC_HOME: join(root, 'user') } });
  t.after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  store.set('a', 1);
  const s = createSnapshot(store, { name: 'proj' });
  assert.equal(s.path, join(store.info.project?.dir ?? '', 'snapshots', 'proj.json'));
  assert.ok(s.path.includes(`${join('p', '.psmc', 'snapshots')}`));
});
