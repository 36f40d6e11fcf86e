/**
 * Key rules (spec/SPEC.md §key.syntax, §key.reserved, §key.limits).
 *
 * Every refusal must be a PsmcError with the right code, a message that names
 * the key (what) and the offending rule/position (where), and a non-empty hint.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { PsmcError } from '../../src/core/errors.js';
import {
  assertKey,
  isReservedSegment,
  isValidKey,
  keyError,
  keyHasPrefix,
  MAX_KEY_LENGTH,
  MAX_KEY_SEGMENTS,
  normalizePrefix,
  RESERVED_SEGMENTS,
} from '../../src/core/keys.js';
import { openStore } from '../../src/index.js';

/** The documented grammar, written independently of src/core/keys.ts. */
const GRAMMAR = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*(?:\.[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*)*$/;
const SPEC_RESERVED = [
  '__proto__',
  'prototype',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
];

/** What the spec says about `key`, computed without the implementation. */
function specVerdict(key: string): 'ok' | 'PSMC_KEY_SYNTAX' | 'PSMC_KEY_RESERVED' {
  const segs = key.split('.');
  // Order (§key.limits): empty, reserved segment, over 256 characters, over 32 segments, grammar.
  if (key.length > 0 && segs.some((s) => SPEC_RESERVED.some((r) => r.toLowerCase() === s.toLowerCase()))) {
    return 'PSMC_KEY_RESERVED';
  }
  if (!GRAMMAR.test(key) || key.length > MAX_KEY_LENGTH || segs.length > MAX_KEY_SEGMENTS) return 'PSMC_KEY_SYNTAX';
  return 'ok';
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
}

/** Asserts that assertKey(key) throws a well-formed PsmcError and returns it. */
function refused(key: string, code: 'PSMC_KEY_SYNTAX' | 'PSMC_KEY_RESERVED', messagePart?: string | RegExp): PsmcError {
  let caught: unknown;
  try {
    assertKey(key);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PsmcError, `expected a PsmcError for ${JSON.stringify(key)}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${JSON.stringify(key)}: ${caught.message}`);
  assert.equal(caught.details.key, key);
  assert.ok(caught.hint.trim().length > 10, 'hint must say how to fix it');
  // "What": the message quotes the key (shortened when very long).
  const shown = JSON.stringify(key.length > 80 ? key.slice(0, 80) : key).slice(0, -1);
  if (key !== '') assert.ok(caught.message.includes(shown), `message should quote the key: ${caught.message}`);
  if (typeof messagePart === 'string')
    assert.ok(caught.message.includes(messagePart), `${caught.message} should include ${messagePart}`);
  else if (messagePart) assert.match(caught.message, messagePart);
  assert.equal(isValidKey(key), false);
  // keyError agrees with assertKey.
  const direct = keyError(key);
  assert.equal(direct.code, caught.code);
  assert.equal(direct.message, caught.message);
  return caught;
}

describe('legal keys', () => {
  const legal = [
    'a',
    'A',
    '0',
    'display.units',
    'sensor-1.max_temp',
    'plant.line2.speed',
    'a-b-c.d_e_f',
    'a1.b2.c3',
    'Display.Units',
    'x_y-z',
    '123.456',
    'proto', // only the exact reserved names are refused
    'prototypes',
    'my-constructor',
    'to-string',
    'tostring2',
    'hasOwn',
    'valueOfX',
  ];
  for (const key of legal) {
    it(`accepts ${JSON.stringify(key)}`, () => {
      assert.doesNotThrow(() => assertKey(key));
      assert.equal(isValidKey(key), true);
      assert.equal(specVerdict(key), 'ok');
    });
  }

  it('is case-sensitive (two keys that differ in case are both legal and distinct)', () => {
    assert.equal(isValidKey('Display.units'), true);
    assert.equal(isValidKey('display.units'), true);
    assert.notEqual('Display.units', 'display.units');
  });
});

describe('illegal keys: syntax', () => {
  it('refuses the empty key, saying it is empty', () => {
    const e = refused('', 'PSMC_KEY_SYNTAX', 'empty');
    assert.match(e.hint, /display\.units/);
  });

  const cases: Array<[string, RegExp]> = [
    ['.a', /starts with "\."/],
    ['a.', /ends with "\."/],
    ['a..b', /empty segment/],
    ['.', /starts with "\."/],
    ['_a', /starts with "_"/],
    ['a_', /ends with "_"/],
    ['-a', /starts with "-"/],
    ['a-', /ends with "-"/],
    ['a__b', /two "_"\/"-" in a row/],
    ['a-_b', /two "_"\/"-" in a row/],
    ['a--b', /two "_"\/"-" in a row/],
    ['x.y._z', /segment "_z" that starts with "_"/],
    ['x.y.z_', /segment "z_" that ends with "_"/],
  ];
  for (const [key, re] of cases) {
    it(`refuses ${JSON.stringify(key)} and names the rule`, () => {
      refused(key, 'PSMC_KEY_SYNTAX', re);
    });
  }

  it('names the offending character, its code point and its 1-based position', () => {
    const e = refused('a b', 'PSMC_KEY_SYNTAX', 'U+0020');
    assert.match(e.message, /position 2\b/);
    assert.equal(e.details['position'], 2);
    const e2 = refused('display.un/its', 'PSMC_KEY_SYNTAX', '"/"');
    assert.match(e2.message, /U\+002F/);
    assert.match(e2.message, /position 11\b/);
    assert.equal(e2.details['position'], 11);
    const e3 = refused('ab.cd.e\nf', 'PSMC_KEY_SYNTAX', 'U+000A');
    assert.match(e3.message, /position 8\b/);
  });

  it('refuses non-ASCII letters (ä, full-width, Cyrillic look-alikes)', () => {
    refused('ä', 'PSMC_KEY_SYNTAX', 'U+00E4');
    refused('display.ünits', 'PSMC_KEY_SYNTAX', /position 9\b/);
    refused('ａ', 'PSMC_KEY_SYNTAX', 'U+FF41');
    refused('аdmin', 'PSMC_KEY_SYNTAX', 'U+0430'); // Cyrillic а
  });

  it('names an astral character by its real code point, not half a surrogate pair', () => {
    // "😀" is U+1F600; reporting U+D83D (its high surrogate) would point the user at a character that is not there.
    const e = refused('a😀', 'PSMC_KEY_SYNTAX', /position 2\b/);
    assert.match(e.message, /U\+1F600/, e.message);
  });

  it('refuses lone surrogates and control characters without throwing anything but PsmcError', () => {
    refused('a\ud800', 'PSMC_KEY_SYNTAX');
    refused('\udc00', 'PSMC_KEY_SYNTAX');
    refused('a\u0000b', 'PSMC_KEY_SYNTAX', 'U+0000');
    refused('a\u007f', 'PSMC_KEY_SYNTAX', 'U+007F');
    refused('a\u2028', 'PSMC_KEY_SYNTAX', 'U+2028');
  });

  it('refuses a trailing newline (the regex must anchor at the true end)', () => {
    refused('a\n', 'PSMC_KEY_SYNTAX', 'U+000A');
    refused('\na', 'PSMC_KEY_SYNTAX', 'U+000A');
  });

  it('refuses wildcard-looking and path-looking keys', () => {
    for (const k of ['a.*', '*', 'a/b', 'a\\b', '../etc', 'a:b', 'a=b', 'a b', '@schema', 'a.b ', ' a']) {
      refused(k, 'PSMC_KEY_SYNTAX');
    }
  });

  it('a non-string key is a TypeError (caller misuse), not a PsmcError', () => {
    for (const k of [undefined, null, 1, {}, ['a'], Symbol('a')]) {
      assert.throws(
        () => assertKey(k),
        (e: unknown) => e instanceof TypeError && !(e instanceof PsmcError),
      );
      assert.equal(isValidKey(k), false);
    }
    assert.throws(() => assertKey(null), /null/);
  });
});

describe('reserved segments', () => {
  it('the implementation reserves exactly the spec list', () => {
    assert.deepEqual([...RESERVED_SEGMENTS].sort(), SPEC_RESERVED.map((s) => s.toLowerCase()).sort());
  });

  const variants = (s: string): string[] => [s, s.toLowerCase(), s.toUpperCase(), s[0]!.toUpperCase() + s.slice(1)];
  for (const r of SPEC_RESERVED) {
    it(`refuses ${r} in any case and at any position`, () => {
      for (const v of new Set(variants(r))) {
        for (const [key, segNo] of [
          [v, 1],
          [`a.${v}`, 2],
          [`${v}.a`, 1],
          [`a.b.${v}.c`, 3],
        ] as const) {
          const e = refused(key, 'PSMC_KEY_RESERVED', `segment ${segNo}`);
          assert.equal(e.details['segment'], v);
          assert.ok(e.message.includes(JSON.stringify(v)), e.message);
          assert.match(e.hint, /rename/i);
          assert.equal(isReservedSegment(v), true);
        }
      }
    });
  }

  it('reports the reserved segment before the underscores (checked before syntax)', () => {
    refused('a.__proto__', 'PSMC_KEY_RESERVED');
    refused('__PROTO__', 'PSMC_KEY_RESERVED');
    refused('x.__defineGetter__.y', 'PSMC_KEY_RESERVED');
  });

  it('near-misses are ordinary keys or ordinary syntax errors', () => {
    for (const k of ['protot', 'constructors', 'to-string', 'value-of', 'has-own-property', 'proto']) {
      assert.equal(isValidKey(k), true, k);
    }
    refused('_proto_', 'PSMC_KEY_SYNTAX');
    refused('__proto', 'PSMC_KEY_SYNTAX');
  });
});

describe('key limits', () => {
  it(`accepts exactly ${MAX_KEY_LENGTH} characters and refuses ${MAX_KEY_LENGTH + 1}`, () => {
    assert.equal(MAX_KEY_LENGTH, 256);
    const at = 'a'.repeat(MAX_KEY_LENGTH);
    assert.doesNotThrow(() => assertKey(at));
    const dotted = 'abcdefg.'.repeat(31) + 'abcdefghabcdefghabcdefghabcdefg'; // 32 segments, 279 chars? trimmed below
    const at2 = dotted.slice(0, 256).replace(/\.$/, 'x');
    assert.equal(at2.length, 256);
    assert.equal(isValidKey(at2), true, at2);
    const over = 'a'.repeat(MAX_KEY_LENGTH + 1);
    const e = refused(over, 'PSMC_KEY_SYNTAX', `${MAX_KEY_LENGTH + 1} characters`);
    assert.ok(e.message.includes(String(MAX_KEY_LENGTH)));
    assert.ok(e.message.includes('…'), 'a long key is shortened in the message');
    assert.ok(e.message.length < 300, 'the message does not echo the whole key');
  });

  it(`accepts exactly ${MAX_KEY_SEGMENTS} segments and refuses ${MAX_KEY_SEGMENTS + 1}`, () => {
    assert.equal(MAX_KEY_SEGMENTS, 32);
    const at = Array.from({ length: MAX_KEY_SEGMENTS }, (_, i) => `s${i}`).join('.');
    assert.doesNotThrow(() => assertKey(at));
    const over = Array.from({ length: MAX_KEY_SEGMENTS + 1 }, (_, i) => `s${i}`).join('.');
    refused(over, 'PSMC_KEY_SYNTAX', `${MAX_KEY_SEGMENTS + 1} segments`);
  });

  it('a too-long key that also has bad characters reports the length', () => {
    refused('ä'.repeat(300), 'PSMC_KEY_SYNTAX', /300 characters/);
  });

  it('a reserved segment is reported before the length (spec order), with a bounded message', () => {
    const k = 'a.'.repeat(200) + 'constructor';
    const e = refused(k, 'PSMC_KEY_RESERVED', 'segment 201');
    assert.ok(e.message.length < 300);
  });
});

describe('prefixes', () => {
  it('normalizePrefix accepts empty, a key, or a key with one trailing dot', () => {
    assert.equal(normalizePrefix(undefined), '');
    assert.equal(normalizePrefix(''), '');
    assert.equal(normalizePrefix('a.b'), 'a.b');
    assert.equal(normalizePrefix('a.b.'), 'a.b');
  });

  it('normalizePrefix refuses malformed prefixes with PsmcError', () => {
    for (const p of ['.', 'a..', '..', 'a b', '.a']) {
      assert.throws(
        () => normalizePrefix(p),
        (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_KEY_SYNTAX' && e.hint.length > 0,
        p,
      );
    }
    assert.throws(
      () => normalizePrefix('a.constructor.'),
      (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_KEY_RESERVED',
    );
  });

  it('keyHasPrefix works on whole segments', () => {
    assert.equal(keyHasPrefix('a.b', 'a'), true);
    assert.equal(keyHasPrefix('a', 'a'), true);
    assert.equal(keyHasPrefix('ab', 'a'), false);
    assert.equal(keyHasPrefix('a-b', 'a'), false);
    assert.equal(keyHasPrefix('a.b.c', 'a.b'), true);
    assert.equal(keyHasPrefix('a.bc', 'a.b'), false);
    assert.equal(keyHasPrefix('x', ''), true);
  });
});

// ---------------------------------------------------------------------------
// Properties

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
const run = fc.string({ unit: alnum, minLength: 1, maxLength: 8 });
const segment = fc
  .tuple(run, fc.array(fc.tuple(fc.constantFrom('_', '-'), run), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([j, r]) => j + r).join(''));
const reservedSegment = fc
  .constantFrom(...SPEC_RESERVED)
  .chain((r) =>
    fc
      .array(fc.boolean(), { minLength: r.length, maxLength: r.length })
      .map((ups) => [...r].map((c, i) => (ups[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
  );
/** Keys from the documented grammar, of every size around the limits, sometimes with reserved segments. */
const grammarKey = fc
  .array(fc.oneof({ weight: 12, arbitrary: segment }, { weight: 1, arbitrary: reservedSegment }), {
    minLength: 1,
    maxLength: 40,
  })
  .map((segs) => segs.join('.'));

describe('properties', () => {
  it('every string built from the grammar is accepted iff it is within the limits and has no reserved segment', () => {
    fc.assert(
      fc.property(grammarKey, (key) => {
        const verdict = specVerdict(key);
        assert.equal(isValidKey(key), verdict === 'ok', key);
        if (verdict === 'ok') {
          assert.doesNotThrow(() => assertKey(key));
          // Round-trips through the textual operations the store relies on.
          assert.equal(key.split('.').join('.'), key);
          assert.equal(normalizePrefix(key), key);
          assert.equal(normalizePrefix(key + '.'), key);
          assert.equal(keyHasPrefix(key, key), true);
          assert.equal(JSON.parse(JSON.stringify(key)), key);
        } else {
          refused(key, verdict);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('strings matching the grammar regex (fc.stringMatching) agree with the verdict', () => {
    fc.assert(
      fc.property(fc.stringMatching(GRAMMAR), (key) => {
        const verdict = specVerdict(key);
        assert.equal(isValidKey(key), verdict === 'ok', key);
        if (verdict !== 'ok') refused(key, verdict);
      }),
      { numRuns: 1000 },
    );
  });

  it('random strings are either accepted and match the grammar, or refused with a PsmcError (never another error)', () => {
    const noisy = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({
        unit: fc.constantFrom('a', 'B', '1', '.', '_', '-', ' ', '\n', 'é', '\ud800', '\udfff', '😀', '\u0000'),
        maxLength: 40,
      }),
      fc.string({ unit: fc.constantFrom('a', '.', '_', '-'), maxLength: 300 }),
      grammarKey.map((k) => k + '.'),
      grammarKey.map((k) => '_' + k),
    );
    fc.assert(
      fc.property(noisy, (key) => {
        let err: unknown;
        try {
          assertKey(key);
        } catch (e) {
          err = e;
        }
        if (err === undefined) {
          assert.ok(GRAMMAR.test(key), `accepted ${JSON.stringify(key)} which does not match the grammar`);
          assert.ok(key.length <= MAX_KEY_LENGTH && key.split('.').length <= MAX_KEY_SEGMENTS);
          assert.equal(isValidKey(key), true);
        } else {
          assert.ok(err instanceof PsmcError, `not a PsmcError: ${String(err)}`);
          assert.equal(err.code, specVerdict(key), `${JSON.stringify(key)}: ${err.message}`);
          assert.ok(err.hint.length > 0);
          assert.equal(err.details.key, key);
          assert.equal(isValidKey(key), false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('legal keys round-trip byte-exactly through a store (set, get, list, history)', () => {
    const dir = tmpDir();
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = openStore({ dir: path.join(dir, 'store'), envPrefix: false });
    try {
      const seen = new Set<string>();
      fc.assert(
        fc.property(
          grammarKey.filter((k) => specVerdict(k) === 'ok'),
          fc.integer(),
          (key, n) => {
            store.set(key, n);
            seen.add(key);
            assert.equal(store.get(key), n);
            assert.equal(store.history(key, { limit: 1 })[0]?.key, key);
          },
        ),
        { numRuns: 60 },
      );
      assert.deepEqual(
        store.list().map((r) => r.key),
        [...seen].sort(),
      );
    } finally {
      store.close();
    }
  });
});
