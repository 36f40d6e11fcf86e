/**
 * The mirror codecs (spec/sections/mirror-format.md): round trips of every
 * JSON value through each format, update keeping comments and reaching the
 * canonical file, error positions, and prototype pollution.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPsmcError, type PsmcError } from '../../src/core/errors.js';
import { encodeValue, type JsonValue } from '../../src/core/value.js';
import { codecFor, MIRROR_FILES, type MirrorFormat } from '../../src/mirror/codecs/index.js';

const FORMATS: readonly MirrorFormat[] = ['json', 'toml', 'yaml'];

// ── arbitraries ──────────────────────────────────────────────────────────

const special = fc.constantFrom(
  '\u2028',
  '\u2029',
  '\u0000',
  '\u007f',
  '\u0085',
  '\ufeff',
  '\uffff',
  '😀',
  '𝄞',
  '"',
  '\\',
  '\n',
  '\r\n',
  '\t',
  '#',
  ': ',
  ' - ',
  "'",
  '${x}',
  '',
);
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.oneof(special, fc.string({ maxLength: 3 })), { maxLength: 5 }).map((parts) => parts.join('')),
  fc.constantFrom(
    'yes',
    'no',
    'on',
    'null',
    '~',
    'true',
    '1e3',
    '0x10',
    '1.0',
    '-',
    '$json',
    'constructor',
    'prototype',
    'toString',
  ),
);
const memberName = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', '$json', '10', '1', 'b c') },
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    2 ** 53,
    5e-324,
    1e-7,
    1.5e-7,
    0.000001,
    1e300,
    -0,
    0.1,
  ),
);
const scalar = fc.oneof(fc.constant(null), fc.boolean(), number, text);

function object(pairs: Array<[string, JsonValue]>): JsonValue {
  const o: Record<string, JsonValue> = {};
  for (const [k, v] of pairs)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const { value } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(memberName, tie('value')), { maxLength: 4 }).map(object),
  ),
}));
/** Sometimes wrapped in many arrays, to reach the depth limit from both sides. */
const anyValue = fc.oneof(
  { weight: 6, arbitrary: value },
  { weight: 1, arbitrary: fc.tuple(value, fc.integer({ min: 55, max: 70 })).map(([v, n]) => wrap(v, n)) },
);
function wrap(v: JsonValue, n: number): JsonValue {
  let out = v;
  for (let i = 0; i < n; i++) out = [out];
  return out;
}

const keySeg = fc.stringMatching(/^[a-z0-9]{1,5}([_-][a-z0-9]{1,3})?$/);
const key = fc.oneof(
  fc.array(keySeg, { minLength: 1, maxLength: 3 }).map((s) => s.join('.')),
  fc.constantFrom('1e3', 'true', 'null', '0x10', 'on', 'y', 'No', '2fa.enabled', '1', '10', 'Z.a', 'a-b.c_d'),
);

function isValid(v: JsonValue): boolean {
  try {
    encodeValue(v);
    return true;
  } catch (e) {
    if (isPsmcError(e)) return false;
    throw e;
  }
}
const validValue = value.filter(isValid);
const entriesOf = (v: fc.Arbitrary<JsonValue>): fc.Arbitrary<Array<[string, JsonValue]>> =>
  fc.uniqueArray(fc.tuple(key, v), { selector: (t) => t[0], maxLength: 6 });

const sortEntries = (e: Array<[string, JsonValue]>): Array<[string, JsonValue]> =>
  [...e].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const encoded = (m: Map<string, JsonValue>): Array<[string, string]> => [...m].map(([k, v]) => [k, encodeValue(v)]);

function thrown(f: () => unknown): PsmcError {
  try {
    f();
  } catch (e) {
    if (isPsmcError(e)) return e;
    throw e;
  }
  assert.fail('expected a PsmcError');
}

// ── prototype checks ─────────────────────────────────────────────────────

const PROTO_NAMES = Reflect.ownKeys(Object.prototype).map(String).sort();
afterEach(() => {
  assert.deepEqual(Reflect.ownKeys(Object.prototype).map(String).sort(), PROTO_NAMES);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
});

// ── tests ────────────────────────────────────────────────────────────────

describe('codecFor and file names', () => {
  it('gives one codec per format', () => {
    for (const f of FORMATS) assert.equal(codecFor(f).format, f);
    assert.deepEqual(MIRROR_FILES, { json: 'config.json', toml: 'config.toml', yaml: 'config.yaml' });
    assert.throws(() => codecFor('ini' as MirrorFormat), TypeError);
  });
});

describe('render → parse gives the values back, or a typed refusal before render', () => {
  for (const f of FORMATS) {
    it(f, () => {
      const codec = codecFor(f);
      fc.assert(
        fc.property(entriesOf(anyValue), (entries) => {
          let out: string;
          try {
            out = codec.render(entries);
          } catch (e) {
            assert.ok(isPsmcError(e), String(e));
            assert.ok(
              entries.some(([, v]) => !isValid(v)),
              'refused only when a value breaks the rules',
            );
            return;
          }
          const parsed = codec.parse(out);
          assert.deepEqual(
            encoded(parsed.values),
            sortEntries(entries).map(([k, v]) => [k, encodeValue(v)]),
          );
          assert.deepEqual(parsed.header, { version: 1 });
          // Rendering is a function of the values: rendering again gives the same bytes.
          assert.equal(codec.render([...parsed.values]), out);
        }),
        { numRuns: 400 },
      );
    });
  }
});

/** Puts a comment line `c<n>` before some entry lines and before the end. */
function withComments(t: string, f: MirrorFormat, flags: boolean[]): { text: string; comments: string[] } {
  const lines = t.split('\n');
  const out: string[] = [];
  const comments: string[] = [];
  const starts = f === 'json' ? /^ {2}"|^\}$/ : f === 'toml' ? /^"/ : /^[^\s#]/;
  lines.forEach((line, i) => {
    if (i > 0 && (starts.test(line) || (f !== 'json' && i === lines.length - 1)) && flags[i % flags.length] === true) {
      const c = `c${i}`;
      comments.push(c);
      out.push(f === 'json' ? `  // ${c}` : `# ${c}`);
    }
    out.push(line);
  });
  return { text: out.join('\n'), comments };
}

describe('update', () => {
  const change = fc.tuple(key, fc.option(validValue, { nil: undefined, freq: 3 }));
  for (const f of FORMATS) {
    it(`${f}: updating the canonical file gives the canonical file of the new values`, () => {
      const codec = codecFor(f);
      fc.assert(
        fc.property(
          entriesOf(validValue),
          fc.uniqueArray(change, { selector: (c) => c[0], maxLength: 5 }),
          (base, changes) => {
            const next = new Map(base);
            for (const [k, v] of changes) {
              if (v === undefined) next.delete(k);
              else next.set(k, v);
            }
            const out = codec.update(
              codec.render(base),
              changes.map(([k, v]) => ({ key: k, value: v })),
            );
            assert.equal(out, codec.render([...next]));
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${f}: keeps every comment and parses to the new values`, () => {
      const codec = codecFor(f);
      fc.assert(
        fc.property(
          entriesOf(validValue),
          fc.uniqueArray(change, { selector: (c) => c[0], maxLength: 5 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
          (base, changes, flags) => {
            const { text: commented, comments } = withComments(codec.render(base), f, flags);
            const expected = new Map(base);
            for (const [k, v] of changes) {
              if (v === undefined) expected.delete(k);
              else expected.set(k, v);
            }
            const out = codec.update(
              commented,
              changes.map(([k, v]) => ({ key: k, value: v })),
            );
            for (const c of comments)
              assert.ok(new RegExp(`(//|#) ${c}$`, 'm').test(out), `comment ${c} kept in\n${out}`);
            const got = encoded(codec.parse(out).values).sort((a, b) => (a[0] < b[0] ? -1 : 1));
            assert.deepEqual(
              got,
              sortEntries([...expected]).map(([k, v]) => [k, encodeValue(v)]),
            );
            // Unchanged entries keep their text: an update with no effective change returns the input.
            assert.equal(
              codec.update(
                out,
                [...expected].map(([k, v]) => ({ key: k, value: v })),
              ),
              out,
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('keeps a byte order mark and CRLF line breaks', () => {
    for (const f of FORMATS) {
      const codec = codecFor(f);
      const t =
        '\ufeff' +
        codec
          .render([
            ['a', 1],
            ['c', 3],
          ])
          .replace(/\n/g, '\r\n');
      const out = codec.update(t, [{ key: 'b', value: { x: [1, 2] } }]);
      assert.ok(out.startsWith('\ufeff'));
      assert.ok(!/[^\r]\n/.test(out), `only CRLF in ${JSON.stringify(out)}`);
      assert.deepEqual([...codec.parse(out).values.keys()], ['a', 'b', 'c']);
    }
  });
});

describe('errors say where', () => {
  it('syntax errors carry 1-based line and column', () => {
    const cases: Array<[MirrorFormat, string, number, number]> = [
      ['json', '{\n  "a": 1\n  "b": 2\n}', 3, 3],
      ['toml', '"a" = 1\n"b" = [1, 2\n', 3, 1],
      ['yaml', 'a: 1\nb: c: d\n', 2, 4],
      ['toml', '"a" = "😀😀" x\n', 1, 12],
      ['json', '{"a": "x\u0001"}', 1, 9],
    ];
    for (const [f, t, line, column] of cases) {
      const e = thrown(() => codecFor(f).parse(t));
      assert.equal(e.code, 'PSMC_PARSE', `${f} ${t}`);
      assert.equal(e.details.line, line, `${f} ${JSON.stringify(t)}: ${e.message}`);
      assert.equal(e.details.column, column, `${f} ${JSON.stringify(t)}: ${e.message}`);
      assert.ok(e.hint.length > 10);
    }
  });

  it('duplicate keys name both lines', () => {
    const texts: Record<MirrorFormat, string> = {
      json: '{\n"a": 1,\n"b": 2,\n"a": 3\n}',
      toml: '"a" = 1\n"b" = 2\n"a" = 3\n',
      yaml: 'a: 1\nb: 2\na: 3\n',
    };
    for (const f of FORMATS) {
      const e = thrown(() => codecFor(f).parse(texts[f]));
      assert.equal(e.code, 'PSMC_PARSE');
      const [first, second] = f === 'json' ? [2, 4] : [1, 3];
      assert.match(e.message, new RegExp(`line ${first}\\b.*line ${second}\\b`));
      assert.equal(e.details.key, 'a');
    }
  });

  it('an illegal key and a bad value name the key, line and column', () => {
    const keys: Record<MirrorFormat, string> = {
      json: '{\n  "ok": 1,\n  "a..b": 2\n}',
      toml: '"ok" = 1\n"a..b" = 2\n',
      yaml: 'ok: 1\n"a..b": 2\n',
    };
    const values: Record<MirrorFormat, string> = {
      json: '{\n  "ok": 1,\n  "n": 1e999\n}',
      toml: '"ok" = 1\n"n" = inf\n',
      yaml: 'ok: 1\nn: .inf\n',
    };
    for (const f of FORMATS) {
      const k = thrown(() => codecFor(f).parse(keys[f]));
      assert.equal(k.code, 'PSMC_KEY_SYNTAX');
      assert.equal(k.details.key, 'a..b');
      assert.equal(k.details.line, f === 'json' ? 3 : 2);
      const v = thrown(() => codecFor(f).parse(values[f]));
      assert.equal(v.code, 'PSMC_VALUE_INVALID');
      assert.equal(v.details.key, 'n');
      assert.equal(v.details.line, f === 'json' ? 3 : 2);
    }
  });

  it('a newer header is refused before anything else', () => {
    for (const f of FORMATS) {
      const mark = f === 'json' ? '//' : '#';
      assert.equal(thrown(() => codecFor(f).parse(`${mark} psmc mirror v3\n}}}`)).code, 'PSMC_FORMAT_TOO_NEW');
    }
  });

  it('TOML: an unquoted dotted key gets a hint to quote it', () => {
    const e = thrown(() => codecFor('toml').parse('display.units = "metric"\n'));
    assert.equal(e.code, 'PSMC_PARSE');
    assert.match(e.hint, /"display\.units" = /);
  });
});

describe('prototype pollution', () => {
  const hostile: Record<MirrorFormat, string[]> = {
    json: [
      '{"__proto__": {"polluted": 1}}',
      '{"a": {"__proto__": {"polluted": 1}}}',
      '{"a": [{"__proto__": {"x": 1}}]}',
      '{"constructor.prototype": {"polluted": 1}}',
      '{"a": {"constructor": {"prototype": {"polluted": 1}}}}',
    ],
    toml: [
      '"__proto__" = { polluted = 1 }\n',
      '"a" = { "__proto__" = { polluted = 1 } }\n',
      '"a" = { __proto__.polluted = 1 }\n',
      '"a" = { "$json" = "{\\"__proto__\\":{\\"polluted\\":1}}" }\n',
      '"a" = { constructor = { prototype = { polluted = 1 } } }\n',
      '__proto__ = 1\n',
    ],
    yaml: [
      '__proto__:\n  polluted: 1\n',
      'a:\n  __proto__:\n    polluted: 1\n',
      'a: {__proto__: {x: 1}}\n',
      'a:\n  - "__proto__": {polluted: 1}\n',
      'a:\n  constructor:\n    prototype:\n      polluted: 1\n',
    ],
  };
  for (const f of FORMATS) {
    it(`${f}: __proto__ is refused and nothing reaches a prototype`, () => {
      for (const t of hostile[f]) {
        let values: Map<string, JsonValue> | undefined;
        try {
          values = codecFor(f).parse(t).values;
        } catch (e) {
          assert.ok(isPsmcError(e), `${t}: ${String(e)}`);
          assert.ok(['PSMC_KEY_RESERVED', 'PSMC_VALUE_INVALID'].includes(e.code), `${t}: ${e.code}`);
          continue;
        }
        // Only the constructor/prototype cases parse: as ordinary own members.
        assert.ok(!t.includes('__proto__'), `${t} should be refused`);
        const a = values.get('a') as Record<string, JsonValue>;
        assert.ok(Object.hasOwn(a, 'constructor'));
        assert.equal(Object.getPrototypeOf(a), Object.prototype);
        assert.deepEqual(JSON.parse(encodeValue(a)), { constructor: { prototype: { polluted: 1 } } });
      }
    });
  }
});
