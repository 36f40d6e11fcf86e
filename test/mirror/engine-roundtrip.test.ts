/**
 * Round trips through the mirror engine, for each format: any value → set →
 * exported file → the key deleted through the store → the exported file
 * saved back by hand → imported → equal to the value; or a typed refusal
 * (PSMC_VALUE_INVALID / PSMC_KEY_*) before anything is written (no revision,
 * the file untouched).
 *
 * Covered on purpose: U+2028/U+2029, NUL, U+007F, C1 controls, BOM, astral
 * characters, lone surrogates (refused), `__proto__` member names and keys
 * (refused), `$json` objects, nesting at and beyond the depth limit (64),
 * integers beyond 2^53 and non-finite numbers (refused), the smallest
 * numbers, -0, and keys a YAML or TOML reader would take for something else.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { isPsmcError, isValidKey, MAX_DEPTH, type JsonValue, type Store } from '../../src/index.js';
import type { MirrorFormat } from '../../src/mirror/codecs/index.js';
import { fileValues, mirrorPath, open, readText, tmpDir } from './fixtures/engine-helpers.js';

// ── arbitraries ──────────────────────────────────────────────────────────

const SPECIAL_STRINGS = [
  '\u2028',
  '\u2029',
  '\u0000',
  '\u007f',
  '\u0085',
  '\u009f',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '😀',
  '𝄞',
  '\ud800', // lone surrogates: refused
  '\udc00',
  'a\ud83d',
  '\r\n',
  '\r',
  '\t',
  '"',
  '\\',
  "'",
  '#',
  ': ',
  '- ',
  '',
  ' ',
  'yes',
  'no',
  'on',
  'null',
  '~',
  'true',
  '1e3',
  '0x10',
  '1.0',
  '$json',
  '1979-05-27T07:32:00Z',
  '07:32:00',
  '*a',
  '&a',
  '!!str',
  '%YAML',
  '---',
  '...',
];
const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom(...SPECIAL_STRINGS, 'x', 'é'), { maxLength: 4 }).map((a) => a.join('')),
  },
);
const number = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.1,
    -0.5,
    1e-7,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e21,
    1.7976931348623157e308,
    9007199254740991,
    -9007199254740991,
    9007199254740992, // refused
    -(2 ** 53) - 2, // refused
    1e300 * 10, // Infinity: refused
    Number.NaN, // refused
  ),
  fc.double(),
  fc.integer(),
);
const memberName = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', '$json', 'a', 'b') },
);

/** Builds an object with own data properties (so `__proto__` is a real member). */
function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(memberName, tie('value')), { maxLength: 4, selector: ([k]) => k }).map(objectOf),
    fc.tuple(tie('value')).map(([v]) => objectOf([['$json', v]])),
  ),
}));

/** A value nested `depth` levels (arrays and objects mixed) around a leaf. */
const deepValue = fc
  .tuple(
    fc.integer({ min: MAX_DEPTH - 2, max: MAX_DEPTH + 2 }),
    fc.array(fc.boolean(), { minLength: MAX_DEPTH + 2, maxLength: MAX_DEPTH + 2 }),
    fc.constantFrom(1, 'x', null),
  )
  .map(([depth, kinds, leaf]) => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i++) v = kinds[i] === true ? [v] : objectOf([[`m${i}`, v]]);
    return v;
  });

const anyValue = fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: deepValue });

// ── the oracle: what the value rules (§value.limits) refuse ──────────────

function refusal(v: unknown, depth = 0): string | undefined {
  if (typeof v === 'string') return v.isWellFormed() ? undefined : 'lone surrogate';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'non-finite number';
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return 'integer beyond 2^53';
    return undefined;
  }
  if (v === null || typeof v === 'boolean') return undefined;
  if (depth >= MAX_DEPTH) return 'too deep';
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = refusal(x, depth + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  for (const k of Object.keys(v as object)) {
    if (!k.isWellFormed()) return 'lone surrogate in a member name';
    if (k === '__proto__') return '__proto__ member';
    const r = refusal((v as Record<string, unknown>)[k], depth + 1);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** The value as the store keeps it (-0 is 0). */
function normalized(v: unknown): JsonValue {
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

// ── the round trip ───────────────────────────────────────────────────────

/** Strictly increasing mtimes in the past: every hand save is settled and has its own stat. */
let stampMs = Date.now() - 3_600_000;
function stamp(file: string): void {
  stampMs += 2;
  fs.utimesSync(file, new Date(stampMs), new Date(stampMs));
}

function roundTrip(s: Store, dir: string, format: MirrorFormat, key: string, v: unknown): void {
  const file = mirrorPath(dir, format);
  s.syncMirror(); // earlier writes are in the file
  const revision = s.revision();
  const before = readText(file);
  const why = refusal(v);
  let refused: unknown;
  try {
    s.set(key, v);
  } catch (e) {
    refused = e;
  }
  if (why !== undefined || refused !== undefined) {
    assert.ok(why !== undefined, `refused although valid: ${String(refused)}`);
    assert.ok(isPsmcError(refused), `a typed refusal for ${why}, got ${String(refused)}`);
    assert.equal(refused.code, 'PSMC_VALUE_INVALID', `${why}: ${refused.message}`);
    assert.equal(s.revision(), revision, 'nothing written');
    s.syncMirror();
    assert.equal(readText(file), before, 'the file is untouched');
    return;
  }
  const expected = normalized(v);
  s.syncMirror();
  assert.deepEqual(fileValues(dir, format)[key], expected, 'exported');
  const exported = readText(file) ?? '';
  s.delete(key);
  s.syncMirror();
  assert.equal(fileValues(dir, format)[key], undefined, 'the delete is exported');
  // A person saves the exported text back.
  fs.writeFileSync(file, exported);
  stamp(file);
  const r = s.syncMirror();
  assert.equal(r.error, undefined, `the exported text imports: ${JSON.stringify(r)}`);
  assert.deepEqual(s.get(key), expected, 'imported equal');
  const h = s.history(key)[0];
  assert.equal(h?.source, 'file');
  assert.deepEqual(h?.newValue, expected);
  assert.equal(readText(file), exported, 'the import does not rewrite the file');
}

for (const format of ['json', 'toml', 'yaml'] as const) {
  describe(`round trips through a ${format.toUpperCase()} mirror`, () => {
    it('any value: equal after export and hand import, or refused before anything is written', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      s.set('neighbour', { stays: true });
      fc.assert(
        fc.property(anyValue, (v) => roundTrip(s, dir, format, 'rt.value', v)),
        { numRuns: 150, includeErrorInReport: true },
      );
      assert.deepEqual(s.get('neighbour'), { stays: true });
      assert.equal(s.status().conflicts, 0);
    });

    it('the special cases, one by one', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      const cases: unknown[] = [
        '\u2028\u2029',
        'nul\u0000byte',
        'del\u007f',
        'c1\u0085\u009f',
        '\ufeffbom',
        'astral 😀𝄞',
        'line\r\nbreaks\rand\nmore',
        '',
        null,
        [null, [null]],
        objectOf([['$json', 'not a wrapper']]),
        objectOf([['$json', null]]),
        { a: { $json: 1 } },
        5e-324,
        -5e-324,
        1e-7,
        0.000001,
        -0,
        1e21,
        9007199254740991,
        -9007199254740991,
        1.7976931348623157e308,
        { '': '', ' ': ' ', 'a.b': 1, '1e3': 2, yes: 'no', '#': '#' },
      ];
      for (const c of cases) roundTrip(s, dir, format, 'special', c);
      for (const d of [MAX_DEPTH - 1, MAX_DEPTH]) {
        let v: unknown = 'leaf';
        for (let i = 0; i < d; i++) v = i % 2 === 0 ? [v] : { m: v };
        roundTrip(s, dir, format, 'deep', v);
        assert.deepEqual(s.get('deep'), v, `depth ${d} round trips`);
      }
    });

    it('refusals are typed and write nothing', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      s.set('a', 1);
      s.syncMirror();
      const file = mirrorPath(dir, format);
      const before = readText(file);
      const revision = s.revision();
      let tooDeep: unknown = 1;
      for (let i = 0; i < MAX_DEPTH + 1; i++) tooDeep = [tooDeep];
      const refusedValues: unknown[] = [
        '\ud800',
        'x\udfff',
        objectOf([['\ud800', 1]]),
        JSON.parse('{"__proto__": {"polluted": true}}'),
        { nested: JSON.parse('[{"__proto__": 1}]') as unknown },
        tooDeep,
        9007199254740992,
        -(2 ** 53) - 2,
        Number.POSITIVE_INFINITY,
        Number.NaN,
        Number.NEGATIVE_INFINITY,
        [1, 2 ** 60],
      ];
      for (const v of refusedValues) {
        assert.throws(
          () => s.set('b', v),
          (e: unknown) => isPsmcError(e) && e.code === 'PSMC_VALUE_INVALID',
          String(v),
        );
      }
      for (const k of ['__proto__', 'a.__proto__', 'constructor', 'a.prototype', 'bad key', '', 'a..b', '.a']) {
        assert.throws(
          () => s.set(k, 1),
          (e: unknown) => isPsmcError(e) && (e.code === 'PSMC_KEY_RESERVED' || e.code === 'PSMC_KEY_SYNTAX'),
          k,
        );
      }
      assert.equal(s.revision(), revision);
      s.syncMirror();
      assert.equal(readText(file), before);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });

    it('keys that look like other things to a YAML or TOML reader round trip as keys', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      const keys = [
        '1e3',
        '0x10',
        'true',
        'on',
        'no',
        'null',
        'NULL',
        'y',
        '2fa.enabled',
        '0',
        '1',
        '10',
        '2',
        '1-2',
        'a_b-c.d',
        'inf',
        'nan',
        '0o7',
        '1_000',
        'x.1.y',
      ];
      for (const k of keys) assert.ok(isValidKey(k), k);
      for (const k of keys) roundTrip(s, dir, format, k, `value of ${k}`);
      // And all of them at once, from a fresh export.
      s.batch(keys.map((k) => ({ op: 'set' as const, key: k, value: k })));
      s.syncMirror();
      for (const k of keys) assert.equal(fileValues(dir, format)[k], k);
    });

    it('random legal keys round trip', (t) => {
      const dir = tmpDir(t);
      const s = open(t, dir);
      if (format !== 'json') s.setMirrorFormat(format);
      const segment = fc.stringMatching(/^[A-Za-z0-9]{1,4}([_-][A-Za-z0-9]{1,3}){0,2}$/);
      const key = fc
        .array(segment, { minLength: 1, maxLength: 4 })
        .map((a) => a.join('.'))
        .filter(isValidKey);
      fc.assert(
        fc.property(key, fc.constantFrom<unknown>(1, 'x', null, [true]), (k, v) => roundTrip(s, dir, format, k, v)),
        { numRuns: 60, includeErrorInReport: true },
      );
    });
  });
}
