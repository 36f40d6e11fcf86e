/**
 * The Store (library API) end to end on real SQLite files in temp directories:
 * writes, CAS, batch, undo, history, layers, env, paths, caching and errors.
 *
 * Every test gets its own temp directory and never touches the real HOME: each
 * openStore call passes `dir`, or `env` with PSMC_HOME, explicitly.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openStore, PsmcError, type OpenOptions, type PsmcErrorCode, type Store } from '../../src/index.js';

const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;
const T0 = Date.UTC(2026, 10, 26, 3, 55, 55, 123);

function tmp(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

interface FakeClock {
  (): number;
  now: number;
}
function fakeClock(start = T0): FakeClock {
  const f = (() => f.now) as FakeClock;
  f.now = start;
  return f;
}

/** Opens a store that reads no real environment; closed after the test. */
function open(t: TestContext, options: OpenOptions): Store {
  const s = openStore({ env: {}, ...options });
  t.after(() => s.close());
  return s;
}

/** Everything observable about the write store, to prove that a failed call changed nothing. */
function fingerprint(s: Store): string {
  return JSON.stringify({
    exp: s.exportData(),
    history: s.history(),
    revision: s.revision(),
    schema: s.schema() ?? null,
  });
}

function expectError(
  fn: () => unknown,
  code: PsmcErrorCode,
  opts: { key?: string; message?: RegExp | string } = {},
): PsmcError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof PsmcError,
    `expected PsmcError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`,
  );
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.hint.trim().length > 0, 'hint must not be empty');
  assert.ok(caught.message.trim().length > 0);
  if (opts.key !== undefined) {
    assert.ok(caught.message.includes(opts.key), `message should mention the key ${opts.key}: ${caught.message}`);
  }
  if (typeof opts.message === 'string')
    assert.ok(caught.message.includes(opts.message), `${caught.message} should include ${opts.message}`);
  else if (opts.message) assert.match(caught.message, opts.message);
  return caught;
}

/** Expects the error and that the store's fingerprint did not change. */
function refusedUnchanged(
  s: Store,
  fn: () => unknown,
  code: PsmcErrorCode,
  opts: { key?: string; message?: RegExp | string } = {},
): PsmcError {
  const before = fingerprint(s);
  const e = expectError(fn, code, opts);
  assert.equal(fingerprint(s), before, 'the store changed after a refused call');
  return e;
}

/** Runs a script in a separate node process (its own SQLite connection), with `A` = args. */
function child(script: string, args: Record<string, unknown>): string {
  return execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { openStore } from ${JSON.stringify(INDEX_URL)};\nconst A = JSON.parse(process.argv[1]);\n${script}`,
      JSON.stringify(args),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } },
  );
}

function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

// ---------------------------------------------------------------------------

describe('set, get, delete', () => {
  it('set returns the commit; get reads it back; revision counts commits', (t) => {
    const clock = fakeClock();
    const s = open(t, { dir: tmp(t), clock });
    assert.equal(s.revision(), 0);
    const c = s.set('display.units', 'metric');
    assert.equal(c.revision, 1);
    assert.equal(c.at, '2026-11-26T03:55:55.123Z-0000');
    assert.equal(c.changes.length, 1);
    assert.deepEqual(
      { ...c.changes[0] },
      {
        revision: 1,
        seq: 0,
        key: 'display.units',
        op: 'set',
        oldValue: undefined,
        newValue: 'metric',
        source: 'api',
        at: c.at,
        note: undefined,
      },
    );
    assert.equal(s.get('display.units'), 'metric');
    assert.equal(s.revision(), 1);
    const c2 = s.set('display.units', 'imperial');
    assert.equal(c2.revision, 2);
    assert.equal(c2.at, '2026-11-26T03:55:55.123Z-0001', 'same wall time: the counter goes up');
    assert.equal(c2.changes[0]?.oldValue, 'metric');
    clock.now += 1000;
    assert.equal(s.set('x', 1).at, '2026-11-26T03:55:56.123Z-0000');
  });

  it('a clock that goes backwards still gives strictly increasing commit times', (t) => {
    const clock = fakeClock();
    const s = open(t, { dir: tmp(t), clock });
    let last = '';
    for (let i = 0; i < 20; i++) {
      clock.now += i % 3 === 0 ? -3_600_000 : 7;
      const at = s.set('k', i).at;
      assert.ok(at > last, `${at} > ${last}`);
      last = at;
    }
  });

  it('resolve gives metadata for store values', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock(), source: 'gui' });
    s.set('a', { x: [1, 2] });
    const r = s.resolve('a');
    assert.deepEqual(r.value, { x: [1, 2] });
    assert.equal(r.found, true);
    assert.equal(r.layer, 'user');
    assert.equal(r.revision, 1);
    assert.equal(r.source, 'gui');
    assert.equal(r.updatedAt, '2026-11-26T03:55:55.123Z-0000');
  });

  it('per-write source overrides the handle source; bad sources are PSMC_USAGE and change nothing', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock(), source: 'gui' });
    s.set('a', 1, { source: 'rust-service' });
    assert.equal(s.history('a')[0]?.source, 'rust-service');
    for (const src of [
      '',
      'a\nb',
      'x\u0000',
      '\u007f',
      '\u0085',
      'x\u009f',
      'x'.repeat(129),
      '😀'.repeat(129),
      'bad\ud800',
    ]) {
      refusedUnchanged(s, () => s.set('a', 2, { source: src }), 'PSMC_USAGE');
    }
    assert.equal(s.set('a', 3, { source: 'x'.repeat(128) }).changes[0]?.source, 'x'.repeat(128));
    // 128 code points, not UTF-16 units: 128 astral characters are fine.
    assert.equal(s.set('a', 4, { source: '😀'.repeat(128) }).changes[0]?.source, '😀'.repeat(128));
    assert.throws(
      () => openStore({ dir: tmp(t), env: {}, source: '' }),
      (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_USAGE',
    );
  });

  it('get of an absent key is undefined, or the caller default', (t) => {
    const s = open(t, { dir: tmp(t) });
    assert.equal(s.get('nope'), undefined);
    assert.equal(s.get('nope', { default: 5 }), 5);
    s.set('yes', 0);
    assert.equal(s.get('yes', { default: 5 }), 0, 'a stored falsy value beats the caller default');
    s.set('nul', null);
    assert.equal(s.get('nul', { default: 5 }), null, 'a stored null beats the caller default');
  });

  it('delete removes and records; deleting an absent key is a no-op without a revision', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.set('a', 1);
    const d = s.delete('a');
    assert.equal(d.revision, 2);
    assert.equal(d.changes[0]?.op, 'delete');
    assert.equal(d.changes[0]?.oldValue, 1);
    assert.equal(d.changes[0]?.newValue, undefined);
    assert.equal(s.get('a'), undefined);
    const before = fingerprint(s);
    const noop = s.delete('a');
    assert.equal(noop.revision, 2);
    assert.deepEqual(noop.changes, []);
    assert.equal(fingerprint(s), before);
  });

  it('a set to the current value records nothing, takes no revision and keeps the metadata', (t) => {
    const clock = fakeClock();
    const s = open(t, { dir: tmp(t), clock, source: 'first' });
    s.set('a', { b: [1, 'x'] });
    const before = fingerprint(s);
    clock.now += 60_000;
    const c = s.set('a', { b: [1, 'x'] }, { source: 'second' });
    assert.equal(c.revision, 1);
    assert.deepEqual(c.changes, []);
    assert.equal(fingerprint(s), before);
    assert.equal(s.resolve('a').source, 'first');
    // -0 and 0 encode the same: also a no-op.
    s.set('z', 0);
    assert.deepEqual(s.set('z', -0).changes, []);
    // A different member order is a different encoded form, hence a change (§value.equality, §write.noop).
    s.set('o', { p: 1, q: 2 });
    assert.equal(s.set('o', { q: 2, p: 1 }).changes.length, 1);
  });

  it('values round-trip through the store exactly (property)', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('v', 0); // a read-only handle needs an existing store
    const other = open(t, { dir: s.info.user?.dir ?? '', freshnessMs: 0, readOnly: true });
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        let ok = true;
        try {
          s.set('v', v);
        } catch (e) {
          ok = false;
          assert.ok(
            e instanceof PsmcError && (e.code === 'PSMC_VALUE_INVALID' || e.code === 'PSMC_VALUE_TOO_LARGE'),
            String(e),
          );
        }
        if (ok) {
          assert.deepEqual(JSON.stringify(s.get('v')), JSON.stringify(v));
          assert.deepEqual(JSON.stringify(other.exportData().entries['v']?.value), JSON.stringify(v));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('illegal keys and values are refused with the key named, before anything is created', (t) => {
    const dir = path.join(tmp(t), 'store');
    const s = open(t, { dir });
    expectError(() => s.set('a..b', 1), 'PSMC_KEY_SYNTAX', { key: 'a..b' });
    expectError(() => s.set('a.constructor', 1), 'PSMC_KEY_RESERVED', { key: 'a.constructor' });
    expectError(() => s.set('a', NaN), 'PSMC_VALUE_INVALID', { key: '"a"' });
    expectError(() => s.set('a', 'x'.repeat(1_048_577)), 'PSMC_VALUE_TOO_LARGE', { key: '"a"' });
    expectError(() => s.delete('_x'), 'PSMC_KEY_SYNTAX', { key: '_x' });
    expectError(() => s.get('a b'), 'PSMC_KEY_SYNTAX', { key: 'a b' });
    expectError(() => s.explain('a b'), 'PSMC_KEY_SYNTAX');
    expectError(() => s.history('a b'), 'PSMC_KEY_SYNTAX');
    assert.equal(fs.existsSync(dir), false, 'refused writes create no store');
    s.set('ok', 1);
    refusedUnchanged(s, () => s.set('a..b', 1), 'PSMC_KEY_SYNTAX', { key: 'a..b' });
    refusedUnchanged(s, () => s.set('ok', { d: new Date() }), 'PSMC_VALUE_INVALID', { key: 'ok' });
    assert.throws(() => s.get(42 as unknown as string), TypeError);
  });
});

describe('compare-and-set', () => {
  it('expectRevision 0 on an absent key creates it; on a present key it conflicts with the current value', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    assert.equal(s.set('k', 'first', { expectRevision: 0 }).revision, 1);
    const e = refusedUnchanged(s, () => s.set('k', 'second', { expectRevision: 0 }), 'PSMC_CONFLICT', { key: 'k' });
    assert.equal(e.details.key, 'k');
    assert.equal(e.details.currentRevision, 1);
    assert.equal(e.details.expectedRevision, 0);
    assert.equal(e.details.currentValue, 'first');
    assert.match(e.message, /revision 1/);
  });

  it('a stale revision conflicts; the current one succeeds', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.set('k', 1); // r1
    s.set('other', 1); // r2
    s.set('k', { v: 2 }); // r3
    const e = refusedUnchanged(s, () => s.set('k', 9, { expectRevision: 1 }), 'PSMC_CONFLICT', { key: 'k' });
    assert.equal(e.details.currentRevision, 3);
    assert.deepEqual(e.details.currentValue, { v: 2 });
    assert.equal(s.set('k', 9, { expectRevision: 3 }).revision, 4);
    assert.equal(s.get('k'), 9);
  });

  it('CAS applies to no-op writes too', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('k', 1);
    s.set('k', 2);
    refusedUnchanged(s, () => s.set('k', 2, { expectRevision: 1 }), 'PSMC_CONFLICT', { key: 'k' });
    assert.deepEqual(s.set('k', 2, { expectRevision: 2 }).changes, []);
    refusedUnchanged(s, () => s.delete('absent', { expectRevision: 3 }), 'PSMC_CONFLICT', { key: 'absent' });
    assert.deepEqual(s.delete('absent', { expectRevision: 0 }).changes, []);
  });

  it('a key deleted since it was read conflicts with any non-zero expectation, and has no currentValue', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('k', 1);
    s.delete('k');
    const e = refusedUnchanged(s, () => s.set('k', 2, { expectRevision: 1 }), 'PSMC_CONFLICT', { key: 'k' });
    assert.equal(e.details.currentRevision, 0);
    assert.equal(Object.hasOwn(e.details, 'currentValue'), false);
    assert.match(e.message, /does not exist/);
  });

  it('delete with CAS', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('k', 1);
    s.set('k', 2);
    refusedUnchanged(s, () => s.delete('k', { expectRevision: 1 }), 'PSMC_CONFLICT', { key: 'k' });
    assert.equal(s.delete('k', { expectRevision: 2 }).revision, 3);
    assert.equal(s.get('k'), undefined);
  });

  it('bad expectRevision values are PSMC_USAGE', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('k', 1);
    for (const r of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      refusedUnchanged(s, () => s.set('k', 2, { expectRevision: r }), 'PSMC_USAGE');
    }
    refusedUnchanged(s, () => s.set('k', 2, { expectRevision: '1' as unknown as number }), 'PSMC_USAGE');
  });

  it('two handles racing with the same expected revision: exactly one wins', (t) => {
    const dir = tmp(t);
    const a = open(t, { dir });
    const b = open(t, { dir });
    a.set('counter', 0);
    const rev = a.resolve('counter').revision;
    a.set('counter', 1, { expectRevision: rev });
    expectError(() => b.set('counter', 1, { expectRevision: rev }), 'PSMC_CONFLICT', { key: 'counter' });
  });
});

describe('batch', () => {
  it('commits all changes as one revision with seq in order; no-ops are skipped', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.set('same', 1);
    s.set('gone', 1);
    const c = s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'same', value: 1 },
      { op: 'delete', key: 'gone' },
      { op: 'delete', key: 'never' },
      { op: 'set', key: 'b', value: [2] },
    ]);
    assert.equal(c.revision, 3);
    assert.deepEqual(
      c.changes.map((r) => [r.seq, r.key, r.op, r.revision]),
      [
        [0, 'a', 'set', 3],
        [1, 'gone', 'delete', 3],
        [2, 'b', 'set', 3],
      ],
    );
    assert.equal(new Set(c.changes.map((r) => r.at)).size, 1);
    assert.equal(s.resolve('a').revision, 3);
    assert.equal(s.resolve('same').revision, 1);
  });

  it('an empty batch or an all-no-op batch takes no revision', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    const before = fingerprint(s);
    assert.equal(s.batch([]).revision, 1);
    assert.equal(
      s.batch([
        { op: 'set', key: 'a', value: 1 },
        { op: 'delete', key: 'b' },
      ]).revision,
      1,
    );
    assert.equal(fingerprint(s), before);
  });

  function seeded(t: TestContext): Store {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.setSchema({ keys: { 'limits.max': { type: 'integer', maximum: 100 } } });
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 'two' },
      { op: 'set', key: 'limits.max', value: 50 },
    ]);
    return s;
  }

  const middle = (bad: Record<string, unknown>): Array<Record<string, unknown>> => [
    { op: 'set', key: 'a', value: 100 },
    { op: 'delete', key: 'b' },
    bad,
    { op: 'set', key: 'new.key', value: true },
  ];

  it('a bad key in the middle changes nothing', (t) => {
    const s = seeded(t);
    refusedUnchanged(s, () => s.batch(middle({ op: 'set', key: 'bad..key', value: 1 }) as never), 'PSMC_KEY_SYNTAX', {
      key: 'bad..key',
    });
    refusedUnchanged(s, () => s.batch(middle({ op: 'delete', key: 'x.prototype' }) as never), 'PSMC_KEY_RESERVED', {
      key: 'x.prototype',
    });
  });

  it('a bad value in the middle changes nothing', (t) => {
    const s = seeded(t);
    refusedUnchanged(
      s,
      () => s.batch(middle({ op: 'set', key: 'c', value: { n: Infinity } }) as never),
      'PSMC_VALUE_INVALID',
      { key: '"c"' },
    );
    refusedUnchanged(
      s,
      () => s.batch(middle({ op: 'set', key: 'c', value: 'x'.repeat(1_100_000) }) as never),
      'PSMC_VALUE_TOO_LARGE',
      { key: '"c"' },
    );
  });

  it('a CAS conflict in the middle changes nothing', (t) => {
    const s = seeded(t);
    const e = refusedUnchanged(
      s,
      () => s.batch(middle({ op: 'set', key: 'limits.max', value: 7, expectRevision: 1 }) as never),
      'PSMC_CONFLICT',
      {
        key: 'limits.max',
      },
    );
    assert.equal(e.details.currentValue, 50);
  });

  it('a duplicate key changes nothing', (t) => {
    const s = seeded(t);
    refusedUnchanged(s, () => s.batch(middle({ op: 'set', key: 'a', value: 3 }) as never), 'PSMC_USAGE', {
      key: '"a"',
    });
  });

  it('a schema violation in the middle changes nothing', (t) => {
    const s = seeded(t);
    const e = refusedUnchanged(
      s,
      () => s.batch(middle({ op: 'set', key: 'limits.max', value: 1000 }) as never),
      'PSMC_SCHEMA_VIOLATION',
      { key: 'limits.max' },
    );
    assert.equal(e.details.key, 'limits.max');
  });

  it('misuse of the batch API is a TypeError', (t) => {
    const s = seeded(t);
    const before = fingerprint(s);
    assert.throws(() => s.batch('nope' as never), TypeError);
    assert.throws(() => s.batch([{ op: 'upsert', key: 'a', value: 1 }] as never), TypeError);
    assert.throws(() => s.batch([null] as never), TypeError);
    assert.equal(fingerprint(s), before);
  });
});

describe('undo', () => {
  it('undoes the newest revision by default, as a new commit with a note', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.set('a', 1); // r1
    s.set('a', 2); // r2
    const u = s.undo({ source: 'cli' });
    assert.equal(u.revision, 3);
    assert.equal(s.get('a'), 1);
    assert.equal(u.changes[0]?.note, 'undo of revision 2');
    assert.equal(u.changes[0]?.source, 'cli');
    assert.equal(u.changes[0]?.oldValue, 2);
    assert.equal(u.changes[0]?.newValue, 1);
  });

  it('undoes a specific revision, touching only its keys', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1); // r1
    s.set('b', 1); // r2
    s.undo({ revision: 1 });
    assert.equal(s.get('a'), undefined);
    assert.equal(s.get('b'), 1);
  });

  it('undoes a whole batch, and a delete', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('x', 'keep');
    s.batch([
      { op: 'set', key: 'a', value: 1 },
      { op: 'delete', key: 'x' },
    ]);
    s.undo();
    assert.equal(s.get('a'), undefined);
    assert.equal(s.get('x'), 'keep');
  });

  it('refuses with PSMC_CONFLICT when a key changed later, naming the later revision; force overrides', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1); // r1
    s.set('a', 2); // r2
    const e = refusedUnchanged(s, () => s.undo({ revision: 1 }), 'PSMC_CONFLICT', { key: 'a', message: /revision 2/ });
    assert.equal(e.details.currentRevision, 2);
    assert.match(e.hint, /force/);
    const u = s.undo({ revision: 1, force: true });
    assert.equal(s.get('a'), undefined);
    assert.equal(u.changes[0]?.oldValue, 2, 'the overwritten value stays in history');
  });

  it('a key set by the revision and deleted later conflicts too', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1); // r1
    s.delete('a'); // r2
    refusedUnchanged(s, () => s.undo({ revision: 1 }), 'PSMC_CONFLICT', { key: 'a' });
  });

  it('undo of an undo re-applies the change', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    s.set('a', 2);
    s.undo();
    assert.equal(s.get('a'), 1);
    const again = s.undo();
    assert.equal(s.get('a'), 2);
    assert.equal(again.changes[0]?.note, 'undo of revision 3');
  });

  it('nothing to undo on an empty store: PSMC_NOTHING_TO_UNDO', (t) => {
    const s = open(t, { dir: tmp(t) });
    expectError(() => s.undo(), 'PSMC_NOTHING_TO_UNDO');
  });

  it('an unknown revision is PSMC_NOT_FOUND; a malformed one PSMC_USAGE', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    refusedUnchanged(s, () => s.undo({ revision: 99 }), 'PSMC_NOT_FOUND', { message: '99' });
    refusedUnchanged(s, () => s.undo({ revision: -1 }), 'PSMC_USAGE');
    refusedUnchanged(s, () => s.undo({ revision: 1.5 }), 'PSMC_USAGE');
  });

  it('revision 0 has no records: PSMC_NOT_FOUND, not "the store has no changes"', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    refusedUnchanged(s, () => s.undo({ revision: 0 }), 'PSMC_NOT_FOUND');
  });

  it('undo of a schema change restores the previous schema', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('n', 5);
    s.setSchema({ keys: { n: { type: 'integer' } } });
    s.undo();
    assert.equal(s.schema(), undefined);
    s.set('n', 'now a string');
  });

  it('restored values are checked against the current schema', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 'text'); // r1
    s.set('a', 5); // r2
    s.setSchema({ keys: { a: { type: 'integer' } } }); // r3
    refusedUnchanged(s, () => s.undo({ revision: 2 }), 'PSMC_SCHEMA_VIOLATION', { key: 'a' });
  });
});

describe('history', () => {
  it('lists changes newest first, by key, by prefix, by revision range and limit', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock() });
    s.set('a.x', 1); // r1
    s.set('a.y', 1); // r2
    s.set('ab', 1); // r3
    s.set('a.x', 2); // r4
    s.delete('a.y'); // r5
    assert.deepEqual(
      s.history().map((r) => r.revision),
      [5, 4, 3, 2, 1],
    );
    assert.deepEqual(
      s.history('a.x').map((r) => [r.revision, r.oldValue, r.newValue]),
      [
        [4, 1, 2],
        [1, undefined, 1],
      ],
    );
    assert.deepEqual(
      s.history('a', { prefix: true }).map((r) => r.key),
      ['a.y', 'a.x', 'a.y', 'a.x'],
    );
    assert.deepEqual(s.history('a'), [], 'without prefix, only the exact key');
    assert.deepEqual(
      s.history(undefined, { sinceRevision: 2, untilRevision: 4 }).map((r) => r.revision),
      [4, 3],
    );
    assert.deepEqual(
      s.history(undefined, { limit: 2 }).map((r) => r.revision),
      [5, 4],
    );
  });

  it('records schema changes under @schema with the old and new documents', (t) => {
    const s = open(t, { dir: tmp(t) });
    const doc = { keys: { a: { type: 'integer' as const } } };
    s.setSchema(doc);
    s.setSchema(undefined);
    const h = s.history();
    assert.equal(h[0]?.key, '@schema');
    assert.equal(h[0]?.op, 'schema');
    assert.equal(h[0]?.newValue, undefined);
    assert.deepEqual((h[0]?.oldValue as { keys: unknown }).keys, doc.keys);
    assert.deepEqual((h[1]?.newValue as { keys: unknown }).keys, doc.keys);
    assert.deepEqual(s.setSchema(undefined).changes, [], 'removing an absent schema is a no-op');
  });

  it('setting the identical schema is a no-op; an invalid or violated schema changes nothing', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 'x');
    s.setSchema({ keys: { a: { type: 'string' } } });
    const before = fingerprint(s);
    assert.deepEqual(s.setSchema({ keys: { a: { type: 'string' } } }).changes, []);
    assert.equal(fingerprint(s), before);
    refusedUnchanged(s, () => s.setSchema({ keys: { a: { type: 'integer' } } }), 'PSMC_SCHEMA_VIOLATION', { key: 'a' });
    refusedUnchanged(s, () => s.setSchema({ keys: { a: { type: 'nope' } } } as never), 'PSMC_SCHEMA_INVALID');
  });
});

describe('list, all, explain, export, import', () => {
  it('list and all resolve every known key under a prefix, sorted', (t) => {
    const s = open(t, { dir: tmp(t), overrides: { 'o.k': 'ov' }, defaults: { 'd.k': 'def', 'a.d': 0 } });
    s.set('a.b', 1);
    s.set('a.c', 2);
    s.set('ab', 3);
    assert.deepEqual(
      s.list().map((r) => [r.key, r.value, r.layer]),
      [
        ['a.b', 1, 'user'],
        ['a.c', 2, 'user'],
        ['a.d', 0, 'default'],
        ['ab', 3, 'user'],
        ['d.k', 'def', 'default'],
        ['o.k', 'ov', 'override'],
      ],
    );
    assert.deepEqual(s.all('a'), { 'a.b': 1, 'a.c': 2, 'a.d': 0 });
    assert.deepEqual(s.all('a.'), s.all('a'));
    assert.deepEqual(s.all('zzz'), {});
    expectError(() => s.list('a..'), 'PSMC_KEY_SYNTAX');
  });

  it('exportData gives the documented document; import of it into a new store reproduces the values', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock(), source: 'cli' });
    s.set('display.units', 'metric');
    s.set('n', { deep: [1, null, 'x'] });
    s.setSchema({ keys: { n: { type: 'object' } } });
    const exp = s.exportData();
    assert.equal(exp.format, 'psmc-export');
    assert.equal(exp.version, 1);
    assert.equal(exp.revision, 3);
    assert.deepEqual(exp.entries['display.units'], {
      value: 'metric',
      type: 'string',
      revision: 1,
      updatedAt: '2026-11-26T03:55:55.123Z-0000',
      source: 'cli',
    });
    assert.deepEqual(exp.schema?.keys, { n: { type: 'object' } });
    const copy = open(t, { dir: tmp(t) });
    const c = copy.importData(JSON.parse(JSON.stringify(exp)) as unknown);
    assert.equal(c.revision, 1);
    assert.deepEqual(copy.all(), s.all());
  });

  it('import of a flat object; replace deletes the keys the document lacks; all in one revision', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('keep', 1);
    s.set('drop', 2);
    const c = s.importData({ keep: 1, 'new.one': 'x' }, { replace: true });
    assert.equal(c.revision, 3);
    assert.deepEqual(s.all(), { keep: 1, 'new.one': 'x' });
  });

  it('import records the source import:<file name> by default (§export)', (t) => {
    const s = open(t, { dir: tmp(t) });
    const c = s.importData({ a: 1 }, { file: 'settings.json' });
    assert.equal(c.changes[0]?.source, 'import:settings.json');
    assert.equal(s.importData({ b: 1 }, { source: 'me' }).changes[0]?.source, 'me');
  });

  it('malformed import documents are refused and change nothing', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    refusedUnchanged(s, () => s.importData([1, 2]), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData(null), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData('{"a":1}'), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData({ format: 'psmc-export', entries: {} }), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData({ format: 'psmc-export', version: 0, entries: {} }), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData({ format: 'psmc-export', version: 2, entries: {} }), 'PSMC_FORMAT_TOO_NEW');
    refusedUnchanged(s, () => s.importData({ format: 'psmc-export', version: 1, entries: [] }), 'PSMC_PARSE');
    refusedUnchanged(s, () => s.importData({ format: 'psmc-export', version: 1, entries: { a: 5 } }), 'PSMC_PARSE', {
      key: '"a"',
    });
    const e = refusedUnchanged(
      s,
      () => s.importData({ format: 'psmc-export', version: 1, entries: { b: {} } }, { file: 'x.json' }),
      'PSMC_PARSE',
      {
        key: '"b"',
        message: 'x.json',
      },
    );
    assert.equal(e.details.file, 'x.json');
    refusedUnchanged(s, () => s.importData({ ok: 1, 'bad key': 2 }), 'PSMC_KEY_SYNTAX', { key: 'bad key' });
    refusedUnchanged(s, () => s.importData({ ok: 1, bad: { v: NaN } }), 'PSMC_VALUE_INVALID', { key: '"bad"' });
    refusedUnchanged(s, () => s.importData({ ok: 1, 'bad.toString': 1 }, { replace: true }), 'PSMC_KEY_RESERVED');
  });

  it('explain names every layer in order, the winner and the reason', (t) => {
    const s = open(t, { dir: tmp(t), clock: fakeClock(), source: 'cli' });
    s.set('k', 'stored');
    const e = s.explain('k');
    assert.deepEqual(
      e.layers.map((l) => l.layer),
      ['override', 'env', 'project', 'user', 'default', 'caller'],
    );
    assert.equal(e.layer, 'user');
    assert.equal(e.value, 'stored');
    assert.equal(e.revision, 1);
    assert.equal(e.source, 'cli');
    const user = e.layers.find((l) => l.layer === 'user');
    assert.equal(user?.present, true);
    assert.equal(user?.origin, s.info.user?.dir);
    assert.match(e.reason, /user store/);
    const none = s.explain('absent');
    assert.equal(none.found, false);
    assert.equal(none.value, undefined);
    assert.match(none.reason, /No layer has a value/);
  });
});

describe('layers', () => {
  it('override > env > project > user > shipped default > schema default > caller default, each explained', (t) => {
    const root = tmp(t);
    const userDir = path.join(root, 'user');
    const projRoot = path.join(root, 'proj');
    const cwd = path.join(projRoot, 'sub', 'deeper');
    fs.mkdirSync(path.join(projRoot, '.psmc'), { recursive: true });
    fs.mkdirSync(cwd, { recursive: true });
    const base = { env: { PSMC_HOME: userDir }, project: true, cwd } as const;

    const userH = open(t, { dir: userDir, source: 'user-writer' });
    userH.set('k', 'user');
    const projH = open(t, { ...base, source: 'project-writer' });
    assert.equal(projH.info.writeLayer, 'project');
    projH.set('k', 'project');
    projH.setSchema({ keys: { k: { type: 'string', default: 'schema' } } });

    const layered = (opts: Partial<OpenOptions>) =>
      open(t, { ...base, ...opts, env: { ...base.env, ...(opts.env ?? {}) } });

    // 1. override
    let s = layered({ overrides: { k: 'override' }, env: { PSMC_K: 'env' }, defaults: { k: 'default' } });
    let e = s.explain('k', { default: 'caller' });
    assert.equal(s.get('k', { default: 'caller' }), 'override');
    assert.equal(e.layer, 'override');
    assert.deepEqual(
      e.layers.map((l) => [l.layer, l.present, l.value]),
      [
        ['override', true, 'override'],
        ['env', true, 'env'],
        ['project', true, 'project'],
        ['user', true, 'user'],
        ['default', true, 'default'],
        ['caller', true, 'caller'],
      ],
    );
    assert.match(e.reason, /process override/);
    assert.match(e.reason, /outranks/);

    // 2. env
    s = layered({ env: { PSMC_K: 'env' }, defaults: { k: 'default' } });
    e = s.explain('k');
    assert.equal(s.get('k'), 'env');
    assert.equal(e.layer, 'env');
    assert.equal(e.source, 'env:PSMC_K');
    assert.equal(e.layers[1]?.origin, 'PSMC_K');
    assert.match(e.reason, /environment variable \(PSMC_K\)/);

    // 3. project
    s = layered({ defaults: { k: 'default' } });
    e = s.explain('k');
    assert.equal(s.get('k'), 'project');
    assert.equal(e.layer, 'project');
    assert.equal(e.source, 'project-writer');
    assert.equal(e.revision, 1);
    assert.equal(e.layers[2]?.origin, fs.realpathSync(path.join(projRoot, '.psmc')));
    assert.match(e.reason, /project store/);

    // 4. user
    projH.delete('k');
    e = s.explain('k');
    assert.equal(s.get('k'), 'user');
    assert.equal(e.layer, 'user');
    assert.equal(e.source, 'user-writer');
    assert.match(e.reason, /user store/);

    // 5. shipped default
    userH.delete('k');
    e = s.explain('k');
    assert.equal(s.get('k'), 'default');
    assert.equal(e.layer, 'default');
    assert.equal(e.layers[4]?.origin, 'shipped default');

    // 6. schema default
    s = layered({});
    e = s.explain('k', { default: 'caller' });
    assert.equal(s.get('k', { default: 'caller' }), 'schema');
    assert.equal(e.layer, 'default');
    assert.equal(e.layers[4]?.origin, 'schema default');
    assert.match(e.reason, /schema default/);

    // 7. caller default
    projH.setSchema(undefined);
    e = s.explain('k', { default: 'caller' });
    assert.equal(s.get('k', { default: 'caller' }), 'caller');
    assert.equal(e.layer, 'caller');
    assert.match(e.reason, /caller's default/);

    // 8. nothing
    assert.equal(s.get('k'), undefined);
    assert.equal(s.explain('k').found, false);
  });

  it('project discovery: .psmc/ in an ancestor of cwd; writes go to the project; user values remain visible below it', (t) => {
    const root = tmp(t);
    const userDir = path.join(root, 'user');
    const proj = path.join(root, 'p');
    const cwd = path.join(proj, 'a', 'b', 'c');
    fs.mkdirSync(path.join(proj, '.psmc'), { recursive: true });
    fs.mkdirSync(cwd, { recursive: true });
    open(t, { dir: userDir }).set('only.user', 'u');
    const s = open(t, { env: { PSMC_HOME: userDir }, project: true, cwd });
    assert.equal(s.info.project?.dir, fs.realpathSync(path.join(proj, '.psmc')));
    assert.equal(s.info.writeLayer, 'project');
    s.set('p.k', 1);
    assert.ok(fs.existsSync(path.join(proj, '.psmc', 'psmc.db')));
    assert.equal(open(t, { dir: userDir }).get('p.k'), undefined, 'the write did not go to the user store');
    assert.equal(s.get('only.user'), 'u');
    assert.equal(s.explain('only.user').layer, 'user');
    assert.deepEqual(s.all(), { 'only.user': 'u', 'p.k': 1 });
    assert.equal(s.history().length, 1, 'history is the write (project) store');
  });

  it('project: true with no .psmc/ anywhere up the tree: no project layer, writes go to the user store', (t) => {
    const root = tmp(t);
    // Skip if some ancestor of the temp directory has a .psmc/ (then discovery would rightly find it).
    for (let d = root; ; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, '.psmc'))) return t.skip(`${d}/.psmc exists on this machine`);
      if (path.dirname(d) === d) break;
    }
    const s = open(t, { env: { PSMC_HOME: path.join(root, 'user') }, project: true, cwd: root });
    assert.equal(s.info.project, undefined);
    assert.equal(s.info.writeLayer, 'user');
    assert.equal(s.explain('x').layers[2]?.origin, 'no project store');
  });

  it("project: '<dir>' without .psmc/ is PSMC_STORE_NOT_FOUND unless createProject", (t) => {
    const root = tmp(t);
    const env = { PSMC_HOME: path.join(root, 'user') };
    const e = expectError(() => openStore({ env, project: root }), 'PSMC_STORE_NOT_FOUND', {
      message: path.join(root, '.psmc'),
    });
    assert.equal(e.details.path, path.join(root, '.psmc'));
    assert.equal(fs.existsSync(path.join(root, '.psmc')), false);
    assert.equal(fs.existsSync(path.join(root, 'user')), false);
    const s = open(t, { env, project: root, createProject: true });
    assert.ok(fs.statSync(path.join(root, '.psmc')).isDirectory());
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(root, '.psmc')).mode & 0o777, 0o700);
    s.set('a', 1);
    assert.ok(fs.existsSync(path.join(root, '.psmc', 'psmc.db')));
    assert.equal(fs.existsSync(path.join(root, 'user')), false);
  });

  it('PSMC_HOME selects the store directory; the key "home" is not read from PSMC_HOME', (t) => {
    const root = tmp(t);
    const home = path.join(root, 'home-store');
    const s = open(t, { env: { PSMC_HOME: home } });
    assert.equal(s.info.user?.dir, path.join(fs.realpathSync(root), 'home-store'));
    s.set('a', 1);
    assert.ok(fs.existsSync(path.join(home, 'psmc.db')));
    assert.equal(s.get('home'), undefined);
    const e = s.explain('home');
    assert.equal(e.found, false);
    assert.equal(e.layers[1]?.present, false);
    assert.match(e.layers[1]?.origin ?? '', /reserved/);
    // The other reserved names are not values either.
    const s2 = open(t, { env: { PSMC_HOME: home, PSMC_DEBUG: '1', PSMC_SOURCE: 'x' } });
    assert.equal(s2.get('debug'), undefined);
    assert.equal(s2.get('source'), undefined);
    // With another app the prefix follows the app name.
    const s3 = open(t, { app: 'my-app', env: { MY_APP_HOME: path.join(root, 'mine'), MY_APP_X: '1', PSMC_X: '2' } });
    assert.equal(s3.info.user?.dir, path.join(fs.realpathSync(root), 'mine'));
    assert.equal(s3.get('x'), 1);
  });

  it('an explicit dir wins over PSMC_HOME and turns project discovery off', (t) => {
    const root = tmp(t);
    fs.mkdirSync(path.join(root, '.psmc'));
    const s = open(t, {
      dir: path.join(root, 'explicit'),
      env: { PSMC_HOME: path.join(root, 'home') },
      project: true,
      cwd: root,
    });
    assert.equal(s.info.project, undefined);
    assert.equal(s.info.user?.dir, path.join(fs.realpathSync(root), 'explicit'));
  });

  it('overrides and defaults are checked when the store opens', (t) => {
    const dir = tmp(t);
    expectError(() => openStore({ dir, env: {}, overrides: { 'a b': 1 } }), 'PSMC_KEY_SYNTAX', { key: 'a b' });
    expectError(() => openStore({ dir, env: {}, defaults: { a: NaN } }), 'PSMC_VALUE_INVALID', { key: '"a"' });
    assert.throws(() => openStore({ dir, env: {}, overrides: [] as never }), TypeError);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('environment variables', () => {
  it('with a boolean schema, PSMC_A__B=false is false (never truthy), and the other words coerce', (t) => {
    const dir = tmp(t);
    open(t, { dir }).setSchema({ keys: { 'a.b': { type: 'boolean' } } });
    for (const [raw, want] of [
      ['false', false],
      ['FALSE', false],
      ['0', false],
      ['no', false],
      ['off', false],
      [' false ', false],
      ['true', true],
      ['1', true],
      ['yes', true],
      ['On', true],
    ] as const) {
      const s = open(t, { dir, env: { PSMC_A__B: raw } });
      assert.equal(s.get('a.b'), want, `PSMC_A__B=${JSON.stringify(raw)}`);
      assert.equal(s.explain('a.b').layer, 'env');
    }
  });

  it('the same handle sees the schema it sets: env coercion follows the new schema', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir, env: { PSMC_A__B: 'no' } });
    assert.equal(s.get('a.b'), 'no', 'without a schema the text is a string');
    s.setSchema({ keys: { 'a.b': { type: 'boolean' } } });
    assert.equal(s.get('a.b'), false);
    // And another handle in this process changing the schema is seen too.
    open(t, { dir }).setSchema({ keys: { 'a.b': { type: 'string' } } });
    assert.equal(s.get('a.b'), 'no');
  });

  it('PSMC_A__B=maybe with a boolean schema: get throws PSMC_ENV_COERCE; explain reports it without throwing', (t) => {
    const dir = tmp(t);
    const w = open(t, { dir });
    w.setSchema({ keys: { 'a.b': { type: 'boolean' } } });
    w.set('a.b', true);
    const s = open(t, { dir, env: { PSMC_A__B: 'maybe' } });
    const e = expectError(() => s.get('a.b'), 'PSMC_ENV_COERCE', { key: 'a.b', message: 'PSMC_A__B' });
    assert.equal(e.details.variable, 'PSMC_A__B');
    assert.equal(e.details.key, 'a.b');
    // No fall-through to the stored value or a caller default.
    expectError(() => s.get('a.b', { default: false }), 'PSMC_ENV_COERCE');
    expectError(() => s.resolve('a.b'), 'PSMC_ENV_COERCE');
    const x = s.explain('a.b');
    assert.equal(x.found, false);
    assert.equal(x.value, undefined);
    const envLayer = x.layers.find((l) => l.layer === 'env');
    assert.equal(envLayer?.error?.code, 'PSMC_ENV_COERCE');
    assert.ok((envLayer?.error?.hint ?? '').length > 0);
    assert.match(x.reason, /PSMC_A__B/);
    assert.equal(x.layers.find((l) => l.layer === 'user')?.value, true, 'explain still shows the lower layers');
  });

  it('without a schema, env text is JSON when it parses, else a string', (t) => {
    const s = open(t, { dir: tmp(t), env: { PSMC_N: '42', PSMC_S: 'metric', PSMC_J: '{"a":[1]}', PSMC_Q: '"42"' } });
    assert.equal(s.get('n'), 42);
    assert.equal(s.get('s'), 'metric');
    assert.deepEqual(s.get('j'), { a: [1] });
    assert.equal(s.get('q'), '42');
    assert.ok(Object.isFrozen(s.get('j')));
  });

  it('envPrefix: false turns the env layer off', (t) => {
    const s = open(t, { dir: tmp(t), env: { PSMC_N: '42' }, envPrefix: false });
    assert.equal(s.get('n'), undefined);
    assert.match(s.explain('n').layers[1]?.origin ?? '', /off/);
  });

  it('a schema change by another process is seen by env coercion (freshnessMs: 0)', (t) => {
    const dir = tmp(t);
    open(t, { dir }).set('seed', 1);
    const s = open(t, { dir, env: { PSMC_A__B: 'no' }, freshnessMs: 0 });
    assert.equal(s.get('a.b'), 'no');
    child(
      `const st = openStore({ dir: A.dir, env: {} }); st.setSchema({ keys: { 'a.b': { type: 'boolean' } } }); st.close();`,
      { dir },
    );
    assert.equal(s.schema()?.keys['a.b']?.type, 'boolean');
    assert.equal(s.get('a.b'), false, 'env coercion must use the schema now stored');
  });
});

describe('files and handles', () => {
  it('reads on a nonexistent store create nothing on disk', (t) => {
    const root = tmp(t);
    const dir = path.join(root, 'not', 'yet');
    const s = open(t, { dir, defaults: { d: 1 } });
    assert.equal(s.get('a'), undefined);
    assert.equal(s.get('d'), 1);
    assert.equal(s.resolve('a').found, false);
    assert.equal(s.explain('a').found, false);
    assert.deepEqual(s.list(), [
      {
        key: 'd',
        value: 1,
        found: true,
        layer: 'default',
        revision: 0,
        source: 'shipped default',
        updatedAt: undefined,
      },
    ]);
    assert.deepEqual(s.all(), { d: 1 });
    assert.deepEqual(s.history(), []);
    assert.equal(s.revision(), 0);
    assert.equal(s.schema(), undefined);
    assert.deepEqual(s.exportData(), { format: 'psmc-export', version: 1, revision: 0, entries: {} });
    assert.deepEqual(s.checkIntegrity(), []);
    assert.deepEqual(listTree(root), []);
    // The env layer and the project discovery do not create anything either.
    const p = open(t, { env: { PSMC_HOME: dir, PSMC_X: '1' }, project: true, cwd: root });
    assert.equal(p.get('x'), 1);
    assert.deepEqual(listTree(root), []);
  });

  it('failed writes on a nonexistent store create nothing on disk', (t) => {
    const root = tmp(t);
    const dir = path.join(root, 'store');
    const s = open(t, { dir });
    expectError(() => s.undo(), 'PSMC_NOTHING_TO_UNDO');
    expectError(() => s.set('a', 1, { expectRevision: 3 }), 'PSMC_CONFLICT');
    assert.deepEqual(listTree(root), []);
  });

  it('a readOnly handle refuses writes with PSMC_READ_ONLY and never creates the store', (t) => {
    const root = tmp(t);
    const dir = path.join(root, 'store');
    const rw = open(t, { dir });
    rw.set('a', 1);
    const ro = open(t, { dir, readOnly: true });
    assert.equal(ro.get('a'), 1);
    const before = fingerprint(rw);
    expectError(() => ro.set('a', 2), 'PSMC_READ_ONLY');
    expectError(() => ro.delete('a'), 'PSMC_READ_ONLY');
    expectError(() => ro.undo(), 'PSMC_READ_ONLY');
    assert.equal(fingerprint(rw), before);
  });

  it('readOnly on a store that does not exist yet fails with PSMC_STORE_NOT_FOUND (documented in OpenOptions.readOnly)', (t) => {
    const root = tmp(t);
    expectError(() => {
      const s = openStore({ dir: path.join(root, 'missing'), env: {}, readOnly: true });
      s.close();
    }, 'PSMC_STORE_NOT_FOUND');
    assert.deepEqual(listTree(root), []);
  });

  it('a closed handle refuses everything with PSMC_CLOSED; close is idempotent; other handles keep working', (t) => {
    const dir = tmp(t);
    const other = open(t, { dir });
    const s = openStore({ dir, env: {} });
    s.set('a', 1);
    s.close();
    s.close();
    const calls: Array<() => unknown> = [
      () => s.get('a'),
      () => s.resolve('a'),
      () => s.explain('a'),
      () => s.list(),
      () => s.all(),
      () => s.set('a', 2),
      () => s.delete('a'),
      () => s.batch([{ op: 'set', key: 'a', value: 3 }]),
      () => s.undo(),
      () => s.history(),
      () => s.revision(),
      () => s.schema(),
      () => s.setSchema(undefined),
      () => s.exportData(),
      () => s.importData({ a: 4 }),
      () => s.importData({ a: 4 }, { replace: true }),
      () => s.checkIntegrity(),
    ];
    for (const f of calls) expectError(f, 'PSMC_CLOSED');
    assert.equal(other.get('a'), 1);
    other.set('a', 5);
    assert.equal(other.get('a'), 5);
  });

  it(
    'a call on a closed handle does not reopen the database (no leaked connection)',
    { skip: process.platform !== 'linux' ? 'counts /proc/self/fd' : false },
    (t) => {
      const dir = fs.realpathSync(tmp(t));
      const fds = (): number =>
        fs.readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + path.sep);
          } catch {
            return false;
          }
        }).length;
      const s = openStore({ dir, env: {} });
      s.set('a', 1);
      s.close();
      assert.equal(fds(), 0);
      const calls: Array<() => unknown> = [
        () => s.importData({ a: 2 }, { replace: true }),
        () => s.importData({ a: 2 }),
        () => s.list(),
        () => s.history(),
        () => s.undo(),
      ];
      for (const f of calls) expectError(f, 'PSMC_CLOSED');
      assert.equal(fds(), 0, 'a closed handle opened the database again and never closed it');
    },
  );

  it('an unknown openStore option is a TypeError naming it, and creates nothing', (t) => {
    const root = tmp(t);
    assert.throws(
      () => openStore({ dir: root, env: {}, dirr: 'x' } as never),
      (e: unknown) => e instanceof TypeError && e.message.includes('"dirr"'),
    );
    assert.throws(() => openStore({ dir: root, env: {}, freshnessMs: -1 }), RangeError);
    assert.throws(() => openStore({ dir: root, env: {}, freshnessMs: 10_001 }), RangeError);
    assert.throws(() => openStore({ dir: root, env: {}, durability: 'fast' as never }), TypeError);
    assert.throws(() => openStore({ dir: root, env: {}, envPrefix: 'lower' }), TypeError);
    assert.throws(() => openStore({ dir: root, env: {}, app: '../etc' }), TypeError);
    assert.throws(() => openStore({ dir: '', env: {} }), TypeError);
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it("returned values are deep-frozen and never alias the caller's objects", (t) => {
    const s = open(t, { dir: tmp(t), overrides: { o: { x: [1] } }, defaults: { d: { y: [2] } } });
    const input = { nested: { list: [1, 2, { z: 3 }] } };
    s.set('a', input);
    input.nested.list.push(4);
    const got = s.get('a') as { nested: { list: unknown[] } };
    assert.deepEqual(
      got,
      { nested: { list: [1, 2, { z: 3 }] } },
      'a later mutation of the input does not reach the store',
    );
    for (const v of [
      got,
      got.nested,
      got.nested.list,
      got.nested.list[2],
      s.get('o'),
      s.get('d'),
      s.resolve('a').value,
      s.explain('a').value,
      s.list()[0]?.value,
      s.all()['a'],
    ]) {
      assert.ok(Object.isFrozen(v), JSON.stringify(v));
    }
    assert.throws(() => {
      (got.nested.list as unknown[]).push(5);
    }, TypeError);
    assert.ok(Object.isFrozen((s.get('o') as { x: unknown[] }).x));
    assert.ok(Object.isFrozen(s.get('nope', { default: { c: [1] } })));
    // Mutating a returned commit or history record does not change what the store returns later.
    const h = s.history();
    (h as unknown[]).length = 0;
    assert.equal(s.history().length, 1);
  });

  it('the info object is frozen and names the files', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir });
    assert.ok(Object.isFrozen(s.info));
    assert.equal(s.info.user?.database, path.join(fs.realpathSync(dir), 'psmc.db'));
    assert.equal(s.info.app, 'psmc');
    assert.equal(s.info.envPrefix, 'PSMC');
  });
});

describe('freshness across handles and processes', () => {
  it('read-your-own-writes across two handles in one process is exact, even with freshnessMs 10000', (t) => {
    const dir = tmp(t);
    const a = open(t, { dir, freshnessMs: 10_000 });
    const b = open(t, { dir, freshnessMs: 10_000 });
    assert.equal(b.get('k'), undefined); // caches "absent"
    a.set('k', 1);
    assert.equal(b.get('k'), 1);
    b.set('k', 2);
    assert.equal(a.get('k'), 2);
    a.delete('k');
    assert.equal(b.get('k'), undefined);
    a.batch([
      { op: 'set', key: 'x', value: 1 },
      { op: 'set', key: 'y', value: 2 },
    ]);
    assert.deepEqual(b.all(), { x: 1, y: 2 });
    a.undo();
    assert.deepEqual(b.all(), {});
    a.setSchema({ keys: { x: { type: 'integer', default: 7 } } });
    assert.equal(b.get('x'), 7);
  });

  it('a handle opened before the store existed sees the first write of another handle', (t) => {
    const dir = path.join(tmp(t), 'later');
    const b = open(t, { dir, freshnessMs: 10_000 });
    assert.equal(b.get('k'), undefined);
    open(t, { dir }).set('k', 'v');
    assert.equal(b.get('k'), 'v');
    assert.equal(b.revision(), 1);
  });

  it("a readOnly handle in the same process also reads this process's writes exactly", (t) => {
    const dir = tmp(t);
    const rw = open(t, { dir, freshnessMs: 10_000 });
    rw.set('k', 1);
    const ro = open(t, { dir, freshnessMs: 10_000, readOnly: true });
    assert.equal(ro.get('k'), 1);
    rw.set('k', 2);
    assert.equal(ro.get('k'), 2, 'a read must see every write made earlier through any handle of the same process');
  });

  it('a commit by another process is visible at once with freshnessMs 0', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir, freshnessMs: 0, clock: fakeClock() });
    s.set('k', 'mine');
    s.set('stay', 1);
    assert.equal(s.get('k'), 'mine');
    child(
      `const st = openStore({ dir: A.dir, env: {}, source: 'other-process' }); st.set('k', 'theirs'); st.set('new', [1]); st.close();`,
      { dir },
    );
    assert.equal(s.get('k'), 'theirs');
    assert.deepEqual(s.get('new'), [1]);
    assert.equal(s.get('stay'), 1);
    assert.equal(s.resolve('k').source, 'other-process');
    assert.equal(s.revision(), 4);
    // Our next write takes the next revision and a later clock than theirs.
    const c = s.set('k', 'mine again');
    assert.equal(c.revision, 5);
    assert.equal(s.history('k')[1]?.source, 'other-process');
    assert.ok(c.at > (s.history('k')[1]?.at ?? ''));
    // A delete by another process is seen too.
    child(`const st = openStore({ dir: A.dir, env: {} }); st.delete('stay'); st.close();`, { dir });
    assert.equal(s.get('stay'), undefined);
  });

  it('CAS against a value changed by another process conflicts even when the cache is stale', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir, freshnessMs: 10_000 });
    s.set('k', 1);
    const rev = s.resolve('k').revision;
    child(`const st = openStore({ dir: A.dir, env: {} }); st.set('k', 2); st.close();`, { dir });
    const e = expectError(() => s.set('k', 3, { expectRevision: rev }), 'PSMC_CONFLICT', { key: 'k' });
    assert.equal(e.details.currentValue, 2);
    // A successful write after another process's commit does not leave stale entries behind.
    s.set('k', 4, { expectRevision: rev + 1 });
    const fresh = open(t, { dir, freshnessMs: 0 });
    assert.equal(fresh.get('k'), 4);
    assert.equal(s.get('k'), 4);
  });
});
