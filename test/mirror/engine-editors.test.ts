/**
 * Editors' save patterns (spec/sections/mirror-sync.md §mirror.detect): the
 * engine never imports a partial or empty file as "delete everything".
 *
 * Each pattern is replayed step by step on the mirror file, and at every
 * intermediate state the store is poked the way live programs poke it: an
 * explicit syncMirror() (a watcher), a read through a second handle with
 * freshnessMs: 0, and (in the "with writes" runs) a write. After every poke
 * every original key must still be in the database with its old or its
 * edited value, and no `file` delete may be in history. After the save
 * settles, the edit is imported.
 *
 * Writes are made only once the editor has started replacing the file
 * (missing, empty, partial, or complete but not settled). A write exported
 * into the *original* file just before the editor overwrites it with an
 * older buffer is the stale-buffer case: the saved file lacks the key, so
 * the 3-way merge (base = last export) reads that as a deletion by the user —
 * specified behaviour, recorded in history (see the last test).
 *
 * Time: the engine tells "being written" from "saved" by the file's age
 * (SETTLE_MS, EMPTY_GRACE_MS), measured with the store's wall clock. Each poke
 * pins that clock to the file's mtime (TestClock), so every intermediate state
 * is exactly "just written" however long the poke takes: on a loaded machine a
 * poke (SQLite commits, fsyncs) or a scheduled export firing between two
 * editor steps can come more than SETTLE_MS after the write, and a partial
 * file unchanged that long *is* a finished save by the heuristic — a limit
 * pinned down by its own tests below ('the limit of the settle heuristic'),
 * not a state these pattern tests can check.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { JsonValue, Store } from '../../src/index.js';
import { EMPTY_GRACE_MS, SETTLE_MS } from '../../src/mirror/mirror.js';
import { codecFor, type MirrorFormat } from '../../src/mirror/codecs/index.js';
import {
  backdate,
  dbValues,
  TestClock,
  fileValues,
  mirrorPath,
  open,
  readText,
  sleep,
  tmpDir,
  toObject,
  waitFor,
} from './fixtures/engine-helpers.js';

const BASE: Record<string, JsonValue> = {
  a: 1,
  'b.c': 'two',
  d: [1, 2, 3],
  e: { x: true, y: null },
  'f.g.h': 'last',
};
const EDITED_A = 42;

function edit(format: MirrorFormat, text: string): string {
  const from = { json: '"a": 1', toml: '"a" = 1', yaml: 'a: 1' }[format];
  const to = { json: `"a": ${EDITED_A}`, toml: `"a" = ${EDITED_A}`, yaml: `a: ${EDITED_A}` }[format];
  assert.ok(text.includes(from), `the exported ${format} file has ${from}`);
  const marker = format === 'json' ? '//' : '#';
  return text.replace(from, to).replace(/\n/, `\n${marker} edited by hand\n`);
}

interface Rig {
  dir: string;
  file: string;
  store: Store;
  reader: Store;
  clock: TestClock;
  original: string;
  final: string;
  /**
   * Pokes the store at an intermediate state and checks nothing was lost.
   * `originalInPlace`: the editor has not started replacing the file yet (no
   * write then: a write exported into the file the editor is about to
   * overwrite with its older buffer is the stale-buffer case, see below).
   * `ageMs`: how long ago the file was last written, as the engine sees it
   * (the store's clock is pinned to the file's mtime plus this).
   */
  poke: (label: string, originalInPlace?: boolean, ageMs?: number) => void;
  pokes: number;
  writes: number;
}

async function rig(t: TestContext, format: MirrorFormat, withWrites: boolean): Promise<Rig> {
  const dir = tmpDir(t);
  const clock = new TestClock();
  const store = open(t, dir, { clock: clock.now });
  if (format !== 'json') store.setMirrorFormat(format);
  store.batch(Object.entries(BASE).map(([key, value]) => ({ op: 'set' as const, key, value })));
  store.syncMirror();
  const reader = open(t, dir, { freshnessMs: 0, clock: clock.now });
  const file = mirrorPath(dir, format);
  const original = readText(file) ?? '';
  assert.deepEqual(fileValues(dir, format), BASE);
  await sleep(SETTLE_MS + 20);
  const r: Rig = {
    dir,
    file,
    store,
    reader,
    clock,
    original,
    final: edit(format, original),
    pokes: 0,
    writes: 0,
    poke: (label, originalInPlace = false, ageMs = 0) => {
      r.pokes++;
      // Pinned until the next poke: scheduled exports that run between the editor's steps see this state's age too.
      clock.pinToFile(file, ageMs);
      const sync = store.syncMirror();
      assert.equal(
        sync.error,
        undefined,
        `${label}: no intermediate state is reported as an invalid edit (${JSON.stringify(sync)})`,
      );
      reader.get('a');
      if (withWrites && !originalInPlace) store.set(`during.k${++r.writes}`, r.writes);
      const db = dbValues(store);
      for (const [k, v] of Object.entries(BASE)) {
        if (k === 'a')
          assert.ok(
            db['a'] === 1 || db['a'] === EDITED_A,
            `${label}: a is old or edited, not ${JSON.stringify(db['a'])}`,
          );
        else assert.deepEqual(db[k], v, `${label}: ${k} kept`);
      }
      if (withWrites)
        for (let i = 1; i <= r.writes; i++)
          assert.equal(db[`during.k${i}`], i, `${label}: the write made during the save is kept`);
      const fileDeletes = store.history().filter((h) => h.source === 'file' && h.op === 'delete');
      assert.deepEqual(fileDeletes, [], `${label}: no delete imported from the file`);
    },
  };
  return r;
}

/** After the save: let it settle, sync, and check the edit is in. */
async function settled(r: Rig, format: MirrorFormat): Promise<void> {
  r.clock.release();
  backdate(r.file, 200);
  const res = r.store.syncMirror();
  assert.equal(res.error, undefined, JSON.stringify(res));
  await waitFor(() => r.reader.get('a') === EDITED_A, 1000, 'the edit to be imported');
  const db = dbValues(r.store);
  for (const [k, v] of Object.entries(BASE)) if (k !== 'a') assert.deepEqual(db[k], v);
  assert.equal(db['a'], EDITED_A);
  assert.equal(r.store.history('a')[0]?.source, 'file');
  assert.deepEqual(
    r.store.history().filter((h) => h.source === 'file' && h.op === 'delete'),
    [],
  );
  assert.notEqual(r.store.status().mirror?.state, 'invalid-edit');
  assert.ok(readText(r.file)?.includes('edited by hand'), `the user's ${format} file (with its comment) is in place`);
}

type Pattern = (r: Rig) => Promise<void>;

const PATTERNS: Record<string, Pattern> = {
  /** vim (backupcopy=no): probe file, rename the original to a backup, write a new file, delete the backup. */
  vim: async (r) => {
    const probe = path.join(r.dir, '4913');
    fs.writeFileSync(probe, '');
    r.poke('probe written', true);
    fs.unlinkSync(probe);
    const backup = `${r.file}~`;
    fs.renameSync(r.file, backup);
    r.poke('original renamed to the backup (file missing)');
    const fd = fs.openSync(r.file, 'w');
    r.poke('new file created, empty');
    const buf = Buffer.from(r.final);
    const half = Math.floor(buf.length / 2);
    fs.writeSync(fd, buf, 0, half);
    r.poke('half written');
    await sleep(2);
    fs.writeSync(fd, buf, half, buf.length - half);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    r.poke('all written');
    fs.unlinkSync(backup);
    r.poke('backup deleted');
  },
  /** Truncate, then write later (open with 'w': an empty file is visible for a while). */
  'truncate-then-write': async (r) => {
    const fd = fs.openSync(r.file, 'w');
    r.poke('truncated');
    await sleep(100);
    r.poke('still empty, 100 ms later', false, 100);
    await sleep(100);
    r.poke('still empty, 200 ms later', false, 200);
    r.poke(`still empty, just under EMPTY_GRACE_MS (${EMPTY_GRACE_MS} ms) later`, false, EMPTY_GRACE_MS - 1);
    fs.writeSync(fd, r.final);
    fs.closeSync(fd);
    r.poke('written');
  },
  /** Write in place in several chunks with pauses (each chunk poked while fresh). */
  'chunks in place': async (r) => {
    const buf = Buffer.from(r.final);
    const fd = fs.openSync(r.file, 'r+');
    fs.ftruncateSync(fd, 0);
    r.poke('truncated in place');
    // Cut points: some mid-line, one right after a line break (a partial TOML/YAML file that parses).
    const nl = buf.indexOf(0x0a, Math.floor(buf.length / 2)) + 1;
    const cuts = [...new Set([7, Math.floor(buf.length / 3), nl, buf.length - 3, buf.length])]
      .filter((c) => c > 0 && c <= buf.length)
      .sort((a, b) => a - b);
    let at = 0;
    for (const cut of cuts) {
      await sleep(3);
      fs.writeSync(fd, buf, at, cut - at, at);
      at = cut;
      r.poke(`written up to byte ${cut} of ${buf.length}`);
    }
    fs.closeSync(fd);
  },
  /** Write a temp file, then rename it over the original (most GUI editors, atomic savers). */
  'rename-over': async (r) => {
    const tmp = path.join(r.dir, `.${path.basename(r.file)}.swp`);
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, r.final.slice(0, 10));
    r.poke('temp half written', true);
    fs.writeSync(fd, r.final.slice(10));
    fs.closeSync(fd);
    r.poke('temp written', true);
    fs.renameSync(tmp, r.file);
    r.poke('renamed over');
    await sleep(2);
    r.poke('renamed over, a moment later');
  },
  /** vim with backupcopy=yes: copy to a backup, then truncate and rewrite the original in place. */
  'backup copy, then in place': async (r) => {
    fs.copyFileSync(r.file, `${r.file}~`);
    r.poke('backup copied', true);
    fs.writeFileSync(r.file, '');
    r.poke('truncated');
    fs.appendFileSync(r.file, r.final.slice(0, r.final.length - 5));
    r.poke('most written');
    fs.appendFileSync(r.file, r.final.slice(r.final.length - 5));
    r.poke('all written');
    fs.unlinkSync(`${r.file}~`);
  },
};

for (const format of ['json', 'toml', 'yaml'] as const) {
  describe(`editor save patterns (${format})`, () => {
    for (const [name, pattern] of Object.entries(PATTERNS)) {
      it(`${name}: no intermediate state is imported; the saved edit is`, async (t) => {
        const r = await rig(t, format, false);
        await pattern(r);
        await settled(r, format);
        assert.deepEqual(fileValues(r.dir, format), dbValues(r.store), 'the file and the database agree');
      });

      it(`${name}, with writes once the save has begun: nothing is lost`, async (t) => {
        const r = await rig(t, format, true);
        await pattern(r);
        await settled(r, format);
        const db = dbValues(r.store);
        assert.ok(r.writes >= 1);
        for (let i = 1; i <= r.writes; i++) assert.equal(db[`during.k${i}`], i);
      });
    }
  });
}

describe('writes during a save', () => {
  it('a write made while the file is empty reaches the file after the save is imported', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch(Object.entries(BASE).map(([key, value]) => ({ op: 'set' as const, key, value })));
    s.syncMirror();
    const file = mirrorPath(dir);
    const final = edit('json', readText(file) ?? '');
    const fd = fs.openSync(file, 'w');
    s.set('during', 1);
    fs.writeSync(fd, final);
    fs.closeSync(fd);
    backdate(file, 200);
    s.syncMirror();
    assert.deepEqual(dbValues(s), { ...BASE, a: EDITED_A, during: 1 });
    await waitFor(() => fileValues(dir)['during'] === 1, 1000, 'the write made during the save to reach the file');
    assert.ok(readText(file)?.includes('edited by hand'));
  });

  it('stale buffer (specified): a key exported before the save and absent from the saved file is deleted, with a trace', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    const file = mirrorPath(dir);
    const buffer = readText(file) ?? ''; // the editor loads the file
    s.set('x', 'exported while the editor had the file open');
    s.syncMirror();
    assert.equal(fileValues(dir)['x'], 'exported while the editor had the file open');
    await sleep(20);
    fs.writeFileSync(file, buffer.replace('"a": 1', '"a": 2'));
    await sleep(SETTLE_MS + 20);
    s.syncMirror();
    assert.equal(s.get('a'), 2);
    assert.equal(s.get('x'), undefined);
    const h = s.history('x')[0];
    assert.equal(h?.op, 'delete');
    assert.equal(h?.source, 'file');
    assert.equal(h?.oldValue, 'exported while the editor had the file open', 'the value is in history');
  });
});

describe('the limit of the settle heuristic (docs/mirror.md, "Editors that write in place")', () => {
  for (const format of ['toml', 'yaml'] as const) {
    it(`${format}: a partial file that ends in its header comment (no entries) waits out EMPTY_GRACE_MS like an empty file, then is imported; history keeps every value and the complete save brings them back`, (t) => {
      const dir = tmpDir(t);
      const clock = new TestClock();
      const s = open(t, dir, { clock: clock.now });
      s.setMirrorFormat(format);
      s.batch(Object.entries(BASE).map(([key, value]) => ({ op: 'set' as const, key, value })));
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const buf = Buffer.from(edit(format, readText(file) ?? ''));
      const half = Math.floor(buf.length / 2);
      // vim's first write of the new file, as in the pattern above: it ends inside the header
      // comment, and a TOML/YAML document of comments only is a valid document with no entries.
      assert.deepEqual(toObject(codecFor(format).parse(buf.subarray(0, half).toString('utf8')).values), {});
      const fd = fs.openSync(file, 'w');
      try {
        fs.writeSync(fd, buf, 0, half);
        clock.pinToFile(file, SETTLE_MS - 1);
        assert.ok(s.syncMirror().retryInMs !== undefined, 'younger than SETTLE_MS: a save in progress');
        assert.deepEqual(dbValues(s), BASE);
        // The writer stalls past SETTLE_MS (descheduled on a loaded machine, a slow disk): a file
        // with no entries over a base with keys waits for the empty-file grace.
        for (const age of [SETTLE_MS, 1000, EMPTY_GRACE_MS - 1]) {
          clock.pinToFile(file, age);
          const r = s.syncMirror();
          assert.equal(r.error, undefined, `${age} ms: not an invalid edit`);
          assert.equal(r.retryInMs, EMPTY_GRACE_MS - age, `${age} ms: waited on until EMPTY_GRACE_MS`);
          assert.deepEqual(dbValues(s), BASE, `${age} ms: nothing imported`);
          assert.equal(s.status().mirror?.state, 'pending-import', `${age} ms: status says pending import`);
        }
        // Unchanged for EMPTY_GRACE_MS: the file says every key was removed, and it is imported.
        clock.pinToFile(file, EMPTY_GRACE_MS);
        const r = s.syncMirror();
        assert.equal(r.error, undefined);
        assert.equal(r.retryInMs, undefined);
        assert.deepEqual(dbValues(s), {}, 'imported as it stands');
        for (const [k, v] of Object.entries(BASE)) {
          const h = s.history(k)[0];
          assert.equal(h?.op, 'delete', k);
          assert.equal(h?.source, 'file', k);
          assert.deepEqual(h?.oldValue, v, `${k}: the deleted value is in history`);
        }
        s.set('during', 1);
        fs.writeSync(fd, buf, half, buf.length - half);
      } finally {
        fs.closeSync(fd);
      }
      clock.release();
      backdate(file, 200);
      assert.equal(s.syncMirror().error, undefined);
      assert.deepEqual(dbValues(s), { ...BASE, a: EDITED_A, during: 1 }, 'the complete save brings every key back');
      assert.ok(readText(file)?.includes('edited by hand'));
    });

    it(`${format}: a partial file cut after its first entry and left unchanged for SETTLE_MS is imported as it stands (the remaining limit); the complete save brings the rest back`, (t) => {
      const dir = tmpDir(t);
      const clock = new TestClock();
      const s = open(t, dir, { clock: clock.now });
      s.setMirrorFormat(format);
      s.batch(Object.entries(BASE).map(([key, value]) => ({ op: 'set' as const, key, value })));
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const buf = Buffer.from(edit(format, readText(file) ?? ''));
      const from = { toml: '"a" = ', yaml: 'a: ' }[format];
      const cut = buf.indexOf(0x0a, buf.indexOf(from)) + 1;
      assert.deepEqual(toObject(codecFor(format).parse(buf.subarray(0, cut).toString('utf8')).values), { a: EDITED_A });
      const fd = fs.openSync(file, 'w');
      try {
        fs.writeSync(fd, buf, 0, cut);
        clock.pinToFile(file, SETTLE_MS - 1);
        assert.ok(s.syncMirror().retryInMs !== undefined, 'younger than SETTLE_MS: a save in progress');
        assert.deepEqual(dbValues(s), BASE);
        clock.pinToFile(file, SETTLE_MS);
        assert.equal(s.syncMirror().error, undefined);
        assert.deepEqual(dbValues(s), { a: EDITED_A }, 'imported as it stands');
        for (const [k, v] of Object.entries(BASE)) {
          if (k === 'a') continue;
          const h = s.history(k)[0];
          assert.equal(h?.op, 'delete', k);
          assert.equal(h?.source, 'file', k);
          assert.deepEqual(h?.oldValue, v, `${k}: the deleted value is in history`);
        }
        fs.writeSync(fd, buf, cut, buf.length - cut);
      } finally {
        fs.closeSync(fd);
      }
      clock.release();
      backdate(file, 200);
      assert.equal(s.syncMirror().error, undefined);
      assert.deepEqual(dbValues(s), { ...BASE, a: EDITED_A }, 'the complete save brings every key back');
    });
  }
});

describe('an empty file', () => {
  it(`that stays empty past EMPTY_GRACE_MS (${EMPTY_GRACE_MS} ms) is regenerated, not imported`, async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch(Object.entries(BASE).map(([key, value]) => ({ op: 'set' as const, key, value })));
    s.syncMirror();
    const file = mirrorPath(dir);
    const revision = s.revision();
    fs.writeFileSync(file, '');
    const early = s.syncMirror();
    assert.ok(early.retryInMs !== undefined && early.retryInMs > 0, 'an empty file is a save in progress');
    assert.equal(readText(file), '');
    backdate(file, EMPTY_GRACE_MS + 500);
    s.syncMirror();
    assert.deepEqual(fileValues(dir), BASE);
    assert.deepEqual(dbValues(s), BASE);
    assert.equal(s.revision(), revision);
    assert.equal(readText(file), codecFor('json').render(Object.entries(BASE).sort(([a], [b]) => (a < b ? -1 : 1))));
  });

  it('a whitespace-only file is an empty file too', (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    const file = mirrorPath(dir);
    fs.writeFileSync(file, ' \n\t\r\n');
    backdate(file, 200);
    assert.ok(s.syncMirror().retryInMs !== undefined);
    assert.equal(s.get('a'), 1);
    backdate(file, EMPTY_GRACE_MS + 500);
    s.syncMirror();
    assert.deepEqual(fileValues(dir), { a: 1 });
  });

  it('left empty by a process that then wrote nothing: the engine regenerates it by itself after a write', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    const file = mirrorPath(dir);
    fs.writeFileSync(file, '');
    s.set('b', 2); // a write while the file is empty: kept, and the scheduled export retries after the grace
    await waitFor(() => (readText(file) ?? '') !== '', EMPTY_GRACE_MS + 3000, 'the empty file to be regenerated');
    assert.deepEqual(fileValues(dir), { a: 1, b: 2 });
    assert.deepEqual(dbValues(s), { a: 1, b: 2 });
  });
});
