/**
 * Compiles one key schema into a check function (spec/SPEC.md §schema.enforce). Each keyword
 * becomes one closure, run in SUPPORTED_KEYWORDS order; the first violation wins.
 */
import { typeOf as typeOfValue, valuesEqual } from '../value.js';
import type { JsonValue } from '../value.js';
import { quote } from './messages.js';
import { codePointLength, isMultipleOf } from './numbers.js';
import type { KeySchema, SchemaType } from './types.js';
import type { ValueCheck, Violation } from './violation.js';

const A_TYPE: Record<SchemaType, string> = {
  null: 'null',
  boolean: 'a boolean',
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  array: 'an array',
  object: 'an object',
};

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}

function render(v: JsonValue, redact: boolean): string {
  if (redact) return '(a secret value)';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

function fail(keyword: string, problem: string, expected: string): Violation {
  return { rpath: [], keyword, problem, expected };
}

function matchesType(t: SchemaType, v: JsonValue): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

function primitiveKey(v: JsonValue): string | undefined {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      return 'd' + String(v);
    case 'string':
      return 's' + v;
    default:
      return undefined;
  }
}

/** Compiles one schema node into a check. `redact` hides values in messages (secret keys). */
export function compileNode(s: KeySchema, redact: boolean): ValueCheck {
  const checks: ValueCheck[] = [];
  const r = (v: JsonValue): string => render(v, redact);

  if (s.type !== undefined) {
    const types: readonly SchemaType[] = typeof s.type === 'string' ? [s.type] : s.type;
    const expected = orList(types.map((t) => A_TYPE[t]));
    checks.push((v) => {
      for (const t of types) if (matchesType(t, v)) return undefined;
      return fail('type', `is ${r(v)} (${A_TYPE[typeOfValue(v)]}), not ${expected}`, expected);
    });
  }
  if (Object.hasOwn(s, 'const')) {
    const c = s.const as JsonValue;
    checks.push((v) =>
      valuesEqual(v, c)
        ? undefined
        : fail('const', `is ${r(v)}, not the required value ${render(c, false)}`, `exactly ${render(c, false)}`),
    );
  }
  if (s.enum !== undefined) {
    const prim = new Set<string>();
    const complex: JsonValue[] = [];
    for (const e of s.enum) {
      const k = primitiveKey(e);
      if (k === undefined) complex.push(e);
      else prim.add(k);
    }
    const shown = s.enum.slice(0, 20).map((e) => render(e, false));
    const expected = `one of ${shown.join(', ')}${s.enum.length > 20 ? ` (and ${s.enum.length - 20} more)` : ''}`;
    checks.push((v) => {
      const k = primitiveKey(v);
      if (k !== undefined ? prim.has(k) : complex.some((e) => valuesEqual(v, e))) return undefined;
      return fail('enum', `is ${r(v)}, not one of the allowed values`, expected);
    });
  }
  const num = (
    kw: string,
    bound: number | undefined,
    ok: (v: number, b: number) => boolean,
    problem: string,
    expected: string,
  ): void => {
    if (bound === undefined) return;
    checks.push((v) =>
      typeof v !== 'number' || ok(v, bound)
        ? undefined
        : fail(kw, `is ${r(v)}, ${problem} ${bound}`, `${expected} ${bound}`),
    );
  };
  num('minimum', s.minimum, (v, b) => v >= b, 'below the minimum', 'a number of at least');
  num('maximum', s.maximum, (v, b) => v <= b, 'above the maximum', 'a number of at most');
  num(
    'exclusiveMinimum',
    s.exclusiveMinimum,
    (v, b) => v > b,
    'not above the exclusive minimum',
    'a number greater than',
  );
  num('exclusiveMaximum', s.exclusiveMaximum, (v, b) => v < b, 'not below the exclusive maximum', 'a number less than');
  num('multipleOf', s.multipleOf, isMultipleOf, 'not a multiple of', 'a multiple of');

  if (s.minLength !== undefined) {
    const min = s.minLength;
    checks.push((v) => {
      if (typeof v !== 'string' || v.length >= 2 * min) return undefined;
      const n = codePointLength(v);
      return n >= min
        ? undefined
        : fail(
            'minLength',
            `is ${r(v)}, ${n} characters long, shorter than the minimum length ${min}`,
            `a string of at least ${min} characters`,
          );
    });
  }
  if (s.maxLength !== undefined) {
    const max = s.maxLength;
    checks.push((v) => {
      if (typeof v !== 'string' || v.length <= max) return undefined;
      const n = codePointLength(v);
      return n <= max
        ? undefined
        : fail(
            'maxLength',
            `is ${r(v)}, ${n} characters long, longer than the maximum length ${max}`,
            `a string of at most ${max} characters`,
          );
    });
  }
  if (s.pattern !== undefined) {
    const src = s.pattern;
    const re = new RegExp(src, 'u');
    checks.push((v) =>
      typeof v !== 'string' || re.test(v)
        ? undefined
        : fail(
            'pattern',
            `is ${r(v)}, which does not match the pattern ${src}`,
            `a string matching the pattern ${src}`,
          ),
    );
  }

  if (s.minItems !== undefined) {
    const min = s.minItems;
    checks.push((v) =>
      !Array.isArray(v) || v.length >= min
        ? undefined
        : fail(
            'minItems',
            `is an array of ${v.length} items, fewer than the minimum ${min}`,
            `an array of at least ${min} items`,
          ),
    );
  }
  if (s.maxItems !== undefined) {
    const max = s.maxItems;
    checks.push((v) =>
      !Array.isArray(v) || v.length <= max
        ? undefined
        : fail(
            'maxItems',
            `is an array of ${v.length} items, more than the maximum ${max}`,
            `an array of at most ${max} items`,
          ),
    );
  }
  if (s.uniqueItems === true) {
    checks.push((v) => {
      if (!Array.isArray(v) || v.length < 2) return undefined;
      const seen = new Map<string, number>();
      const complex: number[] = [];
      for (let i = 0; i < v.length; i++) {
        const item = v[i] as JsonValue;
        const k = primitiveKey(item);
        let dup: number | undefined;
        if (k !== undefined) {
          dup = seen.get(k);
          if (dup === undefined) seen.set(k, i);
        } else {
          dup = complex.find((j) => valuesEqual(v[j] as JsonValue, item));
          if (dup === undefined) complex.push(i);
        }
        if (dup !== undefined) {
          const f = fail('uniqueItems', `repeats item ${dup} (${r(item)})`, 'an array without duplicate items');
          f.rpath.push(String(i));
          return f;
        }
      }
      return undefined;
    });
  }
  if (s.items !== undefined) {
    const itemCheck = compileNode(s.items, redact);
    checks.push((v) => {
      if (!Array.isArray(v)) return undefined;
      for (let i = 0; i < v.length; i++) {
        const f = itemCheck(v[i] as JsonValue);
        if (f !== undefined) {
          f.rpath.push(String(i));
          return f;
        }
      }
      return undefined;
    });
  }

  const isObj = (v: JsonValue): v is { [m: string]: JsonValue } =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (s.required !== undefined && s.required.length > 0) {
    const req = s.required;
    checks.push((v) => {
      if (!isObj(v)) return undefined;
      for (const m of req) {
        if (!Object.hasOwn(v, m))
          return fail(
            'required',
            `has no member ${quote(m)}, which is required`,
            `an object with the member ${quote(m)}`,
          );
      }
      return undefined;
    });
  }
  if (s.minProperties !== undefined) {
    const min = s.minProperties;
    checks.push((v) => {
      if (!isObj(v)) return undefined;
      const n = Object.keys(v).length;
      return n >= min
        ? undefined
        : fail(
            'minProperties',
            `has ${n} members, fewer than the minimum ${min}`,
            `an object with at least ${min} members`,
          );
    });
  }
  if (s.maxProperties !== undefined) {
    const max = s.maxProperties;
    checks.push((v) => {
      if (!isObj(v)) return undefined;
      const n = Object.keys(v).length;
      return n <= max
        ? undefined
        : fail(
            'maxProperties',
            `has ${n} members, more than the maximum ${max}`,
            `an object with at most ${max} members`,
          );
    });
  }
  if (s.properties !== undefined || s.additionalProperties !== undefined) {
    const props = new Map<string, ValueCheck>();
    if (s.properties !== undefined) {
      for (const name of Object.keys(s.properties))
        props.set(name, compileNode(s.properties[name] as KeySchema, redact));
    }
    const ap = s.additionalProperties;
    const extra: ValueCheck | false | undefined =
      ap === undefined || ap === true ? undefined : ap === false ? false : compileNode(ap, redact);
    const allowed = [...props.keys()].map(quote);
    const onlyPhrase =
      allowed.length === 0 ? 'an object with no members' : `an object with only the members ${orList(allowed)}`;
    checks.push((v) => {
      if (!isObj(v)) return undefined;
      for (const m of Object.keys(v)) {
        const check = props.get(m);
        let f: Violation | undefined;
        if (check !== undefined) f = check(v[m] as JsonValue);
        else if (extra === false) f = fail('additionalProperties', `is not an allowed member`, onlyPhrase);
        else if (extra !== undefined) f = extra(v[m] as JsonValue);
        if (f !== undefined) {
          f.rpath.push(m);
          return f;
        }
      }
      return undefined;
    });
  }

  if (checks.length === 0) return () => undefined;
  if (checks.length === 1) return checks[0] as ValueCheck;
  return (v) => {
    for (const c of checks) {
      const f = c(v);
      if (f !== undefined) return f;
    }
    return undefined;
  };
}

const keySchemaChecks = new WeakMap<KeySchema, ValueCheck>();

/** The compiled check for a (parsed) key schema, cached per schema object. */
export function checkForKeySchema(schema: KeySchema): ValueCheck {
  let c = keySchemaChecks.get(schema);
  if (c === undefined) {
    c = compileNode(schema, schema.secret === true);
    keySchemaChecks.set(schema, c);
  }
  return c;
}
