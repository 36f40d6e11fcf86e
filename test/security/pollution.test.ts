/**
 * Prototype pollution: keys, values, import documents, schema documents,
 * overrides, defaults and environment values that carry `__proto__`,
 * `constructor` or `prototype` at any depth must never change a prototype,
 * and are refused where the rules (spec/SPEC.md §key.reserved,
 * §value.limits 3, §schema) say.
 */
import { afterEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, PsmcError, type OpenOptions, type PsmcErrorCode, type Store } from '../../src/index.js';
import { decodeValue, parseLooseValue } from '../../src/core/value.js';

const names = (o: object): string[] => Reflect.ownKeys(o).map(String).sort();
const BASELINE = {
  object: names(Object.prototype),
  array: names(Array.prototype),
  function: names(Function.prototype),
  string: names(String.prototype),
};
const NATIVE_TO_STRING = Object.prototype.toString;
const NATIVE_HAS_OWN = Object.prototype.hasOwnProperty;

function assertClean(): void {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe['polluted'], undefined, 'Object.prototype.polluted is set');
  assert.equal(([] as unknown as Record<string, unknown>)['polluted'], undefined);
  assert.equal((Object as unknown as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(names(Object.prototype), BASELINE.object);
  assert.deepEqual(names(Array.prototype), BASELINE.array);
  assert.deepEqual(names(Function.prototype), BASELINE.function);
  assert.deepEqual(names(String.prototype), BASELINE.string);
  assert.equal(Object.prototype.toString, NATIVE_TO_STRING);
  assert.equal(Object.prototype.hasOwnProperty, NATIVE_HAS_OWN);
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
}

afterEach(assertClean);

function tmp(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(t: TestContext, options: OpenOptions): Store {
  const s = openStore({ env: {}, ...options });
  t.after(() => s.close());
  return s;
}

function refused(fn: () => unknown, codes: PsmcErrorCode | PsmcErrorCode[]): PsmcError {
  const allowed = Array.isArray(codes) ? codes : [codes];
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof PsmcError,
    `expected PsmcError ${allowed.join('/')}, got ${caught === undefined ? 'no error' : String(caught)}`,
  );
  assert.ok(allowed.includes(caught.code), `${caught.code}: ${caught.message}`);
  assert.ok(caught.hint.length > 0);
  assertClean();
  return caught;
}

function fingerprint(s: Store): string {
  return JSON.stringify({ e: s.exportData(), h: s.history().length });
}

const RESERVED = [
  '__proto__',
  'constructor',
  'prototype',
  '__PROTO__',
  'Constructor',
  'PROTOTYPE',
  'toString',
  'hasOwnProperty',
  'valueOf',
];
const PAYLOAD = '{"polluted":1}';

/** JSON text with a member `name` holding a pollution payload at `depth` levels of nesting (mixing arrays and objects). */
function nestedMember(name: string, depth: number): string {
  let text = `{${JSON.stringify(name)}:${PAYLOAD}}`;
  for (let i = 0; i < depth; i++) text = i % 2 === 0 ? `{"m${i}":${text}}` : `[0,${text}]`;
  return text;
}

/** Keys with a reserved segment at every position. */
function reservedKeys(): string[] {
  const out: string[] = [];
  for (const r of RESERVED) {
    out.push(r, `a.${r}`, `${r}.a`, `a.b.${r}.c`, `a.b.c.d.${r}`);
  }
  return out;
}

describe('keys with reserved segments', () => {
  it('are refused by every key-taking method with PSMC_KEY_RESERVED, and change nothing', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    const before = fingerprint(s);
    for (const key of reservedKeys()) {
      const code: PsmcErrorCode = 'PSMC_KEY_RESERVED';
      refused(() => s.set(key, 1), code);
      refused(() => s.set(key, JSON.parse(PAYLOAD)), code);
      refused(() => s.get(key), code);
      refused(() => s.resolve(key), code);
      refused(() => s.explain(key), code);
      refused(() => s.delete(key), code);
      refused(() => s.history(key), code);
      refused(() => s.list(key), code);
      refused(() => s.all(`${key}.`), code);
      refused(
        () =>
          s.batch([
            { op: 'set', key: 'ok', value: 1 },
            { op: 'set', key, value: 1 },
          ]),
        code,
      );
      refused(() => s.batch([{ op: 'delete', key }]), code);
    }
    assert.equal(fingerprint(s), before);
  });

  it('are refused in overrides and defaults (also when the member comes from JSON.parse)', (t) => {
    const dir = tmp(t);
    for (const key of reservedKeys()) {
      const obj = JSON.parse(`{${JSON.stringify(key)}:${PAYLOAD}}`) as Record<string, unknown>;
      refused(() => openStore({ dir, env: {}, overrides: obj }), 'PSMC_KEY_RESERVED');
      refused(() => openStore({ dir, env: {}, defaults: obj }), 'PSMC_KEY_RESERVED');
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('environment variables that would map to reserved keys are never read as values', (t) => {
    const s = open(t, {
      dir: tmp(t),
      env: {
        PSMC_CONSTRUCTOR: PAYLOAD,
        PSMC___PROTO__: PAYLOAD,
        PSMC_PROTOTYPE: PAYLOAD,
        PSMC_A__CONSTRUCTOR: PAYLOAD,
        PSMC_A: PAYLOAD,
      },
    });
    assert.deepEqual(s.get('a'), { polluted: 1 });
    refused(() => s.get('constructor'), 'PSMC_KEY_RESERVED');
    refused(() => s.get('a.constructor'), 'PSMC_KEY_RESERVED');
    assert.deepEqual(s.all(), {});
  });
});

describe('values with __proto__, constructor, prototype members', () => {
  it('a __proto__ member is refused at every depth through set, batch, get defaults, overrides and defaults', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir });
    s.set('seed', 1);
    const before = fingerprint(s);
    for (let depth = 0; depth <= 12; depth++) {
      const text = nestedMember('__proto__', depth);
      refused(() => s.set('k', JSON.parse(text)), 'PSMC_VALUE_INVALID');
      refused(() => s.batch([{ op: 'set', key: 'k', value: JSON.parse(text) }]), 'PSMC_VALUE_INVALID');
      refused(() => s.get('absent', { default: JSON.parse(text) }), 'PSMC_VALUE_INVALID');
      refused(() => s.explain('absent', { default: JSON.parse(text) }), 'PSMC_VALUE_INVALID');
      refused(() => openStore({ dir, env: {}, overrides: { k: JSON.parse(text) } }), 'PSMC_VALUE_INVALID');
      refused(() => openStore({ dir, env: {}, defaults: { k: JSON.parse(text) } }), 'PSMC_VALUE_INVALID');
      refused(() => decodeValue(text), 'PSMC_VALUE_INVALID');
      refused(() => parseLooseValue(text), 'PSMC_VALUE_INVALID');
    }
    assert.equal(fingerprint(s), before);
  });

  it('a value built with a computed ["__proto__"] key or Object.defineProperty is refused too', (t) => {
    const s = open(t, { dir: tmp(t) });
    refused(() => s.set('k', { ['__proto__']: { polluted: 1 } }), 'PSMC_VALUE_INVALID');
    const o = {};
    Object.defineProperty(o, '__proto__', { value: { polluted: 1 }, enumerable: true });
    refused(() => s.set('k', { deep: [o] }), 'PSMC_VALUE_INVALID');
    // An object whose prototype was swapped is not a plain object.
    refused(() => s.set('k', Object.setPrototypeOf({ a: 1 }, { polluted: 1 })), 'PSMC_VALUE_INVALID');
  });

  it('constructor and prototype members are plain data at every depth, stored and returned as own members', (t) => {
    const dir = tmp(t);
    const s = open(t, { dir });
    for (let depth = 0; depth <= 12; depth++) {
      for (const name of ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']) {
        const value = JSON.parse(nestedMember(name, depth)) as unknown;
        s.set('k', value);
        const fresh = open(t, { dir, freshnessMs: 0, readOnly: true });
        assert.deepEqual(JSON.stringify(fresh.get('k')), JSON.stringify(value));
        assertClean();
      }
    }
    const v = s.get('k') as Record<string, unknown>;
    assert.ok(Object.hasOwn(v, 'm0') || Array.isArray(v));
    // Members named like Object.prototype methods are own data, and the returned object still works.
    s.set('obj', JSON.parse('{"constructor":{"prototype":{"polluted":1}},"toString":"x","hasOwnProperty":1}'));
    const o = s.get('obj') as Record<string, unknown>;
    assert.equal(o['toString'], 'x');
    assert.equal(Object.hasOwn(o, 'constructor'), true);
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(
      s.history('obj')[0]?.newValue,
      JSON.parse('{"constructor":{"prototype":{"polluted":1}},"toString":"x","hasOwnProperty":1}'),
    );
  });

  it('an environment value carrying __proto__ is an env error, not a pollution', (t) => {
    const s = open(t, {
      dir: tmp(t),
      env: { PSMC_A: '{"__proto__":{"polluted":1}}', PSMC_B: '[{"__proto__":{"polluted":1}}]' },
    });
    refused(() => s.get('a'), 'PSMC_ENV_COERCE');
    refused(() => s.get('b'), 'PSMC_ENV_COERCE');
    assert.equal(s.explain('a').layers[1]?.error?.code, 'PSMC_ENV_COERCE');
    assertClean();
  });
});

describe('import documents', () => {
  it('flat documents with reserved member names are refused with PSMC_KEY_RESERVED and change nothing', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', 1);
    const before = fingerprint(s);
    for (const key of reservedKeys()) {
      const doc = JSON.parse(`{"ok":1,${JSON.stringify(key)}:${PAYLOAD}}`) as unknown;
      refused(() => s.importData(doc), 'PSMC_KEY_RESERVED');
      refused(() => s.importData(doc, { replace: true }), 'PSMC_KEY_RESERVED');
    }
    assert.equal(fingerprint(s), before);
  });

  it('export documents with reserved entry names are refused with PSMC_KEY_RESERVED', (t) => {
    const s = open(t, { dir: tmp(t) });
    for (const key of reservedKeys()) {
      const doc = JSON.parse(
        `{"format":"psmc-export","version":1,"entries":{${JSON.stringify(key)}:{"value":${PAYLOAD}}}}`,
      ) as unknown;
      refused(() => s.importData(doc), 'PSMC_KEY_RESERVED');
    }
    assert.equal(s.revision(), 0);
  });

  it('entry values with __proto__ at any depth are refused with PSMC_VALUE_INVALID', (t) => {
    const s = open(t, { dir: tmp(t) });
    for (let depth = 0; depth <= 10; depth++) {
      const v = nestedMember('__proto__', depth);
      refused(
        () => s.importData(JSON.parse(`{"format":"psmc-export","version":1,"entries":{"k":{"value":${v}}}}`)),
        'PSMC_VALUE_INVALID',
      );
      refused(() => s.importData(JSON.parse(`{"k":${v}}`)), 'PSMC_VALUE_INVALID');
    }
    assert.equal(s.revision(), 0);
  });

  it('an entry whose "value" exists only behind a __proto__ member is not read through it', (t) => {
    const s = open(t, { dir: tmp(t) });
    const doc = JSON.parse(
      '{"format":"psmc-export","version":1,"entries":{"k":{"__proto__":{"value":"sneaky"}}}}',
    ) as unknown;
    const e = refused(() => s.importData(doc), ['PSMC_PARSE', 'PSMC_VALUE_INVALID']);
    assert.ok(e.message.includes('"k"'), e.message);
    assert.equal(s.get('k'), undefined);
  });

  it('__proto__, constructor and prototype at the top of an export document never pollute', (t) => {
    const s = open(t, { dir: tmp(t) });
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const doc = JSON.parse(
        `{"format":"psmc-export","version":1,${JSON.stringify(name)}:${PAYLOAD},"entries":{"k":{"value":1,${JSON.stringify(name)}:${PAYLOAD}}}}`,
      ) as unknown;
      try {
        s.importData(doc);
      } catch (e) {
        assert.ok(e instanceof PsmcError, String(e));
      }
      assertClean();
    }
    // "entries" reached only through a __proto__ member is not an entries object.
    refused(
      () => s.importData(JSON.parse('{"format":"psmc-export","version":1,"__proto__":{"entries":{"x":{"value":1}}}}')),
      'PSMC_PARSE',
    );
    assert.equal(s.get('x'), undefined);
  });
});

describe('schema documents', () => {
  it('__proto__ anywhere in a schema document is refused and changes nothing', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('a', { x: 1 });
    const before = fingerprint(s);
    const docs = [
      '{"keys":{"__proto__":{"type":"string"}}}',
      '{"keys":{"a":{"type":"object","properties":{"__proto__":{"type":"string"}}}}}',
      '{"keys":{"a":{"type":"object","properties":{"x":{"__proto__":{"type":"string"}}}}}}',
      '{"keys":{"a":{"__proto__":{"polluted":1}}}}',
      '{"__proto__":{"polluted":1},"keys":{}}',
      '{"keys":{"a":{"default":{"__proto__":{"polluted":1}}}}}',
      '{"keys":{"a":{"enum":[{"__proto__":{"polluted":1}}]}}}',
      '{"keys":{"a":{"const":{"b":{"__proto__":{"polluted":1}}}}}}',
      '{"keys":{"a":{"type":"object","required":["__proto__"]}}}',
      '{"keys":{"a":{"type":"array","items":{"type":"object","properties":{"__proto__":{}}}}}}',
    ];
    for (const d of docs) {
      refused(() => s.setSchema(JSON.parse(d)), ['PSMC_SCHEMA_INVALID', 'PSMC_KEY_RESERVED', 'PSMC_VALUE_INVALID']);
    }
    assert.equal(fingerprint(s), before);
  });

  it('reserved key names and patterns in "keys" are refused', (t) => {
    const s = open(t, { dir: tmp(t) });
    for (const key of ['constructor', 'prototype', 'a.constructor', '*.prototype', 'toString.*', 'a.__proto__']) {
      refused(() => s.setSchema({ keys: { [key]: { type: 'string' } } }), ['PSMC_SCHEMA_INVALID', 'PSMC_KEY_RESERVED']);
    }
    assert.equal(s.revision(), 0);
  });

  it('properties named constructor/toString are looked up as own members only', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.setSchema(
      JSON.parse(`{"keys":{
        "strict":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false},
        "typed":{"type":"object","additionalProperties":{"type":"integer"}},
        "req":{"type":"object","required":["constructor","toString"],"properties":{"constructor":{"type":"string"}}}}}`),
    );
    // Members named like Object.prototype methods are NOT declared properties.
    for (const m of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      refused(() => s.set('strict', { [m]: 1 }), 'PSMC_SCHEMA_VIOLATION');
      refused(() => s.set('typed', { [m]: 'not an integer' }), 'PSMC_SCHEMA_VIOLATION');
      s.set('typed', { [m]: 1 });
    }
    // Required members must be own members: {} has an inherited constructor, but not an own one.
    refused(() => s.set('req', {}), 'PSMC_SCHEMA_VIOLATION');
    refused(() => s.set('req', { toString: 'x' }), 'PSMC_SCHEMA_VIOLATION');
    refused(() => s.set('req', { constructor: 5, toString: 'x' }), 'PSMC_SCHEMA_VIOLATION');
    s.set('req', { constructor: 'x', toString: 'y' });
    assert.deepEqual(s.get('req'), { constructor: 'x', toString: 'y' });
  });

  it('an enum or const cannot be matched through inherited members', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.setSchema({ keys: { e: { enum: [{}] }, c: { const: {} } } });
    s.set('e', {});
    refused(() => s.set('e', JSON.parse('{"constructor":1}')), 'PSMC_SCHEMA_VIOLATION');
    refused(() => s.set('c', { toString: 1 }), 'PSMC_SCHEMA_VIOLATION');
  });

  it('env coercion of a schema-typed key never pollutes', (t) => {
    const dir = tmp(t);
    open(t, { dir }).setSchema({ keys: { o: { type: 'object' }, arr: { type: 'array' } } });
    const s = open(t, {
      dir,
      env: { PSMC_O: '{"__proto__":{"polluted":1}}', PSMC_ARR: '[{"constructor":{"prototype":{"polluted":1}}}]' },
    });
    refused(() => s.get('o'), 'PSMC_ENV_COERCE');
    assert.deepEqual(s.get('arr'), [{ constructor: { prototype: { polluted: 1 } } }]);
    assertClean();
  });
});

describe('results built from keys', () => {
  it('all(), exportData() and history() are built without assigning through prototypes', (t) => {
    const s = open(t, { dir: tmp(t) });
    s.set('proto', 1);
    s.set('a.b', 2);
    const all = s.all();
    assert.equal(Object.getPrototypeOf(all), Object.prototype);
    assert.deepEqual(Object.keys(all), ['a.b', 'proto']);
    const exp = s.exportData();
    assert.deepEqual(Object.keys(exp.entries), ['a.b', 'proto']);
    assertClean();
  });
});
