/**
 * The mirror engine (src/mirror/mirror.ts, spec/sections/mirror-sync.md):
 * export after commits (coalesced, canonical, span edits that keep comments),
 * hand-edit import (3-way merge, source `file`, deletes, conflicts resolved by
 * time with the loser in history), invalid edits kept and reported, a deleted
 * file regenerated, TOML and YAML mirrors, and a format-1 store's first open.
 *
 * Every test has its own temp dir and `openStore({ dir, env: {} })`. A hand
 * edit counts as settled once its mtime is ≥ 100 ms old (handEdit waits).
 * "A watching process" is `store.syncMirror()` or a second handle with
 * freshnessMs: 0. No assertion is on speed: waits are bounded polls.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { JsonValue, Store } from '../../src/index.js';
import { codecFor, HEADER_TEXT, type MirrorFormat } from '../../src/mirror/codecs/index.js';
import { EMPTY_GRACE_MS } from '../../src/mirror/mirror.js';
import { APPLICATION_ID, MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { formatHlc } from '../../src/core/clock.js';
import {
  backdate,
  dbValues,
  fileValues,
  foreignCommit,
  handEdit,
  mirrorPath,
  open,
  readText,
  sha,
  sleep,
  tick,
  tmpDir,
  waitFor,
} from './fixtures/engine-helpers.js';

const WORKER = fileURLToPath(new URL('./mirror-writer-worker.js', import.meta.url));

/** The canonical file of the store's database values. */
function canonical(store: Store, format: MirrorFormat = 'json'): string {
  const entries = Object.entries(dbValues(store)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return codecFor(format).render(entries);
}

/** Waits (bounded) until the file holds exactly the database's values. */
async function fileCatchesUp(dir: string, store: Store, format: MirrorFormat = 'json', limitMs = 1000): Promise<void> {
  await waitFor(
    () => {
      try {
        assert.deepEqual(fileValues(dir, format), dbValues(store));
        return true;
      } catch {
        return false;
      }
    },
    limitMs,
    'the mirror file to hold the database values',
  );
}

// ── export ───────────────────────────────────────────────────────────────

describe('export', () => {
  it('a set appears in the file within a bound, with no explicit sync', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('display.units', 'metric');
    await waitFor(() => fileValues(dir)['display.units'] === 'metric', 1000, 'display.units in config.json');
    s.set('display.units', 'imperial');
    s.set('plant.limits', [1, 2.5]);
    await waitFor(
      () => fileValues(dir)['plant.limits'] !== undefined && fileValues(dir)['display.units'] === 'imperial',
      1000,
    );
    assert.equal(s.status().mirror?.state, 'in-sync');
  });

  it('the file of a fresh store is byte-for-byte the canonical render', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'plant.limits', value: [1, 2.5] },
      { op: 'set', key: 'display.units', value: 'metric' },
      { op: 'set', key: '10', value: { b: 1, a: [null, true, { z: 'é😀\u2028' }] } },
      { op: 'set', key: '2', value: '' },
      { op: 'set', key: 'n', value: null },
    ]);
    await fileCatchesUp(dir, s);
    const text = readText(mirrorPath(dir));
    assert.equal(text, canonical(s));
    assert.ok(text?.startsWith(`// ${HEADER_TEXT}\n`));
  });

  it('span edits of a canonical file stay canonical (set, change, delete, down to {})', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('b', 1);
    s.set('a', { x: [1, 2] });
    s.syncMirror();
    assert.equal(readText(mirrorPath(dir)), canonical(s));
    s.set('c.d', 'x');
    s.set('a', 'now a string');
    s.syncMirror();
    assert.equal(readText(mirrorPath(dir)), canonical(s));
    s.delete('a');
    s.delete('b');
    s.delete('c.d');
    s.syncMirror();
    assert.equal(readText(mirrorPath(dir)), codecFor('json').render([]));
    assert.equal(s.status().mirror?.state, 'in-sync');
  });

  it('a burst of 1,000 sets in one synchronous loop gives one export', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('seed', 0);
    s.syncMirror();
    const file = mirrorPath(dir);
    const before = readText(file);
    let renames = 0;
    const watcher = fs.watch(dir, (_event, name) => {
      if (name === 'config.json') renames++;
    });
    t.after(() => watcher.close());
    await sleep(50); // let the watcher start
    renames = 0;
    for (let i = 0; i < 1000; i++) s.set(`burst.k${i}`, i);
    // Record the file's content after every macrotask tick until it holds the burst.
    const seen = new Set<string>([sha(before ?? '')]);
    const end = Date.now() + 3000;
    for (;;) {
      await tick();
      const now = readText(file) ?? '';
      seen.add(sha(now));
      if (now.includes('"burst.k999": 999')) break;
      assert.ok(Date.now() < end, 'the burst reached the file within 3 s');
    }
    assert.equal(seen.size, 2, 'the file went from the old content to the final content in one step');
    assert.deepEqual(fileValues(dir), dbValues(s));
    await sleep(200); // let fs.watch deliver its events
    assert.ok(renames >= 1 && renames <= 5, `at most 5 rewrites (inotify events on config.json: ${renames})`);
  });

  it('a batch of 1,000 changes gives one rewrite holding all of them', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('seed', 0);
    s.syncMirror();
    const ino = fs.statSync(mirrorPath(dir)).ino;
    s.batch(Array.from({ length: 1000 }, (_, i) => ({ op: 'set' as const, key: `b.k${i}`, value: { i } })));
    await fileCatchesUp(dir, s, 'json', 2000);
    assert.notEqual(fs.statSync(mirrorPath(dir)).ino, ino, 'replaced by rename, not written in place');
    assert.equal(readText(mirrorPath(dir)), canonical(s));
  });

  it('close() flushes a pending export', (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    s.set('b', 2);
    s.close();
    assert.deepEqual(fileValues(dir), { a: 1, b: 2 });
  });

  for (const mode of ['set-exit', 'set-process-exit'] as const) {
    it(`the mirror is not later than the writing process's exit (${mode})`, (t) => {
      const dir = tmpDir(t);
      const values = { 'a.b': 1, c: [true, null], d: 'x'.repeat(1000) };
      const r = spawnSync(process.execPath, [WORKER, mode, dir, JSON.stringify(values)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(fileValues(dir), values);
      const s = open(t, dir);
      assert.equal(s.status().mirror?.state, 'in-sync');
    });
  }

  it('comments, order and formatting survive exports after a hand edit', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.set('b', 2);
    s.syncMirror();
    const hand = [
      '// psmc mirror v1: my own header note',
      '{',
      '  // zed first, on purpose',
      '  "z.last": true,',
      '',
      '  "b":    2, // two, spaced out',
      '  /* block comment */ "a": 1,',
      '  "list": [1,2,   3] // compact',
      '}',
      '',
    ].join('\n');
    await handEdit(mirrorPath(dir), hand);
    s.syncMirror();
    assert.deepEqual(dbValues(s), { a: 1, b: 2, 'z.last': true, list: [1, 2, 3] });
    assert.equal(readText(mirrorPath(dir)), hand, 'an import does not rewrite the file');
    s.set('a', 10);
    s.set('c', 'new');
    s.syncMirror();
    const expected = codecFor('json').update(hand, [
      { key: 'a', value: 10 },
      { key: 'c', value: 'new' },
    ]);
    assert.equal(readText(mirrorPath(dir)), expected);
    for (const kept of [
      '// zed first, on purpose',
      '// two, spaced out',
      '/* block comment */',
      '[1,2,   3]',
      '// compact',
      'my own header note',
    ]) {
      assert.ok(expected.includes(kept), kept);
    }
    assert.deepEqual(fileValues(dir), dbValues(s));
  });

  it('mirror: false writes no file', (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir, { mirror: false });
    s.set('a', 1);
    s.close();
    assert.equal(readText(mirrorPath(dir)), undefined);
  });
});

// ── import ───────────────────────────────────────────────────────────────

describe('import of hand edits', () => {
  it('a hand edit is applied with source `file`, and a watching handle sees it', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: { x: 1 } },
    ]);
    s.syncMirror();
    const watcher = open(t, dir, { freshnessMs: 0 });
    const text = readText(mirrorPath(dir)) ?? '';
    await handEdit(mirrorPath(dir), text.replace('"a": 1', '"a": 2').replace('"x": 1', '"x": 1,\n    "y": [1]'));
    await waitFor(() => watcher.get('a') === 2, 1000, 'the read to see the hand edit');
    assert.deepEqual(watcher.get('b'), { x: 1, y: [1] });
    const h = s.history('a')[0];
    assert.equal(h?.op, 'set');
    assert.equal(h?.source, 'file');
    assert.equal(h?.oldValue, 1);
    assert.equal(h?.newValue, 2);
    assert.equal(s.history('b')[0]?.source, 'file');
    assert.equal(s.history('a')[0]?.revision, s.history('b')[0]?.revision, 'one import is one revision');
    const st = s.status();
    assert.equal(st.mirror?.state, 'in-sync');
    assert.notEqual(st.mirror?.importedAt, undefined);
    assert.equal(st.conflicts, 0);
  });

  it('a write imports a pending hand edit first, then merges with it', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    await handEdit(mirrorPath(dir), '{ "a": 1, "h": "from the file" }');
    s.set('w', 'from the api');
    assert.equal(s.get('h'), 'from the file');
    assert.equal(s.history('h')[0]?.source, 'file');
    assert.ok((s.history('h')[0]?.revision ?? 0) < (s.history('w')[0]?.revision ?? 0));
    await fileCatchesUp(dir, s);
  });

  it('a key deleted in the file is deleted, and the delete is recorded', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 2 },
    ]);
    s.syncMirror();
    await handEdit(mirrorPath(dir), '{\n  "a": 1\n}\n');
    s.syncMirror();
    assert.equal(s.get('b'), undefined);
    const h = s.history('b')[0];
    assert.equal(h?.op, 'delete');
    assert.equal(h?.source, 'file');
    assert.equal(h?.oldValue, 2);
    assert.deepEqual(dbValues(s), { a: 1 });
  });

  it('an empty document ({}) deletes every key once it has stayed unchanged for EMPTY_GRACE_MS', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 2 },
    ]);
    s.syncMirror();
    await handEdit(mirrorPath(dir), '{}\n');
    assert.ok((s.syncMirror().retryInMs ?? 0) > 0, 'waited on like an empty file');
    assert.deepEqual(dbValues(s), { a: 1, b: 2 });
    backdate(mirrorPath(dir), EMPTY_GRACE_MS + 500);
    s.syncMirror();
    assert.deepEqual(dbValues(s), {});
    assert.equal(s.history().filter((r) => r.op === 'delete' && r.source === 'file').length, 2);
  });

  it('a file touched but not changed imports nothing', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    const rev = s.revision();
    const text = readText(mirrorPath(dir));
    await handEdit(mirrorPath(dir), text ?? '');
    backdate(mirrorPath(dir), 100);
    s.syncMirror();
    assert.equal(s.revision(), rev);
    assert.equal(s.status().mirror?.state, 'in-sync');
  });

  it('a deleted file is regenerated from the database (nothing is deleted)', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: [1, { c: null }] },
    ]);
    s.syncMirror();
    const rev = s.revision();
    fs.unlinkSync(mirrorPath(dir));
    assert.equal(s.status().mirror?.state, 'missing');
    s.syncMirror();
    assert.equal(readText(mirrorPath(dir)), canonical(s));
    assert.equal(s.revision(), rev);
    assert.deepEqual(dbValues(s), { a: 1, b: [1, { c: null }] });
    // Deleted again, then a write: the write regenerates it and the new value is in it.
    fs.unlinkSync(mirrorPath(dir));
    s.set('c', 3);
    await fileCatchesUp(dir, s);
  });

  it('a deleted file is regenerated on the next open', (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', 1);
    s.close();
    fs.unlinkSync(mirrorPath(dir));
    const again = open(t, dir);
    assert.equal(readText(mirrorPath(dir)), canonical(again));
  });
});

// ── invalid edits ────────────────────────────────────────────────────────

function deep(n: number): string {
  let s = '1';
  for (let i = 0; i < n; i++) s = `[${s}]`;
  return s;
}

interface BadEdit {
  readonly name: string;
  readonly text: string;
  readonly code: string;
  readonly line: number;
  readonly key?: string;
  readonly schema?: boolean;
}

const BAD_EDITS: readonly BadEdit[] = [
  { name: 'a syntax error', text: '{\n  "a": 1,\n  "b": 2,,\n}\n', code: 'PSMC_PARSE', line: 3 },
  { name: 'an unclosed string', text: '{\n  "a": 1,\n  "b": "oops\n}\n', code: 'PSMC_PARSE', line: 3 },
  { name: 'a bad key', text: '{\n  "a": 1,\n  "Bad Key!": 2\n}\n', code: 'PSMC_KEY_SYNTAX', line: 3, key: 'Bad Key!' },
  {
    name: 'a __proto__ key',
    text: '{\n  "a": 1,\n  "__proto__": 2\n}\n',
    code: 'PSMC_KEY_RESERVED',
    line: 3,
    key: '__proto__',
  },
  {
    name: 'a __proto__ member',
    text: '{\n  "a": 1,\n  "b": { "__proto__": { "polluted": 1 } }\n}\n',
    code: 'PSMC_VALUE_INVALID',
    line: 3,
    key: 'b',
  },
  {
    name: 'a schema violation',
    text: '{\n  "a": 1,\n  "b": "two"\n}\n',
    code: 'PSMC_SCHEMA_VIOLATION',
    line: 3,
    key: 'b',
    schema: true,
  },
  {
    name: 'a value nested too deep',
    text: `{\n  "a": 1,\n  "b": ${deep(65)}\n}\n`,
    code: 'PSMC_VALUE_INVALID',
    line: 3,
    key: 'b',
  },
  {
    name: 'an integer beyond 2^53',
    text: '{\n  "a": 1,\n  "b": 9007199254740993\n}\n',
    code: 'PSMC_VALUE_INVALID',
    line: 3,
    key: 'b',
  },
  {
    name: 'a value over 1 MiB',
    text: `{\n  "a": 1,\n  "b": "${'x'.repeat(1_048_577)}"\n}\n`,
    code: 'PSMC_VALUE_TOO_LARGE',
    line: 3,
    key: 'b',
  },
  { name: 'a duplicate key', text: '{\n  "a": 1,\n  "b": 2,\n  "b": 3\n}\n', code: 'PSMC_PARSE', line: 4, key: 'b' },
  {
    name: 'a mirror header from the future',
    text: '// psmc mirror v2\n{\n  "a": 1,\n  "b": 9\n}\n',
    code: 'PSMC_FORMAT_TOO_NEW',
    line: 1,
  },
];

describe('invalid edits are never applied and never overwritten', () => {
  for (const bad of BAD_EDITS) {
    it(`${bad.name}: kept byte for byte, reported, and the store goes on`, async (t) => {
      const dir = tmpDir(t);
      const file = mirrorPath(dir);
      const s = open(t, dir);
      if (bad.schema === true) s.setSchema({ keys: { b: { type: 'integer' } } });
      s.batch([
        { op: 'set', key: 'a', value: 1 },
        { op: 'set', key: 'b', value: 2 },
      ]);
      s.syncMirror();
      const revision = s.revision();
      await handEdit(file, bad.text);
      const r = s.syncMirror();
      assert.equal(r.error?.code, bad.code, JSON.stringify(r));
      assert.equal(readText(file), bad.text);
      assert.deepEqual(dbValues(s), { a: 1, b: 2 });
      assert.equal(s.revision(), revision);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);

      const st = s.status().mirror;
      assert.equal(st?.state, 'invalid-edit');
      const e = st?.error;
      assert.ok(e !== undefined);
      assert.equal(e.code, bad.code);
      assert.equal(e.file, file);
      assert.equal(e.line, bad.line, `line of ${JSON.stringify(e)}`);
      assert.equal(typeof e.column, 'number');
      assert.ok((e.column ?? 0) >= 1);
      if (bad.key !== undefined) assert.equal(e.key, bad.key);
      assert.ok(e.message.includes(file), 'the message names the file');
      assert.ok(e.message.includes(`:${bad.line}:`), 'the message names the line');
      assert.ok(e.hint.length > 20, 'there is a hint');

      // The store keeps working; writes succeed, are readable, and never overwrite the file.
      s.set('c', 3);
      s.set('a', 100);
      assert.equal(s.get('c'), 3);
      assert.equal(s.get('a'), 100);
      await sleep(150); // the engine's scheduled export has had its chance
      s.syncMirror();
      s.close();
      const other = open(t, dir, { freshnessMs: 0 });
      assert.equal(other.get('c'), 3);
      assert.equal(other.get('b'), 2);
      other.syncMirror();
      assert.equal(readText(file), bad.text, 'the bad file is untouched after further writes');
      assert.equal(other.status().mirror?.state, 'invalid-edit');
    });
  }

  it('a file that is not UTF-8 is an invalid edit, not imported with U+FFFD', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.set('a', 'hello');
    s.syncMirror();
    const bytes = Buffer.from('{\n  "a": "hel?lo"\n}\n', 'utf8');
    bytes[bytes.indexOf('?'.charCodeAt(0))] = 0xff; // e.g. a Latin-1 save of a non-ASCII character
    await handEdit(file, bytes);
    const r = s.syncMirror();
    assert.equal(s.get('a'), 'hello', 'the value is not silently corrupted');
    assert.ok(r.error !== undefined, 'the edit is reported');
    assert.equal(s.status().mirror?.state, 'invalid-edit');
    assert.deepEqual(fs.readFileSync(file), bytes);
  });

  it('fixing the file imports it and exports the writes made meanwhile', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 2 },
    ]);
    s.syncMirror();
    await handEdit(file, '{\n  "a": 1,\n  "b": 2,,\n}\n');
    s.syncMirror();
    assert.equal(s.status().mirror?.state, 'invalid-edit');
    s.set('c', 3);
    await handEdit(file, '// fixed\n{\n  "a": 1,\n  "b": 5\n}\n');
    const r = s.syncMirror();
    assert.equal(r.error, undefined);
    assert.deepEqual(dbValues(s), { a: 1, b: 5, c: 3 });
    assert.equal(s.history('b')[0]?.source, 'file');
    assert.equal(s.status().mirror?.state, 'in-sync');
    // The mirror is true again: it shows c, and still has the user's comment.
    await fileCatchesUp(dir, s);
    assert.ok(readText(file)?.includes('// fixed'));
  });

  it('after an import, a key changed only in the database is in the file and survives the next hand edit', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 1 },
    ]);
    s.syncMirror();
    // Another process changes a (no export yet); meanwhile the user edits b.
    foreignCommit(dir, [{ op: 'set', key: 'a', value: 2 }]);
    await handEdit(file, '{\n  "a": 1,\n  "b": 2\n}\n');
    s.syncMirror();
    assert.deepEqual(dbValues(s), { a: 2, b: 2 });
    await fileCatchesUp(dir, s);
    // The user edits b again, from the file as it is now.
    await handEdit(file, (readText(file) ?? '').replace('"b": 2', '"b": 3'));
    s.syncMirror();
    assert.deepEqual(dbValues(s), { a: 2, b: 3 }, 'a is not reverted by an edit that did not touch it');
  });

  it('a file fixed back to the exported bytes clears the error', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    const good = readText(file) ?? '';
    await handEdit(file, '{ oops');
    s.syncMirror();
    assert.equal(s.status().mirror?.state, 'invalid-edit');
    await handEdit(file, good);
    s.syncMirror();
    assert.equal(s.status().mirror?.state, 'in-sync');
    assert.equal(s.status().mirror?.error, undefined);
    s.set('b', 2);
    await fileCatchesUp(dir, s);
  });

  it('deleting an invalid file regenerates it from the database', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.set('a', 1);
    s.syncMirror();
    await handEdit(file, '{ oops');
    s.syncMirror();
    s.set('b', 2);
    fs.unlinkSync(file);
    s.syncMirror();
    assert.equal(readText(file), canonical(s));
    assert.equal(s.status().mirror?.state, 'in-sync');
  });
});

// ── conflicts ────────────────────────────────────────────────────────────

describe('conflicts are resolved by time, the loser kept in history', () => {
  it('a database change newer than the file wins; the file value is a conflict record and the file is corrected', (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'k', value: 'base' },
      { op: 'set', key: 'other', value: 1 },
    ]);
    s.syncMirror();
    s.set('k', 'db'); // committed; its export has not run yet
    const hand = '// note\n{\n  "k": "file",\n  "other": 2\n}\n';
    fs.writeFileSync(file, hand);
    backdate(file, 5000); // saved before the database change
    s.syncMirror();
    assert.equal(s.get('k'), 'db');
    assert.equal(s.get('other'), 2, 'the non-conflicting part of the edit is applied');
    const c = s.history('k')[0];
    assert.equal(c?.op, 'conflict');
    assert.equal(c?.oldValue, 'file');
    assert.equal(c?.newValue, 'db');
    assert.equal(c?.source, 'file');
    assert.equal(s.status().conflicts, 1);
    assert.deepEqual(fileValues(dir), { k: 'db', other: 2 });
    assert.ok(readText(file)?.startsWith('// note\n'), 'the correction is a span edit');
    assert.equal(s.status().mirror?.state, 'in-sync');
  });

  it('a file edit newer than the database change wins; the database value is a conflict record', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.set('k', 'base');
    s.syncMirror();
    foreignCommit(dir, [{ op: 'set', key: 'k', value: 'db' }], 'gui');
    await handEdit(file, '{\n  "k": "file"\n}\n');
    s.syncMirror();
    assert.equal(s.get('k'), 'file');
    const [set, conflict] = s
      .history('k')
      .filter((r) => r.revision === s.revision())
      .sort((a, b) => a.seq - b.seq);
    assert.equal(set?.op, 'set');
    assert.equal(set?.source, 'file');
    assert.equal(conflict?.op, 'conflict');
    assert.equal(conflict?.oldValue, 'db');
    assert.equal(conflict?.newValue, 'file');
    assert.equal(conflict?.source, 'gui');
    assert.equal(s.status().conflicts, 1);
    assert.equal(readText(file), '{\n  "k": "file"\n}\n', 'the winning file is not rewritten');
  });

  it('delete against change: a newer database change beats a file delete, and vice versa', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'x', value: 1 },
      { op: 'set', key: 'y', value: 1 },
    ]);
    s.syncMirror();
    // x: deleted in the file (older), changed in the database (newer) → kept.
    s.set('x', 2);
    fs.writeFileSync(file, '{\n  "y": 1\n}\n');
    backdate(file, 5000);
    s.syncMirror();
    assert.equal(s.get('x'), 2);
    assert.deepEqual(s.history('x')[0] && { op: s.history('x')[0]?.op, old: s.history('x')[0]?.oldValue }, {
      op: 'conflict',
      old: undefined,
    });
    assert.deepEqual(fileValues(dir), { x: 2, y: 1 });
    // y: deleted in the database (older, another process), changed in the file (newer) → the file's value.
    foreignCommit(dir, [{ op: 'delete', key: 'y' }]);
    await handEdit(file, (readText(file) ?? '').replace('"y": 1', '"y": 7'));
    s.syncMirror();
    assert.equal(s.get('y'), 7);
    assert.equal(s.status().conflicts, 2);
  });

  it('undo of an import whose file won a conflict puts the losing database value back', async (t) => {
    const dir = tmpDir(t);
    const file = mirrorPath(dir);
    const s = open(t, dir);
    s.set('k', 'base');
    s.syncMirror();
    foreignCommit(dir, [{ op: 'set', key: 'k', value: 'db' }]);
    await handEdit(file, '{ "k": "file" }');
    s.syncMirror();
    assert.equal(s.get('k'), 'file');
    s.undo();
    assert.equal(s.get('k'), 'db', 'undo skips the conflict record and reverts the set');
    await fileCatchesUp(dir, s);
  });
});

// ── TOML and YAML ────────────────────────────────────────────────────────

const FORMAT_EDITS: Record<
  'toml' | 'yaml',
  { edit: (text: string) => string; nullEntry: string; nullKey: string; nullValue: JsonValue }
> = {
  toml: {
    edit: (text) => `${text.replace('"a" = 1', '"a" = 2 # edited')}"added" = [1, "two"]\n`,
    nullEntry: '"n2" = { "$json" = "[null,{\\"p\\":null}]" }\n',
    nullKey: 'n2',
    nullValue: [null, { p: null }],
  },
  yaml: {
    edit: (text) => `${text.replace('a: 1', 'a: 2 # edited')}added:\n  - 1\n  - "two"\n`,
    nullEntry: 'n2:\n  - null\n  - p: ~\n',
    nullKey: 'n2',
    nullValue: [null, { p: null }],
  },
};

for (const format of ['toml', 'yaml'] as const) {
  describe(`a ${format.toUpperCase()} mirror`, () => {
    it('setMirrorFormat exports the canonical file; the old file stays', async (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      s.batch([
        { op: 'set', key: 'a', value: 1 },
        { op: 'set', key: 'n', value: null },
        { op: 'set', key: 'arr', value: [1, null, 'x\ny'] },
        { op: 'set', key: 'obj', value: { $json: 5 } },
        { op: 'set', key: 'when', value: '1979-05-27T07:32:00Z' },
        { op: 'set', key: 'y.n', value: 'yes' },
      ]);
      s.syncMirror();
      const json = readText(mirrorPath(dir));
      s.setMirrorFormat(format);
      assert.equal(s.status().mirror?.format, format);
      assert.equal(s.status().mirror?.file, mirrorPath(dir, format));
      assert.equal(readText(mirrorPath(dir, format)), canonical(s, format));
      assert.equal(readText(mirrorPath(dir)), json, 'the JSON file is left in place');
      assert.deepEqual(fileValues(dir, format), dbValues(s));
      s.set('later', { deep: [[null]] });
      await fileCatchesUp(dir, s, format);
      assert.equal(readText(mirrorPath(dir, format)), canonical(s, format));
      if (format === 'toml') assert.ok(readText(mirrorPath(dir, format))?.includes('"n" = { "$json" = "null" }'));
    });

    it('a hand edit is imported; null values round trip untouched', async (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      s.setMirrorFormat(format);
      s.batch([
        { op: 'set', key: 'a', value: 1 },
        { op: 'set', key: 'n', value: null },
        { op: 'set', key: 'deep', value: { x: [1, null] } },
      ]);
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const nRevision = s.history('n')[0]?.revision;
      const spec = FORMAT_EDITS[format];
      const edited = spec.edit(readText(file) ?? '') + spec.nullEntry;
      await handEdit(file, edited);
      const r = s.syncMirror();
      assert.equal(r.error, undefined, JSON.stringify(r));
      assert.equal(s.get('a'), 2);
      assert.deepEqual(s.get('added'), [1, 'two']);
      assert.deepEqual(s.get(spec.nullKey), spec.nullValue);
      assert.equal(s.get('n'), null);
      assert.deepEqual(s.get('deep'), { x: [1, null] });
      assert.equal(s.history('n')[0]?.revision, nRevision, 'the null key did not change');
      assert.equal(s.history('a')[0]?.source, 'file');
      assert.equal(readText(file), edited);
      s.set('a', 3);
      await fileCatchesUp(dir, s, format);
      assert.ok(readText(file)?.includes('# edited') || format === 'toml', 'comments survive');
    });

    it('an invalid edit is kept and reported with a line', async (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      s.setMirrorFormat(format);
      s.set('a', 1);
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const bad =
        format === 'toml' ? `${readText(file) ?? ''}display.units = "x"\n` : `${readText(file) ?? ''}b: &anchor 1\n`;
      await handEdit(file, bad);
      const r = s.syncMirror();
      assert.equal(r.error?.code, 'PSMC_PARSE');
      assert.equal(s.status().mirror?.error?.line, 3);
      s.set('c', 1);
      s.syncMirror();
      assert.equal(readText(file), bad);
      assert.deepEqual(dbValues(s), { a: 1, c: 1 });
    });
  });
}

describe('switching formats', () => {
  it('json → toml → yaml → off: each file holds the store; off writes nothing', (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.set('a', [1, null]);
    for (const f of ['toml', 'yaml'] as const) {
      s.setMirrorFormat(f);
      assert.deepEqual(fileValues(dir, f), dbValues(s));
    }
    s.setMirrorFormat('off');
    assert.equal(s.status().mirror?.state, 'off');
    s.set('b', 2);
    assert.deepEqual(s.syncMirror(), {});
    assert.equal(fileValues(dir, 'yaml')['b'], undefined, 'off: the old file is not updated');
    assert.throws(() => s.setMirrorFormat('xml' as never), TypeError);
  });

  it('switching back to a format whose old file is still there does not import that stale file', async (t) => {
    const dir = tmpDir(t);
    const s = open(t, dir);
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 2 },
    ]);
    s.syncMirror();
    assert.deepEqual(fileValues(dir, 'json'), { a: 1, b: 2 });
    s.setMirrorFormat('toml');
    s.delete('b');
    s.set('a', 5);
    s.set('c', 3);
    s.syncMirror();
    await sleep(20);
    s.setMirrorFormat('json');
    assert.deepEqual(dbValues(s), { a: 5, c: 3 }, 'the stale config.json is not a hand edit: b stays deleted');
    assert.equal(s.status().conflicts, 0);
    assert.equal(s.history().filter((r) => r.source === 'file').length, 0);
    assert.deepEqual(fileValues(dir, 'json'), dbValues(s), 'config.json holds the store again');
  });
});

// ── a format-1 store ─────────────────────────────────────────────────────

describe('a store of format 1 (before the mirror)', () => {
  it('gets its mirror on first open', (t) => {
    const dir = tmpDir(t);
    const file = path.join(dir, 'psmc.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(MIGRATIONS[0] as string);
    const at = formatHlc({ ms: Date.now() - 60_000, counter: 0 });
    db.prepare('INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 2, ?, ?, ?)').run(
      at,
      globalThis.crypto.randomUUID(),
      new Date().toISOString(),
    );
    const put = db.prepare(
      'INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const log = db.prepare(
      'INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note) VALUES (?, 0, ?, ?, NULL, ?, ?, ?, NULL)',
    );
    put.run('display.units', '"metric"', 'string', 1, at, 'cli');
    log.run(1, 'display.units', 'set', '"metric"', 'cli', at);
    put.run('plant.limits', '[1,2.5,null]', 'array', 2, at, 'python');
    log.run(2, 'plant.limits', 'set', '[1,2.5,null]', 'python', at);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 1');
    db.close();
    assert.equal(readText(mirrorPath(dir)), undefined);

    const s = open(t, dir);
    assert.equal(readText(mirrorPath(dir)), canonical(s));
    assert.deepEqual(fileValues(dir), { 'display.units': 'metric', 'plant.limits': [1, 2.5, null] });
    const st = s.status();
    assert.equal(st.mirror?.state, 'in-sync');
    assert.equal(st.mirror?.revision, 2);
    assert.equal(st.revision, 2, 'opening took no revision');
    assert.equal(st.conflicts, 0);
  });
});
