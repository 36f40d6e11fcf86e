/**
 * Value rules (spec/SPEC.md §value.types, §value.limits, §value.encoding, §value.equality).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { PsmcError } from '../../src/core/errors.js';
import {
  assertValue,
  decodeValue,
  encodeValue,
  MAX_DEPTH,
  MAX_VALUE_BYTES,
  parseLooseValue,
  typeOf,
  valuesEqual,
  type JsonValue,
} from '../../src/core/value.js';
import { openStore } from '../../src/index.js';

const protoNames = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();
const PROTO_BEFORE = protoNames();

function assertPrototypesClean(): void {
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted');
  assert.deepEqual(protoNames(), PROTO_BEFORE, 'Object.prototype gained or lost properties');
  assert.equal(([] as unknown as Record<string, unknown>)['polluted'], undefined);
}

afterEach(() => {
  assertPrototypesClean();
});

/** Runs fn, expects a PsmcError of `code`, and checks the path and message. */
function invalid(
  fn: () => unknown,
  code: 'PSMC_VALUE_INVALID' | 'PSMC_VALUE_TOO_LARGE' | 'PSMC_PARSE',
  opts: { path?: string; message?: RegExp | string; key?: string } = {},
): PsmcError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PsmcError, `expected PsmcError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.hint.trim().length > 0, 'hint must not be empty');
  if (opts.path !== undefined) {
    assert.equal(caught.details.path, opts.path);
    // The message names the path; for a refused member name it names the parent path and the member.
    const parent = opts.path.replace(/\/[^/]*$/, '');
    const named =
      opts.path === '' ||
      caught.message.includes(opts.path) ||
      (opts.path.endsWith('/__proto__') && (parent === '' || caught.message.includes(parent)));
    assert.ok(named, `message should name the path ${opts.path}: ${caught.message}`);
  }
  if (opts.key !== undefined) {
    assert.equal(caught.details.key, opts.key);
    assert.ok(caught.message.includes(JSON.stringify(opts.key)), `message should name the key: ${caught.message}`);
  }
  if (typeof opts.message === 'string')
    assert.ok(caught.message.includes(opts.message), `${caught.message} should include ${opts.message}`);
  else if (opts.message) assert.match(caught.message, opts.message);
  return caught;
}

function roundTrip(v: unknown): JsonValue {
  return decodeValue(encodeValue(v));
}

function nest(levels: number, leaf: JsonValue = 1, kind: 'array' | 'object' | 'mixed' = 'array'): JsonValue {
  let v: JsonValue = leaf;
  for (let i = 0; i < levels; i++) {
    const k = kind === 'mixed' ? (i % 2 === 0 ? 'array' : 'object') : kind;
    v = k === 'array' ? [v] : { m: v };
  }
  return v;
}

describe('encoding', () => {
  it('encodes compact JSON exactly as JSON.stringify writes it, keeping member order', () => {
    assert.equal(
      encodeValue({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: -2 } }),
      '{"b":1,"a":[true,null,"x"],"c":{"z":1.5,"y":-2}}',
    );
    assert.equal(encodeValue('metric'), '"metric"');
    assert.equal(encodeValue(null), 'null');
    assert.equal(encodeValue(0.1), '0.1');
    assert.equal(encodeValue(1e-7), '1e-7');
    assert.equal(encodeValue(5e-324), '5e-324');
    assert.equal(encodeValue(9007199254740991), '9007199254740991');
    assert.equal(encodeValue(-9007199254740991), '-9007199254740991');
    assert.equal(encodeValue([]), '[]');
    assert.equal(encodeValue({}), '{}');
  });

  it('escapes only what the spec says and writes U+007F, U+2028, U+2029 and astral characters as themselves', () => {
    assert.equal(encodeValue('"\\\b\t\n\f\r'), '"\\"\\\\\\b\\t\\n\\f\\r"');
    assert.equal(encodeValue('\u0000\u001f'), '"\\u0000\\u001f"');
    assert.equal(encodeValue('\u007f\u2028\u2029😀'), '"\u007f\u2028\u2029😀"');
  });

  it('stores -0 as 0, at the top and nested, without mutating the caller', () => {
    assert.equal(encodeValue(-0), '0');
    assert.ok(Object.is(assertValue(-0), 0));
    const arr = [1, -0];
    assert.equal(encodeValue(arr), '[1,0]');
    assert.ok(Object.is(arr[1], -0), 'the caller array is untouched');
    const obj = { a: { b: -0 } };
    const checked = assertValue(obj) as { a: { b: number } };
    assert.ok(Object.is(checked.a.b, 0));
    assert.ok(Object.is(obj.a.b, -0), 'the caller object is untouched');
    assert.equal(encodeValue(obj), '{"a":{"b":0}}');
    const checkedArr = assertValue([[-0]]) as number[][];
    assert.ok(Object.is(checkedArr[0]![0], 0), 'nested -0 in arrays becomes 0 too');
  });

  it('parseLooseValue and decodeValue turn nested -0 into 0 (an env var or CLI argument [-0] gives [0])', () => {
    assert.ok(Object.is((parseLooseValue('[-0]') as number[])[0], 0));
    assert.ok(Object.is((parseLooseValue('{"a":-0}') as Record<string, number>)['a'], 0));
    assert.ok(Object.is((decodeValue('[1,-0]') as number[])[1], 0));
  });

  it('returns the same object when nothing needed normalising (no needless copies)', () => {
    const v = { a: [1, 2, { b: 'c' }] };
    assert.equal(assertValue(v), v);
  });

  it('accepts objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['a'] = 1;
    assert.equal(encodeValue(o), '{"a":1}');
  });
});

describe('refused values name the path', () => {
  it('NaN, Infinity and -Infinity', () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      invalid(() => encodeValue(n), 'PSMC_VALUE_INVALID', { path: '', message: String(n) });
      invalid(() => encodeValue({ sensors: [{ max: n }] }), 'PSMC_VALUE_INVALID', { path: '/sensors/0/max' });
    }
  });

  it('unsafe integers: 2^53-1 is fine, 2^53 and beyond are refused, and so are huge doubles (all integers)', () => {
    assert.equal(encodeValue(2 ** 53 - 1), '9007199254740991');
    for (const n of [2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e21, 1e300, Number.MAX_VALUE, -Number.MAX_VALUE]) {
      const e = invalid(() => encodeValue({ a: [n] }, 'k.x'), 'PSMC_VALUE_INVALID', { path: '/a/0', key: 'k.x' });
      assert.match(e.hint, /string/);
    }
    // A fraction just under 2^53 is not an integer and is fine.
    assert.equal(roundTrip(4503599627370495.5), 4503599627370495.5);
  });

  it('undefined, functions, symbols, bigints', () => {
    invalid(() => encodeValue(undefined), 'PSMC_VALUE_INVALID', { path: '', message: 'undefined' });
    invalid(() => encodeValue({ a: undefined }), 'PSMC_VALUE_INVALID', { path: '/a', message: 'undefined' });
    invalid(() => encodeValue([1, undefined]), 'PSMC_VALUE_INVALID', { path: '/1' });
    // eslint-disable-next-line no-sparse-arrays
    invalid(() => encodeValue([1, , 3]), 'PSMC_VALUE_INVALID', { path: '/1' });
    invalid(() => encodeValue({ f: () => 1 }), 'PSMC_VALUE_INVALID', { path: '/f', message: 'function' });
    invalid(() => encodeValue(Symbol('s')), 'PSMC_VALUE_INVALID', { path: '' });
    invalid(() => encodeValue({ n: 10n }), 'PSMC_VALUE_INVALID', { path: '/n', message: 'bigint' });
  });

  it('dates, maps, sets, regexps, typed arrays, boxed primitives and class instances', () => {
    class Point {
      x = 1;
    }
    const cases: Array<[unknown, string]> = [
      [new Date(0), 'Date'],
      [new Map([['a', 1]]), 'Map'],
      [new Set([1]), 'Set'],
      [/x/, 'RegExp'],
      [new Uint8Array(2), 'Uint8Array'],
      [new String('x'), 'String'],
      [new Number(1), 'Number'],
      [new Point(), 'Point'],
      [Object.create({ inherited: 1 }), ''],
    ];
    for (const [v, name] of cases) {
      const e = invalid(() => encodeValue({ list: [0, { v }] }), 'PSMC_VALUE_INVALID', {
        path: '/list/1/v',
        message: name,
      });
      assert.match(e.message, /not a plain JSON object/);
    }
  });

  it('member names with / and ~ are escaped in the JSON pointer', () => {
    invalid(() => encodeValue({ 'a/b': { 'c~d': NaN } }), 'PSMC_VALUE_INVALID', { path: '/a~1b/c~0d' });
  });

  it('lone surrogates in strings are refused with the index', () => {
    for (const s of ['\ud800', '\udfff', 'ab\udc00', 'x\ud83d', '\ud83d\ud83d\ude00x\udbff']) {
      const e = invalid(() => encodeValue({ deep: [s] }), 'PSMC_VALUE_INVALID', {
        path: '/deep/0',
        message: /surrogate/,
      });
      assert.match(e.message, /at index \d+/);
    }
    const e = invalid(() => encodeValue('ok\ud800'), 'PSMC_VALUE_INVALID', { path: '' });
    assert.match(e.message, /U\+D800\) at index 2/);
  });

  it('lone surrogates in member names are refused', () => {
    const e = invalid(() => encodeValue({ a: { ['x\udc00']: 1 } }), 'PSMC_VALUE_INVALID', { message: /member name/i });
    assert.ok(String(e.details.path).startsWith('/a/'));
  });

  it('a member named __proto__ is refused at any depth (from JSON text or a computed key)', () => {
    invalid(() => decodeValue('{"__proto__":{"polluted":1}}'), 'PSMC_VALUE_INVALID', {
      path: '/__proto__',
      message: '__proto__',
    });
    invalid(() => decodeValue('{"a":[1,{"b":{"__proto__":null}}]}'), 'PSMC_VALUE_INVALID', {
      path: '/a/1/b/__proto__',
    });
    invalid(() => encodeValue({ ['__proto__']: 1 }), 'PSMC_VALUE_INVALID', { path: '/__proto__' });
    let deep: JsonValue = JSON.parse('{"__proto__":{"polluted":1}}') as JsonValue;
    for (let i = 0; i < 40; i++) deep = i % 2 ? [deep] : { x: deep };
    invalid(() => encodeValue(deep), 'PSMC_VALUE_INVALID', { message: '__proto__' });
    // The object-literal form `{ __proto__: x }` sets the prototype: not a plain object.
    invalid(() => encodeValue({ a: { __proto__: { polluted: 1 } } }), 'PSMC_VALUE_INVALID', { path: '/a' });
  });

  it('members named constructor and prototype are ordinary data', () => {
    const v = decodeValue('{"constructor":{"prototype":{"polluted":1}},"prototype":1,"toString":"x"}') as Record<
      string,
      unknown
    >;
    assert.ok(Object.hasOwn(v, 'constructor'));
    assert.deepEqual(JSON.parse(encodeValue(v)), {
      constructor: { prototype: { polluted: 1 } },
      prototype: 1,
      toString: 'x',
    });
  });
});

describe('U+2028, U+2029, NUL, DEL and astral characters round-trip exactly', () => {
  const specials = [
    '\u2028',
    '\u2029',
    '\u0000',
    '\u007f',
    '😀',
    '𝄞',
    '\u{10FFFF}',
    '\uFEFF',
    '\uFFFF',
    'a\u0000b\u2028c\u2029d',
    '\r\n\t',
  ];
  for (const s of specials) {
    it(JSON.stringify(s), () => {
      const back = roundTrip(s);
      assert.equal(back, s);
      assert.equal((roundTrip({ [s]: s }) as Record<string, string>)[s], s);
      assert.equal(parseLooseValue(JSON.stringify(s)), s);
    });
  }
  it('through a store as well', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
    const store = openStore({ dir, envPrefix: false });
    try {
      const v = { s: specials, [specials.join('')]: specials.join('') };
      store.set('special.chars', v);
      assert.deepEqual(store.get('special.chars'), v);
      const other = openStore({ dir, envPrefix: false, freshnessMs: 0 });
      assert.deepEqual(other.exportData().entries['special.chars']?.value, v);
      other.close();
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('depth', () => {
  it(`MAX_DEPTH is 64: a scalar is depth 0, [] depth 1, [[1]] depth 2`, () => {
    assert.equal(MAX_DEPTH, 64);
  });
  for (const kind of ['array', 'object', 'mixed'] as const) {
    it(`${kind}: depth 64 is accepted, 65 refused with the path of the 65th container`, () => {
      assert.deepEqual(roundTrip(nest(64, 1, kind)), nest(64, 1, kind));
      const e = invalid(() => encodeValue(nest(65, 1, kind)), 'PSMC_VALUE_INVALID', { message: /deeper than 64/ });
      const segs = String(e.details.path).split('/').slice(1);
      assert.equal(segs.length, 64, `path ${String(e.details.path)}`);
    });
  }
  it('an empty container at the bottom counts: 63 levels + [] = 64 ok, 64 levels + [] = 65 refused', () => {
    assert.doesNotThrow(() => encodeValue(nest(63, [])));
    assert.doesNotThrow(() => encodeValue(nest(63, {})));
    invalid(() => encodeValue(nest(64, [])), 'PSMC_VALUE_INVALID');
    invalid(() => encodeValue(nest(64, {})), 'PSMC_VALUE_INVALID');
  });
  it('decodeValue enforces depth too, and very deep input is refused without a stack overflow', () => {
    invalid(() => decodeValue('['.repeat(65) + ']'.repeat(65)), 'PSMC_VALUE_INVALID');
    assert.doesNotThrow(() => decodeValue('['.repeat(64) + ']'.repeat(64)));
    invalid(() => decodeValue('['.repeat(5000) + ']'.repeat(5000)), 'PSMC_VALUE_INVALID');
    invalid(() => encodeValue(nest(5000)), 'PSMC_VALUE_INVALID');
  });
});

describe('size limit', () => {
  it(`is ${MAX_VALUE_BYTES} bytes of encoded UTF-8: exactly at is fine, one over is PSMC_VALUE_TOO_LARGE`, () => {
    assert.equal(MAX_VALUE_BYTES, 1_048_576);
    const at = 'a'.repeat(MAX_VALUE_BYTES - 2); // plus two quotes
    assert.equal(Buffer.byteLength(encodeValue(at)), MAX_VALUE_BYTES);
    const e = invalid(() => encodeValue(at + 'a', 'big.value'), 'PSMC_VALUE_TOO_LARGE', {
      key: 'big.value',
      message: String(MAX_VALUE_BYTES + 1),
    });
    assert.ok(e.message.includes(String(MAX_VALUE_BYTES)));
  });

  it('counts UTF-8 bytes, not UTF-16 units (2-byte, 3-byte and 4-byte characters)', () => {
    const two = 'é'.repeat((MAX_VALUE_BYTES - 2) / 2);
    assert.equal(Buffer.byteLength(encodeValue(two)), MAX_VALUE_BYTES);
    invalid(() => encodeValue(two + 'a'), 'PSMC_VALUE_TOO_LARGE');
    // 349,524 × 3 bytes + 2 quotes = 1,048,574; add "é" for exactly the limit.
    const three = '€'.repeat(349_524) + 'é';
    assert.equal(Buffer.byteLength(encodeValue(three)), MAX_VALUE_BYTES);
    invalid(() => encodeValue(three + 'a'), 'PSMC_VALUE_TOO_LARGE');
    const four = '😀'.repeat(262_143) + 'aa'; // 262,143 × 4 + 2 + 2 quotes; 4-byte chars are 2 UTF-16 units each
    assert.equal(Buffer.byteLength(encodeValue(four)), MAX_VALUE_BYTES);
    invalid(() => encodeValue(four + 'a'), 'PSMC_VALUE_TOO_LARGE');
  });

  it('counts escapes in the encoded form (NUL is 6 bytes encoded)', () => {
    const nul = '\u0000'.repeat(Math.floor((MAX_VALUE_BYTES - 2) / 6)); // 174,762 × 6 = 1,048,572 + 2
    assert.ok(Buffer.byteLength(encodeValue(nul)) <= MAX_VALUE_BYTES);
    invalid(() => encodeValue(nul + '\u0000'), 'PSMC_VALUE_TOO_LARGE');
  });

  it('counts the structure of arrays and objects', () => {
    const n = (MAX_VALUE_BYTES - 2 + 1) / 2; // "[" + "1," × (n-1) + "1" + "]" = 2n + 1 bytes
    const arr = new Array<number>(Math.floor(n) - 1).fill(1);
    const bytes = Buffer.byteLength(encodeValue(arr));
    assert.ok(bytes <= MAX_VALUE_BYTES, String(bytes));
    invalid(() => encodeValue([...arr, 1, 1]), 'PSMC_VALUE_TOO_LARGE');
  });
});

describe('decodeValue', () => {
  it('parses and validates', () => {
    assert.deepEqual(decodeValue('{"a":[1,2.5,"x",null,true]}'), { a: [1, 2.5, 'x', null, true] });
    assert.ok(Object.is(decodeValue('-0'), 0));
  });
  it('refuses text that is not JSON with PSMC_PARSE, naming the key', () => {
    for (const t of ['', '{', "{'a':1}", 'NaN', 'undefined', '[1,]', 'hello']) {
      invalid(() => decodeValue(t, 'display.units'), 'PSMC_PARSE', { key: 'display.units' });
    }
  });
  it('refuses JSON that breaks the value rules', () => {
    invalid(() => decodeValue('1e400'), 'PSMC_VALUE_INVALID');
    invalid(() => decodeValue('9007199254740993'), 'PSMC_VALUE_INVALID');
    invalid(() => decodeValue('"\\ud800"'), 'PSMC_VALUE_INVALID');
    invalid(() => decodeValue('{"\\udc00":1}'), 'PSMC_VALUE_INVALID');
  });
});

describe('parseLooseValue', () => {
  it('reads JSON when the text is JSON', () => {
    assert.equal(parseLooseValue('42'), 42);
    assert.equal(parseLooseValue(' 42 '), 42);
    assert.equal(parseLooseValue('-1.5e3'), -1500);
    assert.equal(parseLooseValue('true'), true);
    assert.equal(parseLooseValue('false'), false);
    assert.equal(parseLooseValue('null'), null);
    assert.equal(parseLooseValue('"quoted"'), 'quoted');
    assert.equal(parseLooseValue('"42"'), '42');
    assert.deepEqual(parseLooseValue('[1,"a"]'), [1, 'a']);
    assert.deepEqual(parseLooseValue('{"a":{"b":1}}'), { a: { b: 1 } });
    assert.ok(Object.is(parseLooseValue('-0'), 0));
  });
  it('reads anything else as the string itself', () => {
    for (const s of [
      'metric',
      '',
      ' ',
      'True',
      'FALSE',
      'NaN',
      'Infinity',
      '-Infinity',
      'undefined',
      '{bad',
      "{'a':1}",
      '0x10',
      '1_000',
      '01',
      '.5',
      '+1',
      'a b',
      '\u2028',
      '😀',
      'null ish',
    ]) {
      assert.equal(parseLooseValue(s), s, JSON.stringify(s));
    }
  });
  it('refuses rather than rounds integers beyond ±(2^53−1), and refuses non-finite JSON numbers', () => {
    invalid(() => parseLooseValue('9007199254740993', 'big.n'), 'PSMC_VALUE_INVALID', { key: 'big.n' });
    invalid(() => parseLooseValue('-9007199254740992'), 'PSMC_VALUE_INVALID');
    invalid(() => parseLooseValue('1e400'), 'PSMC_VALUE_INVALID');
    invalid(() => parseLooseValue('[1e21]'), 'PSMC_VALUE_INVALID', { path: '/0' });
    assert.equal(parseLooseValue('9007199254740991'), 9007199254740991);
  });
  it('refuses text that is JSON but breaks the rules (it does not fall back to a string)', () => {
    invalid(() => parseLooseValue('{"__proto__":{"polluted":1}}'), 'PSMC_VALUE_INVALID', { path: '/__proto__' });
    invalid(() => parseLooseValue('"\\udfff"'), 'PSMC_VALUE_INVALID');
    invalid(() => parseLooseValue('['.repeat(65) + ']'.repeat(65)), 'PSMC_VALUE_INVALID');
  });
  it('refuses a raw string holding a lone surrogate', () => {
    invalid(() => parseLooseValue('abc\ud800'), 'PSMC_VALUE_INVALID');
  });
});

describe('typeOf and valuesEqual', () => {
  it('derives the type name', () => {
    assert.equal(typeOf(null), 'null');
    assert.equal(typeOf(true), 'boolean');
    assert.equal(typeOf(1), 'integer');
    assert.equal(typeOf(1.0), 'integer');
    assert.equal(typeOf(-0), 'integer');
    assert.equal(typeOf(1.5), 'number');
    assert.equal(typeOf(''), 'string');
    assert.equal(typeOf([]), 'array');
    assert.equal(typeOf({}), 'object');
  });
  it('compares JSON values ignoring member order', () => {
    assert.ok(valuesEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }));
    assert.ok(!valuesEqual([1, 2], [2, 1]));
    assert.ok(!valuesEqual({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!valuesEqual({ a: 1, b: 2 }, { a: 1, c: 2 }));
    assert.ok(!valuesEqual([], {}));
    assert.ok(!valuesEqual({}, []));
    assert.ok(!valuesEqual(null, {}));
    assert.ok(!valuesEqual(0, '0'));
    assert.ok(!valuesEqual({ a: undefined } as unknown as JsonValue, { b: undefined } as unknown as JsonValue));
    assert.ok(valuesEqual(0, -0));
    assert.ok(valuesEqual(undefined, undefined));
    assert.ok(!valuesEqual(undefined, null));
  });
});

// ---------------------------------------------------------------------------
// Properties

/** An independent model of §value.limits (without the size limit). */
function modelValid(v: unknown, depth = 0): boolean {
  switch (typeof v) {
    case 'string':
      return v.isWellFormed();
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && (!Number.isInteger(v) || Math.abs(v) <= Number.MAX_SAFE_INTEGER);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!modelValid(v[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k of Object.keys(v)) {
        if (k === '__proto__' || !k.isWellFormed()) return false;
        if (!modelValid((v as Record<string, unknown>)[k], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(
      'a',
      '"',
      '\\',
      '\u2028',
      '\u2029',
      '\u0000',
      '\u007f',
      '😀',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\n',
      'é',
    ),
    maxLength: 12,
  }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '\ud83d'),
);
const nastyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    -0,
    0,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    -(2 ** 53 - 1),
    1e21,
    1e300,
    5e-324,
    Number.MAX_VALUE,
    0.1,
  ),
  fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map((b) => Number(b)),
);
const nastyScalar = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));
const { nastyValue } = fc.letrec<{ nastyValue: unknown }>((tie) => ({
  nastyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyScalar,
    fc.array(tie('nastyValue'), { maxLength: 4 }),
    fc.array(fc.tuple(nastyString, tie('nastyValue')), { maxLength: 4 }).map((pairs) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of pairs)
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
  ),
}));
const deepValue = fc
  .tuple(
    fc.integer({ min: 55, max: 70 }),
    fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed'),
    fc.constantFrom<JsonValue>(1, [], {}, 'x'),
  )
  .map(([n, kind, leaf]) => nest(n, leaf, kind));

function checkEncodeProperty(v: unknown): void {
  let text: string | undefined;
  let err: unknown;
  try {
    text = encodeValue(v);
  } catch (e) {
    err = e;
  }
  if (err !== undefined) {
    assert.ok(err instanceof PsmcError, `not a PsmcError: ${String(err)}`);
    assert.ok(err.code === 'PSMC_VALUE_INVALID' || err.code === 'PSMC_VALUE_TOO_LARGE', err.code);
    assert.ok(err.hint.length > 0);
    assert.equal(modelValid(v), false, `refused a valid value: ${err.message}`);
    return;
  }
  assert.equal(modelValid(v), true, `accepted an invalid value: ${String(text)}`);
  const back = decodeValue(text as string);
  assert.ok(valuesEqual(back, v as JsonValue), `round trip changed the value: ${String(text)}`);
  // Re-encoding is stable.
  assert.equal(encodeValue(back), text);
  // The encoded form is exactly what JSON.stringify writes (after -0 → 0, which JSON.stringify also does).
  assert.equal(text, JSON.stringify(v));
}

describe('properties', () => {
  it('fc.jsonValue(): encodeValue either refuses with a value code or round-trips to an equal value', () => {
    fc.assert(fc.property(fc.jsonValue(), checkEncodeProperty), { numRuns: 1000 });
  });

  it('nasty values (U+2028, NUL, lone surrogates, huge numbers, __proto__ members): refuse or round-trip', () => {
    fc.assert(fc.property(nastyValue, checkEncodeProperty), { numRuns: 2000 });
  });

  it('deep nesting around the limit: refuse or round-trip, agreeing with the model', () => {
    fc.assert(fc.property(deepValue, checkEncodeProperty), { numRuns: 200 });
  });

  it('decodeValue and parseLooseValue never return a value that breaks the rules, never pollute, never throw a non-PsmcError', () => {
    const text = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      nastyValue.map((v) => {
        try {
          return JSON.stringify(v) ?? 'undefined';
        } catch {
          return 'x';
        }
      }),
      fc.constantFrom(
        '{"__proto__":{"polluted":1}}',
        '[{"__proto__":{"polluted":1}}]',
        '{"a":{"constructor":{"prototype":{"polluted":1}}}}',
      ),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        for (const f of [decodeValue, parseLooseValue]) {
          try {
            const v = f(t);
            assert.ok(modelValid(v));
          } catch (e) {
            assert.ok(e instanceof PsmcError, `not a PsmcError: ${String(e)}`);
            assert.ok(['PSMC_PARSE', 'PSMC_VALUE_INVALID'].includes(e.code));
          }
        }
        assertPrototypesClean();
      }),
      { numRuns: 1500 },
    );
  });
});

describe('prototype pollution through every entry point', () => {
  const payloads = [
    '{"__proto__":{"polluted":1}}',
    '{"a":{"__proto__":{"polluted":1}}}',
    '[{"__proto__":{"polluted":1}}]',
    '{"constructor":{"prototype":{"polluted":1}}}',
  ];
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodeValue, parseLooseValue, importData (both forms) and set never touch Object.prototype', () => {
    const store = openStore({ dir, envPrefix: false });
    try {
      for (const p of payloads) {
        const hasProto = p.includes('__proto__');
        const entryPoints = [
          () => decodeValue(p),
          () => parseLooseValue(p),
          () => store.set('k', JSON.parse(p)),
          () => store.batch([{ op: 'set', key: 'k2', value: JSON.parse(p) }]),
          () => store.importData({ k: JSON.parse(p) }),
          () => store.importData(JSON.parse(`{"format":"psmc-export","version":1,"entries":{"k":{"value":${p}}}}`)),
        ];
        for (const f of entryPoints) {
          if (hasProto) invalid(f, 'PSMC_VALUE_INVALID', { message: '__proto__' });
          else f();
          assertPrototypesClean();
        }
      }
      // Only the constructor payload was accepted.
      assert.deepEqual(Object.keys(store.all()).sort(), ['k', 'k2']);
    } finally {
      store.close();
    }
    assertPrototypesClean();
  });

  it('values with constructor/prototype members are stored as data and come back as own members', () => {
    const store = openStore({ dir, envPrefix: false });
    try {
      store.set('k', JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'));
      const v = store.get('k') as Record<string, unknown>;
      assert.ok(Object.hasOwn(v, 'constructor'));
      assert.deepEqual(JSON.parse(JSON.stringify(v)), { constructor: { prototype: { polluted: 1 } } });
      assertPrototypesClean();
    } finally {
      store.close();
    }
  });
});
