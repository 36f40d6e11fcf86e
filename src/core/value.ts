/**
 * Value rules (spec/SPEC.md §value). Pure: no I/O.
 *
 * A value is any JSON value with these limits, the same in every language:
 * - numbers are finite IEEE-754 doubles; an integer must lie within ±(2^53−1)
 *   so that JavaScript, Python and Rust read the same number (store larger
 *   integers as strings); -0 is stored as 0;
 * - strings and member names are well-formed Unicode (no lone surrogates);
 * - no object member is named `__proto__`;
 * - nesting is at most MAX_DEPTH arrays/objects deep;
 * - the encoded form is at most MAX_VALUE_BYTES bytes of UTF-8.
 *
 * The encoded form is compact JSON as ECMAScript's JSON.stringify writes it,
 * members in the order the writer gave them.
 */
import { PsmcError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [member: string]: JsonValue };

/** Type names recorded per key. `integer` is a number with no fractional part. */
export type ValueType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

export const MAX_VALUE_BYTES = 1_048_576;
export const MAX_DEPTH = 64;

function valueError(message: string, path: string, hint: string, key?: string): PsmcError {
  return new PsmcError('PSMC_VALUE_INVALID', message, {
    hint,
    details: key === undefined ? { path } : { key, path },
  });
}

function where(path: string, key: string | undefined): string {
  const at = path === '' ? 'the value' : `the value at ${path}`;
  return key === undefined ? at : `${at} of key ${JSON.stringify(key)}`;
}

function checkString(s: string, path: string, key: string | undefined, what: string): void {
  if (!s.isWellFormed()) {
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
        break;
      }
      if (c >= 0xdc00 && c <= 0xdfff) break;
    }
    throw valueError(
      `${what} in ${where(path, key)} holds a lone UTF-16 surrogate (U+${s.charCodeAt(i).toString(16).toUpperCase()}) at index ${i}, which is not valid Unicode.`,
      path,
      'Remove the broken character, or encode binary data as base64 in a string.',
      key,
    );
  }
}

/**
 * Checks `value` against the value rules and returns it (with -0 turned into 0).
 * Throws PSMC_VALUE_INVALID naming the path of the first offending part.
 */
export function assertValue(value: unknown, key?: string): JsonValue {
  return check(value, '', 0, key) as JsonValue;
}

function check(v: unknown, path: string, depth: number, key: string | undefined): unknown {
  switch (typeof v) {
    case 'string':
      checkString(v, path, key, 'A string');
      return v;
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) {
        throw valueError(
          `${where(path, key)} is ${String(v)}, which JSON cannot hold.`,
          path,
          'Use a finite number, null, or a string such as "Infinity".',
          key,
        );
      }
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
        throw valueError(
          `${where(path, key)} is the integer ${String(v)}, outside ±9007199254740991, which not every language reads exactly.`,
          path,
          'Store integers this large as strings (e.g. "9007199254740993").',
          key,
        );
      }
      return Object.is(v, -0) ? 0 : v;
    case 'object': {
      if (v === null) return null;
      if (depth >= MAX_DEPTH) {
        throw valueError(
          `${where(path, key)} nests deeper than ${MAX_DEPTH} levels.`,
          path,
          `Flatten the value; at most ${MAX_DEPTH} nested arrays/objects are allowed.`,
          key,
        );
      }
      if (Array.isArray(v)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          const c = check(item, `${path}/${i}`, depth + 1, key);
          if (!Object.is(c, item)) (out ??= v.slice())[i] = c;
        }
        return out ?? v;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        throw valueError(
          `${where(path, key)} is a ${name}, not a plain JSON object.`,
          path,
          'Pass plain objects, arrays, strings, numbers, booleans or null (convert dates with toISOString()).',
          key,
        );
      }
      let out: Record<string, unknown> | undefined;
      for (const m of Object.keys(v)) {
        const memberPath = `${path}/${m.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        checkString(m, memberPath, key, 'A member name');
        if (m === '__proto__') {
          throw valueError(
            `${where(path, key)} has a member named "__proto__", which psmc refuses in every language.`,
            memberPath,
            'Rename the member.',
            key,
          );
        }
        const item = (v as Record<string, unknown>)[m];
        const c = check(item, memberPath, depth + 1, key);
        if (!Object.is(c, item)) {
          out ??= copyObject(v as Record<string, unknown>);
          out[m] = c;
        }
      }
      return out ?? v;
    }
    default:
      throw valueError(
        `${where(path, key)} is ${typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`}, which JSON cannot hold.`,
        path,
        'To remove a key use delete/unset; otherwise pass a JSON value.',
        key,
      );
  }
}

/** A copy of a plain object that keeps member order and cannot touch prototypes. */
function copyObject(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o))
    Object.defineProperty(out, k, { value: o[k], enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Validates and encodes a value into its stored text. Throws PSMC_VALUE_INVALID
 * or PSMC_VALUE_TOO_LARGE.
 */
export function encodeValue(value: unknown, key?: string): string {
  return encodeChecked(value, key).text;
}

/** Like encodeValue, also returning the checked value (with -0 turned into 0). */
export function encodeChecked(value: unknown, key?: string): { value: JsonValue; text: string } {
  const v = assertValue(value, key);
  const text = JSON.stringify(v);
  // A JS string's UTF-16 length is ≤ its UTF-8 byte length ×1 … ×3; only measure when close.
  if (text.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(text, 'utf8') > MAX_VALUE_BYTES) {
    throw new PsmcError(
      'PSMC_VALUE_TOO_LARGE',
      `The value${key === undefined ? '' : ` of key ${JSON.stringify(key)}`} is ${Buffer.byteLength(text, 'utf8')} bytes encoded; the limit is ${MAX_VALUE_BYTES}.`,
      {
        hint: 'Split it across several keys, or keep large data in a file and store its path.',
        details: key === undefined ? {} : { key },
      },
    );
  }
  return { value: v, text };
}

/**
 * Parses stored or user-supplied JSON text. JSON.parse defines members as own
 * data properties, so `__proto__` in text never reaches a prototype; the
 * result is then checked against the value rules.
 */
export function decodeValue(text: string, key?: string): JsonValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new PsmcError(
      'PSMC_PARSE',
      `Not valid JSON${key === undefined ? '' : ` for key ${JSON.stringify(key)}`}: ${(cause as Error).message}`,
      {
        hint: 'Check quotes, commas and brackets; strings need double quotes.',
        details: key === undefined ? {} : { key },
        cause,
      },
    );
  }
  return assertValue(parsed, key);
}

/** Decodes text the store itself wrote (already validated): no re-check, for the hot path. */
export function decodeStored(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/** The type name recorded for a value. */
export function typeOf(value: JsonValue): ValueType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/** Deep equality of JSON values; object member order does not matter. */
export function valuesEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !valuesEqual(a[k], b[k])) return false;
  }
  return true;
}

/**
 * Parses a command-line or environment string the way `psmc set` does: as JSON
 * when it parses as JSON, otherwise as the string itself. A number literal
 * that JSON would read inexactly (an integer beyond ±(2^53−1)) is refused
 * rather than rounded.
 */
export function parseLooseValue(text: string, key?: string): JsonValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: it is a plain string. This is the documented rule, not a swallowed error.
    return assertValue(text, key);
  }
  return assertValue(parsed, key);
}
