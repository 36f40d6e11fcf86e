import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PsmcError } from '../../src/core/errors.js';
import {
  coerceEnv,
  envName,
  envVariableFor,
  FALSE_WORDS,
  isReservedEnvName,
  prefixFromApp,
  RESERVED_ENV_NAMES,
  snapshotEnv,
  TRUE_WORDS,
} from '../../src/core/env.js';
import type { KeySchema } from '../../src/core/schema.js';
import { parseSchemaDocument } from '../../src/core/schema.js';

/** Key schemas in the tests go through the parser, as they would in the store. */
function ks(schema: Record<string, unknown>): KeySchema {
  return parseSchemaDocument({ keys: { k: schema } }).keys['k'] as KeySchema;
}

function coerceFails(
  raw: string,
  schema: KeySchema | undefined,
  variable = 'PSMC_DISPLAY__UNITS',
  key = 'display.units',
): PsmcError {
  let caught: PsmcError | undefined;
  assert.throws(
    () => coerceEnv(raw, schema, variable, key),
    (e: unknown) => {
      assert.ok(e instanceof PsmcError, String(e));
      assert.equal(e.code, 'PSMC_ENV_COERCE');
      assert.equal(e.details.key, key);
      assert.equal(e.details['variable'], variable);
      assert.ok(e.message.includes(variable), e.message);
      assert.ok(e.message.includes(JSON.stringify(key)), e.message);
      assert.ok(e.hint.startsWith(`Set ${variable} to `) && e.hint.endsWith(', or unset it.'), e.hint);
      caught = e;
      return true;
    },
  );
  return caught as PsmcError;
}

describe('env mapping', () => {
  it('maps keys to variable names', () => {
    assert.equal(envName('PSMC', 'display.units'), 'PSMC_DISPLAY__UNITS');
    assert.equal(envName('PSMC', 'sensor-1.max_temp'), 'PSMC_SENSOR_1__MAX_TEMP');
    assert.equal(envName('MY_APP', 'a.b.c'), 'MY_APP_A__B__C');
    assert.equal(envName('PSMC', 'Max-Temp'), envName('PSMC', 'max_temp'));
  });
  it('rejects bad keys (PsmcError) and bad prefixes (TypeError)', () => {
    assert.throws(
      () => envName('PSMC', 'a..b'),
      (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_KEY_SYNTAX',
    );
    assert.throws(() => envName('psmc', 'a'), TypeError);
    assert.throws(() => envName('', 'a'), TypeError);
  });
  it('prefixFromApp', () => {
    assert.equal(prefixFromApp('psmc'), 'PSMC');
    assert.equal(prefixFromApp('my-app2'), 'MY_APP2');
    for (const bad of ['', '1app', 'my app', 'é', '-x', 'a.b']) assert.throws(() => prefixFromApp(bad), TypeError, bad);
  });
  it('reserved names have no env layer', () => {
    assert.deepEqual(RESERVED_ENV_NAMES, [
      'PSMC_HOME',
      'PSMC_DEBUG',
      'PSMC_SECRET_KEY',
      'PSMC_SOURCE',
      'PSMC_STORE',
      'PSMC_APP',
      'PSMC_PROJECT',
    ]);
    for (const n of RESERVED_ENV_NAMES) assert.equal(isReservedEnvName('PSMC', n), true);
    assert.equal(isReservedEnvName('MYAPP', 'MYAPP_HOME'), true);
    assert.equal(isReservedEnvName('MYAPP', 'PSMC_HOME'), false);
    assert.equal(isReservedEnvName('PSMC', 'PSMC_HOME__DIR'), false);
    assert.equal(isReservedEnvName('PSMC', 'PSMCX_HOME'), false);
    assert.equal(envVariableFor('PSMC', 'home'), undefined);
    assert.equal(envVariableFor('PSMC', 'secret_key'), undefined);
    assert.equal(envVariableFor('PSMC', 'secret.key'), 'PSMC_SECRET__KEY');
    assert.equal(envVariableFor('PSMC', 'home.dir'), 'PSMC_HOME__DIR');
  });
  it('snapshotEnv keeps only prefixed, non-reserved, set variables', () => {
    const env = {
      PSMC_A: '1',
      PSMC_HOME: '/h',
      PSMC_: 'x',
      PSMCX_A: '2',
      OTHER: '3',
      PSMC_B__C: '',
      PSMC_U: undefined,
      psmc_low: 'l',
    };
    assert.deepEqual(
      [...snapshotEnv(env, 'PSMC')],
      [
        ['PSMC_A', '1'],
        ['PSMC_B__C', ''],
      ],
    );
    assert.deepEqual(
      [...snapshotEnv(env, 'PSMC', { caseInsensitive: true })],
      [
        ['PSMC_A', '1'],
        ['PSMC_B__C', ''],
        ['PSMC_LOW', 'l'],
      ],
    );
  });
  it('property: "__" in a name always means "." (mapping is unambiguous up to case and -/_)', () => {
    const seg = fc
      .stringMatching(/^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/)
      .filter((s) => s.length <= 20 && !['prototype', 'constructor', 'tostring', 'valueof'].includes(s.toLowerCase()));
    fc.assert(
      fc.property(
        fc
          .array(seg, { minLength: 1, maxLength: 5 })
          .filter((a) => !a.some((s) => s.toLowerCase() === 'hasownproperty')),
        (segs) => {
          const key = segs.join('.');
          const name = envName('PSMC', key);
          const back = name.slice('PSMC_'.length).split('__');
          assert.deepEqual(
            back,
            segs.map((s) => s.toUpperCase().replaceAll('-', '_')),
          );
        },
      ),
    );
  });
});

describe('env coercion table', () => {
  it('boolean words, case-insensitive and trimmed', () => {
    const b = ks({ type: 'boolean' });
    for (const w of ['true', 'TRUE', ' yes ', 'On', '1', '\tYES\n'])
      assert.equal(coerceEnv(w, b, 'PSMC_X', 'x'), true, w);
    for (const w of ['false', 'False', 'no', 'OFF', '0', ' off '])
      assert.equal(coerceEnv(w, b, 'PSMC_X', 'x'), false, w);
    for (const w of ['', 'maybe', 'truthy', '2', 'y', 'n', 't', '01', 'true false']) coerceFails(w, b, 'PSMC_X', 'x');
  });
  it('integer', () => {
    const i = ks({ type: 'integer' });
    assert.equal(coerceEnv('42', i, 'PSMC_X', 'x'), 42);
    assert.equal(coerceEnv(' -7 ', i, 'PSMC_X', 'x'), -7);
    assert.equal(coerceEnv('+007', i, 'PSMC_X', 'x'), 7);
    assert.ok(Object.is(coerceEnv('-0', i, 'PSMC_X', 'x'), 0));
    assert.equal(coerceEnv('9007199254740991', i, 'PSMC_X', 'x'), 9007199254740991);
    for (const w of ['9007199254740992', '1.0', '1e3', '0x10', '', 'abc', '1_000']) coerceFails(w, i, 'PSMC_X', 'x');
    assert.match(coerceFails('99999999999999999', i, 'PSMC_X', 'x').message, /outside/);
  });
  it('number', () => {
    const n = ks({ type: 'number' });
    assert.equal(coerceEnv('-1.5', n, 'PSMC_X', 'x'), -1.5);
    assert.equal(coerceEnv('2e3', n, 'PSMC_X', 'x'), 2000);
    assert.equal(coerceEnv('.5', n, 'PSMC_X', 'x'), 0.5);
    assert.equal(coerceEnv('5.', n, 'PSMC_X', 'x'), 5);
    assert.equal(coerceEnv(' 3 ', n, 'PSMC_X', 'x'), 3);
    for (const w of ['', ' ', '0x10', 'Infinity', '-Infinity', 'NaN', '1e400', '1e20', '1,5', '1.2.3', 'e5', '--1'])
      coerceFails(w, n, 'PSMC_X', 'x');
  });
  it('null', () => {
    const n = ks({ type: 'null' });
    assert.equal(coerceEnv('null', n, 'PSMC_X', 'x'), null);
    assert.equal(coerceEnv(' NULL ', n, 'PSMC_X', 'x'), null);
    for (const w of ['', 'nil', 'none', '0']) coerceFails(w, n, 'PSMC_X', 'x');
  });
  it('string is taken untouched', () => {
    const s = ks({ type: 'string' });
    for (const w of ['', ' padded ', '42', 'true', 'null', '{"a":1}', 'é😀'])
      assert.equal(coerceEnv(w, s, 'PSMC_X', 'x'), w);
  });
  it('array and object are JSON of that type', () => {
    assert.deepEqual(coerceEnv('[1,"a"]', ks({ type: 'array' }), 'PSMC_X', 'x'), [1, 'a']);
    assert.deepEqual(coerceEnv(' {"a":[true]} ', ks({ type: 'object' }), 'PSMC_X', 'x'), { a: [true] });
    coerceFails('{"a":1}', ks({ type: 'array' }), 'PSMC_X', 'x');
    coerceFails('[1]', ks({ type: 'object' }), 'PSMC_X', 'x');
    coerceFails('[1,', ks({ type: 'array' }), 'PSMC_X', 'x');
    coerceFails('a,b', ks({ type: 'array' }), 'PSMC_X', 'x');
    coerceFails('{"__proto__":1}', ks({ type: 'object' }), 'PSMC_X', 'x');
    assert.equal(
      Object.getPrototypeOf(coerceEnv('{"constructor":1}', ks({ type: 'object' }), 'PSMC_X', 'x')),
      Object.prototype,
    );
  });
  it('union types try null, boolean, integer, number, JSON, then string', () => {
    const t = (types: string[], raw: string): unknown => coerceEnv(raw, ks({ type: types }), 'PSMC_X', 'x');
    assert.equal(t(['string', 'integer'], '42'), 42);
    assert.equal(t(['string', 'integer'], 'abc'), 'abc');
    assert.equal(t(['string', 'integer'], '4.5'), '4.5');
    assert.equal(t(['integer', 'number'], '4.5'), 4.5);
    assert.equal(t(['string', 'boolean'], 'yes'), true);
    assert.equal(t(['string', 'null'], 'null'), null);
    assert.equal(t(['string', 'null'], 'nul'), 'nul');
    assert.equal(t(['boolean', 'integer'], '1'), true);
    assert.equal(t(['integer', 'null'], 'null'), null);
    assert.deepEqual(t(['array', 'string'], '[1]'), [1]);
    assert.equal(t(['array', 'string'], '{"a":1}'), '{"a":1}');
    assert.deepEqual(t(['array', 'object'], '{"a":1}'), { a: 1 });
    assert.equal(t(['number', 'string'], '1e400'), '1e400');
    coerceFails('x', ks({ type: ['integer', 'boolean'] }), 'PSMC_X', 'x');
  });
  it('no schema or no type: parse like `psmc set`', () => {
    assert.equal(coerceEnv('42', undefined, 'PSMC_X', 'x'), 42);
    assert.equal(coerceEnv('true', undefined, 'PSMC_X', 'x'), true);
    assert.equal(coerceEnv('hello', undefined, 'PSMC_X', 'x'), 'hello');
    assert.deepEqual(coerceEnv('{"a":1}', undefined, 'PSMC_X', 'x'), { a: 1 });
    assert.equal(coerceEnv('yes', undefined, 'PSMC_X', 'x'), 'yes');
    assert.equal(coerceEnv('', undefined, 'PSMC_X', 'x'), '');
    coerceFails('1e400', undefined, 'PSMC_X', 'x');
    coerceFails('9007199254740993', undefined, 'PSMC_X', 'x');
    // untyped enum: the raw text is used when the JSON reading does not fit but the text does
    const e = ks({ enum: ['1', '2', 'auto'] });
    assert.equal(coerceEnv('1', e, 'PSMC_X', 'x'), '1');
    assert.equal(coerceEnv('auto', e, 'PSMC_X', 'x'), 'auto');
    coerceFails('3', e, 'PSMC_X', 'x');
    assert.equal(coerceEnv('7', ks({ minimum: 5 }), 'PSMC_X', 'x'), 7);
    coerceFails('3', ks({ minimum: 5 }), 'PSMC_X', 'x');
  });
  it('validates the coerced value against the whole key schema, with a useful hint', () => {
    const units = ks({ type: 'string', enum: ['metric', 'imperial'] });
    const e = coerceFails('kelvin', units);
    assert.equal(e.hint, 'Set PSMC_DISPLAY__UNITS to one of "metric", "imperial", or unset it.');
    assert.match(e.message, /"kelvin"/);
    const r = coerceFails('120', ks({ type: 'integer', maximum: 100 }), 'PSMC_VOL', 'vol');
    assert.match(r.message, /above the maximum 100/);
    assert.equal(r.details['keyword'], 'maximum');
    const p = coerceFails(
      '{"port":0}',
      ks({ type: 'object', properties: { port: { type: 'integer', minimum: 1 } } }),
      'PSMC_SRV',
      'srv',
    );
    assert.equal(p.details['path'], '/port');
  });
  it('truncates long raw values and never echoes secrets', () => {
    const long = 'x'.repeat(500);
    const e = coerceFails(long, ks({ type: 'integer' }), 'PSMC_X', 'x');
    assert.ok(!e.message.includes('x'.repeat(81)), e.message);
    assert.ok(e.message.includes('x'.repeat(80) + '"…'));
    const s = coerceFails('hunter2', ks({ type: 'integer', secret: true }), 'PSMC_PW', 'pw');
    assert.ok(!s.message.includes('hunter2'));
  });
});

describe('env coercion properties', () => {
  const b = ks({ type: 'boolean' });
  const i = ks({ type: 'integer' });
  const n = ks({ type: 'number' });
  it('boolean round-trips', () => {
    fc.assert(fc.property(fc.boolean(), (v) => coerceEnv(String(v), b, 'PSMC_X', 'x') === v));
  });
  it('integer round-trips', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => Object.is(coerceEnv(String(v), i, 'PSMC_X', 'x'), v === 0 ? 0 : v)),
    );
  });
  it('number round-trips (finite, within the value rules)', () => {
    const num = fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((v) => !Number.isInteger(v) || Number.isSafeInteger(v));
    fc.assert(fc.property(num, (v) => Object.is(coerceEnv(String(v), n, 'PSMC_X', 'x'), v === 0 ? 0 : v)));
  });
  it('random text never becomes true unless it is a true word', () => {
    const text = fc.oneof(
      fc.string(),
      fc.constantFrom(...TRUE_WORDS, ...FALSE_WORDS, 'TRUE ', ' On', 'truE', 'yes!', 'y', 't', '2'),
    );
    fc.assert(
      fc.property(text, (raw) => {
        const word = raw.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '').toLowerCase();
        let out: unknown;
        try {
          out = coerceEnv(raw, b, 'PSMC_FLAG', 'flag');
        } catch (e) {
          assert.ok(e instanceof PsmcError && e.code === 'PSMC_ENV_COERCE');
          assert.ok(e.message.includes('PSMC_FLAG') && e.message.includes('"flag"'));
          assert.ok(!TRUE_WORDS.includes(word) && !FALSE_WORDS.includes(word));
          return;
        }
        assert.equal(out, TRUE_WORDS.includes(word));
        assert.ok(TRUE_WORDS.includes(word) || FALSE_WORDS.includes(word));
      }),
    );
  });
  it('string type returns the raw text for any well-formed string', () => {
    const s = ks({ type: 'string' });
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (raw) => coerceEnv(raw, s, 'PSMC_X', 'x') === raw));
  });
  it('errors always name the variable and the key', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom<KeySchema>(i, n, ks({ type: 'null' }), ks({ type: 'array' })),
        (raw, schema) => {
          try {
            coerceEnv(raw, schema, 'PSMC_SOME__KEY', 'some.key');
          } catch (e) {
            assert.ok(e instanceof PsmcError && e.code === 'PSMC_ENV_COERCE');
            assert.ok(e.message.includes('PSMC_SOME__KEY') && e.message.includes('"some.key"'));
            assert.deepEqual([e.details.key, e.details['variable']], ['some.key', 'PSMC_SOME__KEY']);
          }
        },
      ),
    );
  });
});
