import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PsmcError } from '../../src/core/errors.js';
import {
  checkPatternSubset,
  codePointLength,
  compileSchema,
  CompiledSchema,
  isMultipleOf,
  parseSchemaDocument,
  SUPPORTED_KEYWORDS,
} from '../../src/core/schema.js';
import type { JsonValue } from '../../src/core/value.js';

function invalidAt(doc: unknown, path: string, re?: RegExp): void {
  assert.throws(
    () => parseSchemaDocument(doc),
    (e: unknown) => {
      assert.ok(e instanceof PsmcError, String(e));
      assert.equal(e.code, 'PSMC_SCHEMA_INVALID');
      assert.equal(e.details.path, path);
      assert.ok(e.message.includes(path === '' ? '/' : path), e.message);
      if (re) assert.match(e.message, re);
      assert.ok(e.hint.length > 0);
      return true;
    },
  );
}

function violation(schema: CompiledSchema, key: string, value: JsonValue, keyword: string, path = ''): PsmcError {
  let caught: PsmcError | undefined;
  assert.throws(
    () => schema.validate(key, value),
    (e: unknown) => {
      assert.ok(e instanceof PsmcError, String(e));
      assert.equal(e.code, 'PSMC_SCHEMA_VIOLATION');
      assert.equal(e.details.key, key);
      assert.equal(e.details.keyword, keyword);
      assert.equal(e.details.path, path);
      assert.ok(e.message.includes(JSON.stringify(key)), e.message);
      if (path !== '') assert.ok(e.message.includes(path), e.message);
      if (keyword !== 'additionalKeys') assert.match(e.hint, /^Use /);
      caught = e;
      return true;
    },
  );
  return caught as PsmcError;
}

const one = (ks: Record<string, unknown>): CompiledSchema => compileSchema({ keys: { k: ks } });

describe('parseSchemaDocument', () => {
  it('accepts a full document and returns an equal, frozen copy', () => {
    const doc = {
      version: 1,
      additionalKeys: false,
      keys: {
        'display.units': {
          type: 'string',
          enum: ['metric', 'imperial'],
          default: 'metric',
          title: 'Units',
          description: 'd',
          examples: ['metric'],
          deprecated: false,
          readOnly: false,
          secret: false,
        },
        'sensors.*.max': {
          type: ['number', 'null'],
          minimum: 0,
          maximum: 1000,
          exclusiveMinimum: -1,
          exclusiveMaximum: 1001,
          multipleOf: 0.5,
        },
        list: {
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 5, pattern: '^[a-z]+$' },
          minItems: 0,
          maxItems: 3,
          uniqueItems: true,
        },
        obj: {
          type: 'object',
          properties: { a: { const: 1 } },
          required: ['a'],
          additionalProperties: { type: 'string' },
          minProperties: 1,
          maxProperties: 4,
        },
      },
    };
    const parsed = parseSchemaDocument(doc);
    assert.deepEqual(parsed, doc);
    assert.notEqual(parsed, doc);
    assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.keys));
  });

  it('rejects non-objects, unknown members, missing keys and bad version/additionalKeys', () => {
    invalidAt(null, '');
    invalidAt([], '');
    invalidAt({}, '/keys');
    invalidAt({ keys: [] }, '/keys');
    invalidAt({ keys: {}, extra: 1 }, '/extra');
    invalidAt({ keys: {}, version: 2 }, '/version');
    invalidAt({ keys: {}, additionalKeys: 'no' }, '/additionalKeys');
  });

  it('rejects an unknown keyword naming it, its path, and listing the supported ones', () => {
    assert.throws(
      () => parseSchemaDocument({ keys: { 'display.units': { type: 'string', format: 'email' } } }),
      (e: unknown) => {
        assert.ok(e instanceof PsmcError);
        assert.equal(e.code, 'PSMC_SCHEMA_INVALID');
        assert.equal(e.details.path, '/keys/display.units/format');
        assert.match(e.message, /"format"/);
        for (const kw of SUPPORTED_KEYWORDS) assert.ok(e.hint.includes(kw), kw);
        return true;
      },
    );
    for (const kw of [
      '$ref',
      'oneOf',
      'anyOf',
      'allOf',
      'not',
      'if',
      'format',
      'patternProperties',
      'prefixItems',
      'contains',
      '$schema',
    ]) {
      invalidAt({ keys: { a: { [kw]: 1 } } }, `/keys/a/${kw.replace(/\//g, '~1')}`);
    }
  });

  it('checks every keyword value type', () => {
    const bad: [string, unknown][] = [
      ['type', 'float'],
      ['type', []],
      ['type', ['string', 'string']],
      ['type', 3],
      ['enum', []],
      ['enum', 'a'],
      ['minimum', '1'],
      ['maximum', Number.NaN],
      ['exclusiveMinimum', null],
      ['exclusiveMaximum', Infinity],
      ['multipleOf', 0],
      ['multipleOf', -1],
      ['minLength', -1],
      ['maxLength', 1.5],
      ['minItems', '2'],
      ['maxItems', -3],
      ['minProperties', true],
      ['maxProperties', 2.5],
      ['uniqueItems', 'yes'],
      ['deprecated', 1],
      ['readOnly', null],
      ['secret', 'true'],
      ['title', 1],
      ['description', []],
      ['pattern', 5],
      ['items', [{ type: 'string' }]],
      ['items', true],
      ['properties', []],
      ['required', 'a'],
      ['required', [1]],
      ['required', ['a', 'a']],
      ['additionalProperties', 'no'],
      ['examples', 'x'],
      ['const', Infinity],
      ['default', undefined],
    ];
    for (const [kw, v] of bad) {
      const p =
        kw === 'type' && Array.isArray(v) && v.length === 2
          ? `/keys/a/type/1`
          : kw === 'required' && Array.isArray(v)
            ? `/keys/a/required/${v.length === 1 ? 0 : 1}`
            : `/keys/a/${kw}`;
      invalidAt({ keys: { a: { [kw]: v } } }, p);
    }
  });

  it('checks nested schemas with JSON-pointer paths', () => {
    invalidAt({ keys: { a: { properties: { 'x/y': { type: 'nope' } } } } }, '/keys/a/properties/x~1y/type');
    invalidAt({ keys: { a: { items: { items: { minimum: 'z' } } } } }, '/keys/a/items/items/minimum');
    invalidAt({ keys: { a: { additionalProperties: { bogus: 1 } } } }, '/keys/a/additionalProperties/bogus');
    invalidAt({ keys: { a: { enum: [1, { b: [Infinity] }] } } }, '/keys/a/enum/1/b/0');
  });

  it('checks key names and patterns', () => {
    invalidAt({ keys: { 'Bad..key': {} } }, '/keys/Bad..key');
    invalidAt({ keys: { 'a.b_': {} } }, '/keys/a.b_');
    invalidAt({ keys: { 'a.prototype': {} } }, '/keys/a.prototype');
    invalidAt({ keys: { 'a.x*': {} } }, '/keys/a.x*', /whole segment/);
    invalidAt({ keys: { 'a.*.constructor': {} } }, '/keys/a.*.constructor', /reserved/);
    invalidAt({ keys: { 'a..*': {} } }, '/keys/a..*');
    invalidAt({ keys: { '**': {} } }, '/keys/**');
    assert.doesNotThrow(() => parseSchemaDocument({ keys: { '*': {}, '*.*': {}, 'a.*.b-c': {} } }));
  });

  it('requires a default to satisfy its own schema, at any depth', () => {
    invalidAt(
      { keys: { a: { type: 'integer', maximum: 10, default: 11 } } },
      '/keys/a/default',
      /above the maximum 10/,
    );
    invalidAt({ keys: { a: { enum: ['x'], default: 'y' } } }, '/keys/a/default');
    invalidAt({ keys: { a: { properties: { b: { type: 'string', default: 1 } } } } }, '/keys/a/properties/b/default');
    invalidAt({ keys: { a: { type: 'array', items: { type: 'string' }, default: ['x', 2] } } }, '/keys/a/default/1');
    assert.doesNotThrow(() => parseSchemaDocument({ keys: { a: { type: 'integer', maximum: 10, default: 10 } } }));
  });

  it('refuses __proto__ anywhere and never touches Object.prototype', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const texts = [
      '{"keys":{"__proto__":{"type":"string"}}}',
      '{"__proto__":{"polluted":1},"keys":{}}',
      '{"keys":{"a":{"__proto__":{"polluted":1}}}}',
      '{"keys":{"a":{"properties":{"__proto__":{"type":"string"}}}}}',
      '{"keys":{"a":{"required":["__proto__"]}}}',
      '{"keys":{"a":{"default":{"__proto__":{"polluted":1}}}}}',
      '{"keys":{"a":{"const":{"__proto__":1}}}}',
    ];
    for (const t of texts) {
      assert.throws(
        () => parseSchemaDocument(JSON.parse(t)),
        (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_SCHEMA_INVALID',
        t,
      );
    }
    // `constructor` and `prototype` as member names inside values/properties are legal data, kept as own members.
    const doc = parseSchemaDocument(
      JSON.parse(
        '{"keys":{"a":{"type":"object","properties":{"constructor":{"type":"string","default":"x"},"prototype":{"type":"object"}},"required":["constructor"],"default":{"constructor":"y"}}}}',
      ),
    );
    const s = new CompiledSchema(doc);
    s.validate('a', JSON.parse('{"constructor":"z","prototype":{}}') as JsonValue);
    violation(s, 'a', {}, 'required');
    violation(s, 'a', JSON.parse('{"constructor":1}') as JsonValue, 'type', '/constructor');
    // an object without a `constructor` member does not inherit one from the prototype
    const t = one({ type: 'object', properties: { toString: { type: 'string' } }, additionalProperties: false });
    t.validate('k', {});
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
    assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('rejects a plain JS object whose prototype is not Object.prototype', () => {
    invalidAt({ keys: { a: Object.create({ type: 'string' }) as object } }, '/keys/a', undefined);
    assert.doesNotThrow(() =>
      parseSchemaDocument({ keys: { a: Object.assign(Object.create(null) as object, { type: 'string' }) } }),
    );
  });
});

describe('regex subset', () => {
  it('accepts the portable subset', () => {
    for (const p of [
      '',
      'abc',
      '^a.c$',
      '[a-z0-9_-]+',
      '[^\\]]',
      '\\d\\w\\s\\D\\W\\S',
      '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/',
      '(ab|cd)*',
      '(?:x)?',
      'a{3}',
      'a{2,}',
      'a{2,5}',
      '[\\d.]',
      '[\\-]',
      'a|',
      'é+',
      '😀{2}',
      '/path',
    ]) {
      assert.equal(checkPatternSubset(p), undefined, p);
      assert.doesNotThrow(() => parseSchemaDocument({ keys: { a: { pattern: p } } }), p);
    }
  });
  it('rejects lookaround, backreferences, named groups, lazy/possessive quantifiers, property escapes and more', () => {
    const bad = [
      '(?=a)',
      '(?!a)',
      '(?<=a)b',
      '(?<!a)b',
      '(a)\\1',
      '\\k<n>',
      '(?<n>a)',
      '(?P<n>a)',
      '(?i)a',
      'a*?',
      'a+?',
      'a??',
      'a{2}?',
      'a*+',
      'a++',
      '\\p{L}',
      '\\P{L}',
      '\\b',
      '\\n',
      '\\u0041',
      '\\x41',
      '*a',
      'a**',
      '{2}',
      'a{,3}',
      'a{3,2}',
      'a{1001}',
      '[]',
      '[^]',
      '[a',
      '(a',
      'a)',
      '[z-a]',
      '[\\d-z]',
      '[a-\\w]',
      '[[a]]',
      '[a&&b]',
      '[a--b]',
      ']',
      '}',
      'a{x}',
      '^*',
      '\\',
    ];
    for (const p of bad) {
      assert.notEqual(checkPatternSubset(p), undefined, p);
      invalidAt({ keys: { a: { pattern: p } } }, '/keys/a/pattern');
    }
    assert.notEqual(checkPatternSubset('('.repeat(40) + ')'.repeat(40)), undefined);
  });
  it('matches unanchored, with the u flag', () => {
    const s = one({ type: 'string', pattern: '[0-9]{3}' });
    s.validate('k', 'abc123def');
    violation(s, 'k', 'ab12', 'pattern');
    const e = one({ pattern: '^.$' });
    e.validate('k', '😀'); // one code point with the u flag
    e.validate('k', 5); // pattern ignores non-strings
  });
  it('property: every accepted pattern compiles with the u flag', () => {
    const atom = fc.constantFrom('a', '.', '\\d', '\\W', '[a-f]', '[^x]', '\\.', '(b|c)', '(?:d)', 'é');
    const quant = fc.constantFrom('', '*', '+', '?', '{2}', '{1,}', '{0,3}');
    const pat = fc
      .array(
        fc.tuple(atom, quant).map(([a, q]) => a + q),
        { maxLength: 6 },
      )
      .map((xs) => xs.join(''));
    fc.assert(
      fc.property(pat, (p) => {
        assert.equal(checkPatternSubset(p), undefined, p);
        new RegExp(p, 'u');
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (p) => {
        if (checkPatternSubset(p) === undefined) new RegExp(p, 'u'); // must not throw
      }),
    );
  });
});

describe('CompiledSchema.validate', () => {
  it('type, including integer and unions', () => {
    const s = one({ type: 'integer' });
    s.validate('k', 3);
    s.validate('k', -0);
    const e = violation(s, 'k', 3.5, 'type');
    assert.match(e.message, /is 3\.5 \(a number\), not an integer/);
    violation(s, 'k', '3', 'type');
    const u = one({ type: ['string', 'null'] });
    u.validate('k', null);
    u.validate('k', 'x');
    assert.match(violation(u, 'k', true, 'type').hint, /a string or null/);
    const n = one({ type: 'number' });
    n.validate('k', 1);
    n.validate('k', 1.5);
    violation(one({ type: 'object' }), 'k', [], 'type');
    violation(one({ type: 'array' }), 'k', {}, 'type');
    violation(one({ type: 'boolean' }), 'k', 0, 'type');
    violation(one({ type: 'null' }), 'k', false, 'type');
  });
  it('const and enum use deep JSON equality and list the allowed values in the hint', () => {
    const c = one({ const: { a: [1, 2] } });
    c.validate('k', { a: [1, 2] });
    violation(c, 'k', { a: [2, 1] }, 'const');
    const s = compileSchema({ keys: { 'display.units': { enum: ['metric', 'imperial', null, 1, { x: 1 }] } } });
    for (const v of ['metric', null, 1, { x: 1 }] as JsonValue[]) s.validate('display.units', v);
    const e = violation(s, 'display.units', 'kelvin', 'enum');
    assert.match(e.hint, /"metric", "imperial"/);
    assert.equal(e.message, 'The value of key "display.units" is "kelvin", not one of the allowed values.');
    violation(s, 'display.units', '1', 'enum');
    violation(s, 'display.units', { x: 2 }, 'enum');
  });
  it('numeric bounds (draft 2020 exclusive forms) and multipleOf', () => {
    const s = one({ minimum: 0, maximum: 100 });
    s.validate('k', 0);
    s.validate('k', 100);
    s.validate('k', 'not a number');
    const e = violation(s, 'k', 120, 'maximum');
    assert.match(e.message, /is 120, above the maximum 100/);
    violation(s, 'k', -1, 'minimum');
    const x = one({ exclusiveMinimum: 0, exclusiveMaximum: 1 });
    x.validate('k', 0.5);
    violation(x, 'k', 0, 'exclusiveMinimum');
    violation(x, 'k', 1, 'exclusiveMaximum');
    const m = one({ multipleOf: 0.1 });
    m.validate('k', 0.3);
    m.validate('k', 1.2);
    m.validate('k', -0.7);
    violation(m, 'k', 0.35, 'multipleOf');
    const i = one({ multipleOf: 5 });
    i.validate('k', 15);
    violation(i, 'k', 7, 'multipleOf');
  });
  it('string lengths count code points', () => {
    assert.equal(codePointLength('a😀b'), 3);
    const s = one({ minLength: 2, maxLength: 3 });
    s.validate('k', '😀😀😀');
    s.validate('k', 'ab');
    violation(s, 'k', '😀', 'minLength');
    violation(s, 'k', 'abcd', 'maxLength');
    violation(s, 'k', '😀😀😀😀', 'maxLength');
  });
  it('arrays: items, minItems, maxItems, uniqueItems with paths', () => {
    const s = one({
      type: 'array',
      items: { type: 'integer', maximum: 100 },
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
    });
    s.validate('k', [1, 2, 3]);
    violation(s, 'k', [], 'minItems');
    violation(s, 'k', [1, 2, 3, 4], 'maxItems');
    violation(s, 'k', [1, 2, 1], 'uniqueItems', '/2');
    violation(s, 'k', [1, 120], 'maximum', '/1');
    const u = one({ uniqueItems: true });
    u.validate('k', [{ a: 1, b: 2 }, { a: 1 }, [1], '1', 1, true, null]);
    violation(
      u,
      'k',
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      'uniqueItems',
      '/1',
    );
    violation(u, 'k', [1, 1.0], 'uniqueItems', '/1');
    one({ uniqueItems: false }).validate('k', [1, 1]);
  });
  it('objects: properties, required, additionalProperties, min/maxProperties', () => {
    const s = one({
      type: 'object',
      properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 1 } },
      required: ['host'],
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 2,
    });
    s.validate('k', { host: 'h', port: 80 });
    const r = violation(s, 'k', { port: 80 }, 'required');
    assert.match(r.hint, /"host"/);
    violation(s, 'k', { host: 'h', port: 0 }, 'minimum', '/port');
    violation(s, 'k', { host: 'h', extra: 1 }, 'additionalProperties', '/extra');
    const m = one({ minProperties: 1, maxProperties: 1 });
    violation(m, 'k', {}, 'minProperties');
    violation(m, 'k', { a: 1, b: 2 }, 'maxProperties');
    const a = one({ additionalProperties: { type: 'number' } });
    a.validate('k', { x: 1 });
    violation(a, 'k', { 'x/y~': 'no' }, 'type', '/x~1y~0');
  });
  it('reports the first failure in keyword order', () => {
    const s = one({ type: 'integer', enum: [1, 2], maximum: 1 });
    assert.equal(violation(s, 'k', 'x', 'type').details.keyword, 'type');
    violation(s, 'k', 3, 'enum');
    violation(s, 'k', 2, 'maximum');
  });
  it('never echoes a secret value', () => {
    const s = one({ type: 'string', maxLength: 3, secret: true });
    const e = violation(s, 'k', 'hunter2', 'maxLength');
    assert.ok(!e.message.includes('hunter2'), e.message);
  });
});

describe('CompiledSchema keys and patterns', () => {
  const s = compileSchema({
    keys: {
      'sensors.*.max': { type: 'number', maximum: 100, default: 50 },
      'sensors.a.*': { type: 'number', maximum: 10 },
      'sensors.a.max': { type: 'number', maximum: 1 },
      '*.x.*': { const: 'x' },
      '*.*.y': { const: 'y' },
      'display.units': { enum: ['metric', 'imperial'], default: 'metric' },
      free: {},
    },
  });
  it('exact beats patterns; fewer stars; later first star; later star positions', () => {
    assert.equal(s.entryFor('sensors.a.max'), 'sensors.a.max');
    assert.equal(s.entryFor('sensors.a.min'), 'sensors.a.*');
    assert.equal(s.entryFor('sensors.b.max'), 'sensors.*.max');
    assert.equal(s.entryFor('q.x.y'), '*.x.*');
    assert.equal(s.entryFor('q.z.y'), '*.*.y');
    assert.equal(s.entryFor('sensors.b.min'), undefined);
    assert.equal(s.entryFor('sensors.b.max.x'), undefined);
    assert.deepEqual(s.patterns(), ['sensors.a.*', 'sensors.*.max', '*.x.*', '*.*.y']);
    violation(s, 'sensors.a.max', 2, 'maximum');
    violation(s, 'sensors.a.min', 20, 'maximum');
    violation(s, 'sensors.b.max', 120, 'maximum');
    s.validate('sensors.b.max', 99);
    s.validate('sensors.b.max', 99); // cached lookup
  });
  it('keys(), isKnown(), schemaFor(), defaultFor()', () => {
    assert.deepEqual(s.keys(), ['sensors.a.max', 'display.units', 'free']);
    assert.equal(s.isKnown('sensors.q.max'), true);
    assert.equal(s.isKnown('nope'), false);
    assert.deepEqual(s.schemaFor('display.units'), { enum: ['metric', 'imperial'], default: 'metric' });
    assert.equal(s.schemaFor('nope'), undefined);
    assert.equal(s.defaultFor('display.units'), 'metric');
    assert.equal(s.defaultFor('sensors.z.max'), 50);
    assert.equal(s.defaultFor('free'), undefined);
    assert.equal(s.defaultFor('nope'), undefined);
    s.validate('nope', { anything: true }); // additionalKeys defaults to true
  });
  it('additionalKeys: false refuses undeclared keys', () => {
    const c = compileSchema({ additionalKeys: false, keys: { 'display.units': {}, 'display.theme': {}, 'a.*': {} } });
    c.validate('display.units', 1);
    c.validate('a.b', 1);
    const e = violation(c, 'display.unit', 1, 'additionalKeys');
    assert.match(e.hint, /display\.units/);
    assert.equal(c.check('zzz', 1)?.keyword, 'additionalKeys');
    assert.equal(c.check('a.b', 1), undefined);
  });
  it('the constructor re-validates a hand-built document', () => {
    assert.throws(
      () => new CompiledSchema({ keys: { a: { minimum: 'x' } } }),
      (e: unknown) => e instanceof PsmcError && e.code === 'PSMC_SCHEMA_INVALID',
    );
  });
  it('property: a wildcard pattern matches exactly the keys of its shape', () => {
    const seg = fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/);
    fc.assert(
      fc.property(
        fc.array(seg, { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (segs, starMask) => {
          const pattern = segs.map((x, i) => (starMask[i] === true ? '*' : x)).join('.');
          const c = compileSchema({ keys: { [pattern]: { const: 1 } } });
          const key = segs.join('.');
          assert.equal(c.isKnown(key), true);
          assert.equal(c.isKnown(key + '.extra'), false);
          if (pattern.includes('*')) assert.deepEqual(c.keys(), []);
        },
      ),
    );
  });
});

describe('isMultipleOf', () => {
  it('uses exact decimals', () => {
    assert.equal(isMultipleOf(0.3, 0.1), true);
    assert.equal(isMultipleOf(0.7, 0.1), true);
    assert.equal(isMultipleOf(1e-7, 1e-8), true);
    assert.equal(isMultipleOf(1.5e21, 0.5), true);
    assert.equal(isMultipleOf(0.35, 0.1), false);
    assert.equal(isMultipleOf(10, 3), false);
    assert.equal(isMultipleOf(-9, 3), true);
  });
  it('property: k × d (integers) is a multiple of d, and k × d + 1 is not when d > 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 2, max: 1e6 }), (k, d) => {
        assert.equal(isMultipleOf(k * d, d), true);
        assert.equal(isMultipleOf(k * d + 1, d), false);
      }),
    );
  });
  it('property: n tenths is a multiple of 0.1', () => {
    fc.assert(fc.property(fc.integer({ min: -1e6, max: 1e6 }), (n) => isMultipleOf(Number((n / 10).toFixed(1)), 0.1)));
  });
});
