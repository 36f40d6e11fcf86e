/**
 * The mirror's 3-way merge (src/core/merge.ts, spec/sections/mirror-sync.md
 * §mirror.merge): unit cases for each row of the merge table and property
 * tests over random base/theirs/ours maps and times.
 *
 * The central property ("nothing is lost"): after the merge, with the DB
 * holding `apply` on top of ours, every value that either side changed (a
 * value of theirs or ours that differs from base) is either the key's final
 * value or the `lost` value of a conflict record for that key. A side that
 * did not change a key only holds the base value, which history already has.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeMirror, type MergeInput, type MergeResult, type OursEntry } from '../../src/core/merge.js';
import { valuesEqual, type JsonValue } from '../../src/core/value.js';

/** A side of the merge for one key: absent (undefined) or a value, with its encoded text. */
type Side = { text: string } | undefined;

interface Case {
  base: Record<string, string | null>;
  theirs: Record<string, string>;
  ours: Record<string, OursEntry>;
  fileTimeMs: number;
  /** Extra keys passed in `keys` (e.g. changed in the DB since base). */
  extraKeys?: string[];
}

function input(c: Case): MergeInput {
  const keys = new Set([
    ...Object.keys(c.base),
    ...Object.keys(c.theirs),
    ...Object.keys(c.ours),
    ...(c.extraKeys ?? []),
  ]);
  return {
    keys,
    theirs: new Map(Object.entries(c.theirs)),
    base: (k) => (Object.hasOwn(c.base, k) ? (c.base[k] ?? null) : null),
    ours: (k) => (Object.hasOwn(c.ours, k) ? (c.ours[k] as OursEntry) : { text: null, timeMs: 0, source: 'file' }),
    fileTimeMs: c.fileTimeMs,
  };
}

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  const na = a ?? null;
  const nb = b ?? null;
  if (na === null || nb === null) return na === nb;
  return valuesEqual(JSON.parse(na) as JsonValue, JSON.parse(nb) as JsonValue);
}

/** The DB after the merge: ours with `apply` on top. */
function finalOf(c: Case, r: MergeResult, key: string): string | null {
  const a = r.apply.find((x) => x.key === key);
  if (a !== undefined) return a.text;
  return Object.hasOwn(c.ours, key) ? (c.ours[key] as OursEntry).text : null;
}

const ours = (text: string | null, timeMs = 1000, source = 'api'): OursEntry => ({ text, timeMs, source });

describe('mergeMirror: the merge table', () => {
  it('file unchanged (theirs = base): keep ours, whatever ours did', () => {
    const r = mergeMirror(
      input({
        base: { a: '1', b: '1', c: '1' },
        theirs: { a: '1', b: '1', c: '1' },
        ours: { a: ours('1'), b: ours('2'), c: ours(null) },
        fileTimeMs: 5000,
      }),
    );
    assert.deepEqual(r, { apply: [], conflicts: [] });
  });

  it('changed only in the file: applied (set, new key, delete)', () => {
    const r = mergeMirror(
      input({
        base: { a: '1', gone: '"x"' },
        theirs: { a: '2', added: '[1]' },
        ours: { a: ours('1'), gone: ours('"x"') },
        fileTimeMs: 0,
      }),
    );
    assert.deepEqual(r.apply, [
      { key: 'a', text: '2' },
      { key: 'added', text: '[1]' },
      { key: 'gone', text: null },
    ]);
    assert.deepEqual(r.conflicts, []);
  });

  it('changed only in the DB: kept (no apply, no conflict), even when the file is newer', () => {
    const r = mergeMirror(
      input({
        base: { a: '1', d: '5' },
        theirs: { a: '1', d: '5' },
        ours: { a: ours('9', 10), d: ours(null, 10), n: ours('"new"', 10) },
        fileTimeMs: 1e12,
        extraKeys: ['n'],
      }),
    );
    assert.deepEqual(r, { apply: [], conflicts: [] });
  });

  it('changed on both sides to the same value: nothing to do', () => {
    const r = mergeMirror(
      input({
        base: { a: '1', b: '1' },
        theirs: { a: '2', c: '"n"' },
        ours: { a: ours('2'), b: ours(null), c: ours('"n"') },
        fileTimeMs: 0,
      }),
    );
    assert.deepEqual(r, { apply: [], conflicts: [] });
  });

  it('changed on both sides differently: the file wins when newer, with ours kept as the loser', () => {
    const r = mergeMirror(
      input({ base: { a: '1' }, theirs: { a: '2' }, ours: { a: ours('3', 1000, 'gui') }, fileTimeMs: 1001 }),
    );
    assert.deepEqual(r.apply, [{ key: 'a', text: '2' }]);
    assert.deepEqual(r.conflicts, [{ key: 'a', winner: 'file', lost: '3', won: '2', loserSource: 'gui' }]);
  });

  it('changed on both sides differently: the DB wins when newer, with the file value kept as the loser', () => {
    const r = mergeMirror(
      input({ base: { a: '1' }, theirs: { a: '2' }, ours: { a: ours('3', 1001, 'gui') }, fileTimeMs: 1000 }),
    );
    assert.deepEqual(r.apply, []);
    assert.deepEqual(r.conflicts, [{ key: 'a', winner: 'store', lost: '2', won: '3', loserSource: 'file' }]);
  });

  it('a tie in time goes to the file (the human edit)', () => {
    const r = mergeMirror(
      input({ base: { a: '1' }, theirs: { a: '2' }, ours: { a: ours('3', 777) }, fileTimeMs: 777 }),
    );
    assert.deepEqual(r.apply, [{ key: 'a', text: '2' }]);
    assert.equal(r.conflicts[0]?.winner, 'file');
  });

  it('delete vs change: a file delete that loses is recorded with lost = null; a DB delete that loses likewise', () => {
    const fileDeletes = mergeMirror(
      input({ base: { a: '1' }, theirs: {}, ours: { a: ours('2', 2000, 'cli') }, fileTimeMs: 1000 }),
    );
    assert.deepEqual(fileDeletes.apply, []);
    assert.deepEqual(fileDeletes.conflicts, [{ key: 'a', winner: 'store', lost: null, won: '2', loserSource: 'file' }]);
    const dbDeletes = mergeMirror(
      input({ base: { a: '1' }, theirs: { a: '2' }, ours: { a: ours(null, 1000, 'cli') }, fileTimeMs: 2000 }),
    );
    assert.deepEqual(dbDeletes.apply, [{ key: 'a', text: '2' }]);
    assert.deepEqual(dbDeletes.conflicts, [{ key: 'a', winner: 'file', lost: null, won: '2', loserSource: 'cli' }]);
  });

  it('JSON null is a value, not an absence', () => {
    const r = mergeMirror(input({ base: { a: 'null' }, theirs: {}, ours: { a: ours('null') }, fileTimeMs: 0 }));
    assert.deepEqual(r.apply, [{ key: 'a', text: null }]);
    const r2 = mergeMirror(input({ base: {}, theirs: { a: 'null' }, ours: {}, fileTimeMs: 0 }));
    assert.deepEqual(r2.apply, [{ key: 'a', text: 'null' }]);
  });

  it('member order is ignored on every comparison', () => {
    const r = mergeMirror(
      input({
        base: { a: '{"x":1,"y":[{"p":1,"q":2}]}', b: '{"m":1,"n":2}', c: '{"m":1,"n":2}' },
        theirs: { a: '{"y":[{"q":2,"p":1}],"x":1}', b: '{"n":3,"m":1}', c: '{"n":3,"m":1}' },
        ours: { a: ours('{"x":1,"y":[{"p":1,"q":2}]}'), b: ours('{"n":2,"m":1}'), c: ours('{"m":1,"n":3}') },
        fileTimeMs: 0,
      }),
    );
    // a: reordered only → unchanged; b: ours only reordered → file change applied; c: both the same value → nothing.
    assert.deepEqual(r.apply, [{ key: 'b', text: '{"n":3,"m":1}' }]);
    assert.deepEqual(r.conflicts, []);
  });

  it('array order is not ignored', () => {
    const r = mergeMirror(
      input({ base: { a: '[1,2]' }, theirs: { a: '[2,1]' }, ours: { a: ours('[1,2]') }, fileTimeMs: 0 }),
    );
    assert.deepEqual(r.apply, [{ key: 'a', text: '[2,1]' }]);
  });

  it('keys are merged once each, in key order, even when given twice', () => {
    const i = input({
      base: { b: '1', a: '1' },
      theirs: { b: '2', a: '2' },
      ours: { a: ours('1'), b: ours('1') },
      fileTimeMs: 0,
    });
    const r = mergeMirror({ ...i, keys: ['b', 'a', 'b', 'a'] });
    assert.deepEqual(r.apply, [
      { key: 'a', text: '2' },
      { key: 'b', text: '2' },
    ]);
  });
});

// ── properties ───────────────────────────────────────────────────────────

/** A small pool so that sides often collide; objects come in two member orders. */
const VALUES: ReadonlyArray<readonly string[]> = [
  ['1'],
  ['2'],
  ['null'],
  ['"x"'],
  ['true'],
  ['[1,2]'],
  ['[2,1]'],
  ['{"a":1,"b":2}', '{"b":2,"a":1}'],
  ['{"a":1,"b":3}', '{"b":3,"a":1}'],
  ['{"n":{"p":null,"q":[1]}}', '{"n":{"q":[1],"p":null}}'],
];
const side: fc.Arbitrary<Side> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: VALUES.length - 1 }), fc.nat()).map(([i, j]) => {
      const forms = VALUES[i] as readonly string[];
      return { text: forms[j % forms.length] as string };
    }),
  },
);
const KEYS = ['a', 'b', 'c', 'd.e', 'z'];
const keyCase = fc.record({
  base: side,
  theirs: side,
  ours: side,
  // Often close to the file time, to hit ties.
  oursTime: fc.oneof(fc.integer({ min: 990, max: 1010 }), fc.integer({ min: 0, max: 5000 })),
  oursSource: fc.constantFrom('api', 'cli', 'gui', 'http:ci'),
});
const mergeCase = fc.record({
  perKey: fc.array(keyCase, { minLength: KEYS.length, maxLength: KEYS.length }),
  fileTimeMs: fc.integer({ min: 990, max: 1010 }),
});

interface KeyCase {
  base: Side;
  theirs: Side;
  ours: Side;
  oursTime: number;
  oursSource: string;
}

function toCase(m: { perKey: KeyCase[]; fileTimeMs: number }): Case {
  const c: Case = { base: {}, theirs: {}, ours: {}, fileTimeMs: m.fileTimeMs, extraKeys: [...KEYS] };
  KEYS.forEach((k, i) => {
    const p = m.perKey[i];
    if (p === undefined) return;
    c.base[k] = p.base?.text ?? null;
    if (p.theirs !== undefined) c.theirs[k] = p.theirs.text;
    c.ours[k] = { text: p.ours?.text ?? null, timeMs: p.oursTime, source: p.oursSource };
  });
  return c;
}

describe('mergeMirror: properties', () => {
  it('nothing is lost: every changed value of theirs or ours is final or a conflict loser', () => {
    fc.assert(
      fc.property(mergeCase, (m) => {
        const c = toCase(m);
        const r = mergeMirror(input(c));
        for (const key of KEYS) {
          const b = c.base[key] ?? null;
          const fin = finalOf(c, r, key);
          const lost = r.conflicts.filter((x) => x.key === key).map((x) => x.lost);
          const candidates: Array<string | null> = [];
          const t = c.theirs[key] ?? null;
          const o = (c.ours[key] as OursEntry).text;
          if (!same(t, b)) candidates.push(t);
          if (!same(o, b)) candidates.push(o);
          for (const v of candidates) {
            assert.ok(
              same(fin, v) || lost.some((l) => same(l, v)),
              `key ${key}: ${String(v)} is neither final (${String(fin)}) nor lost (${JSON.stringify(lost)})`,
            );
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('follows the merge table row by row', () => {
    fc.assert(
      fc.property(mergeCase, (m) => {
        const c = toCase(m);
        const r = mergeMirror(input(c));
        for (const key of KEYS) {
          const b = c.base[key] ?? null;
          const t = c.theirs[key] ?? null;
          const oe = c.ours[key] as OursEntry;
          const o = oe.text;
          const applied = r.apply.filter((x) => x.key === key);
          const conflicts = r.conflicts.filter((x) => x.key === key);
          assert.ok(
            applied.length <= 1 && conflicts.length <= 1,
            `at most one change and one conflict per key (${key})`,
          );
          if (same(t, b)) {
            assert.deepEqual([applied, conflicts], [[], []], `${key}: file unchanged → keep ours`);
          } else if (same(o, b)) {
            assert.deepEqual(applied, [{ key, text: t }], `${key}: changed only in the file → applied`);
            assert.deepEqual(conflicts, [], `${key}: no conflict`);
          } else if (same(t, o)) {
            assert.deepEqual([applied, conflicts], [[], []], `${key}: same change on both sides → nothing`);
          } else if (c.fileTimeMs >= oe.timeMs) {
            assert.deepEqual(applied, [{ key, text: t }], `${key}: file newer (or tie) → file applied`);
            assert.deepEqual(conflicts, [{ key, winner: 'file', lost: o, won: t, loserSource: oe.source }]);
          } else {
            assert.deepEqual(applied, [], `${key}: DB newer → nothing applied`);
            assert.deepEqual(conflicts, [{ key, winner: 'store', lost: t, won: o, loserSource: 'file' }]);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('conflict records are consistent: won is the final value, lost differs from it', () => {
    fc.assert(
      fc.property(mergeCase, (m) => {
        const c = toCase(m);
        const r = mergeMirror(input(c));
        for (const x of r.conflicts) {
          const fin = finalOf(c, r, x.key);
          assert.ok(same(x.won, fin), `${x.key}: won ${String(x.won)} is the final value ${String(fin)}`);
          assert.ok(!same(x.lost, fin), `${x.key}: the loser differs from the winner`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('apply is sorted by key, without duplicates, and never sets a value the DB already has', () => {
    fc.assert(
      fc.property(mergeCase, (m) => {
        const c = toCase(m);
        const r = mergeMirror(input(c));
        const keys = r.apply.map((a) => a.key);
        assert.deepEqual(keys, [...new Set(keys)].sort());
        for (const a of r.apply)
          assert.ok(!same(a.text, (c.ours[a.key] as OursEntry).text), `${a.key}: applying a no-op`);
      }),
      { numRuns: 1000 },
    );
  });

  it('an unchanged file never changes the DB, whatever the DB did', () => {
    fc.assert(
      fc.property(mergeCase, (m) => {
        const c = toCase(m);
        for (const key of KEYS) {
          const b = c.base[key] ?? null;
          if (b === null) delete c.theirs[key];
          else c.theirs[key] = b;
        }
        assert.deepEqual(mergeMirror(input(c)), { apply: [], conflicts: [] });
      }),
      { numRuns: 500 },
    );
  });
});
