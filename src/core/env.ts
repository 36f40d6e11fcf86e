/**
 * The environment layer (spec/SPEC.md §env.mapping, §env.reserved, §env.coerce).
 * Pure: the environment is a parameter, never read here.
 *
 * Mapping. The variable for key `display.units` under prefix `PSMC` is
 * `PSMC_DISPLAY__UNITS`: the prefix, `_`, then the key upper-cased with every
 * `.` written as `__` and every `-` written as `_`.
 *
 * The escape rule for keys that contain `_`: none is needed. The key grammar
 * (keys.ts) forbids `__` inside a segment and a `_`/`-` at either end of a
 * segment, so in a variable name `__` always stands for `.` and a single `_`
 * always stands for a `_` or `-` inside a segment; `sensor_1.max` is
 * `PSMC_SENSOR_1__MAX`. The mapping is not injective, though: keys that differ
 * only in letter case, or only in `-` versus `_` (`max-temp`, `max_temp`,
 * `MAX_TEMP`), share one variable. That variable then feeds all of them, and
 * `explain` reports the sharing.
 *
 * Reserved names. `<PREFIX>_HOME`, `_DEBUG`, `_SECRET_KEY`, `_SOURCE`,
 * `_STORE`, `_APP` and `_PROJECT` configure psmc itself. A key whose variable
 * would be one of them (e.g. `home`, `secret_key`) has no environment layer.
 */
import { isPsmcError, PsmcError } from './errors.js';
import { assertKey } from './keys.js';
import { checkForKeySchema, SCHEMA_TYPES, violationPath } from './schema.js';
import type { KeySchema, SchemaType, Violation } from './schema.js';
import { assertValue, parseLooseValue } from './value.js';
import type { JsonValue } from './value.js';

/** Suffixes reserved under every prefix: `${prefix}_${suffix}` is never a key's variable. */
export const RESERVED_ENV_SUFFIXES: readonly string[] = [
  'HOME',
  'DEBUG',
  'SECRET_KEY',
  'SOURCE',
  'STORE',
  'APP',
  'PROJECT',
];

/** The CLI's prefix. */
export const DEFAULT_ENV_PREFIX = 'PSMC';

/** The reserved names under the CLI's prefix: PSMC_HOME, PSMC_DEBUG, … */
export const RESERVED_ENV_NAMES: readonly string[] = RESERVED_ENV_SUFFIXES.map((s) => `${DEFAULT_ENV_PREFIX}_${s}`);

const PREFIX_RE = /^[A-Z][A-Z0-9_]*$/;

function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new TypeError(`env prefix must match /^[A-Z][A-Z0-9_]*$/, received ${JSON.stringify(prefix)}`);
  }
}

/** The prefix for an app name: upper-cased, `-` → `_`; TypeError unless it matches /^[A-Z][A-Z0-9_]*$/. */
export function prefixFromApp(app: string): string {
  if (typeof app !== 'string') throw new TypeError(`app must be a string, received ${typeof app}`);
  const p = app.toUpperCase().replace(/-/g, '_');
  if (!PREFIX_RE.test(p)) {
    throw new TypeError(
      `app name ${JSON.stringify(app)} does not give a usable environment prefix (${JSON.stringify(p)} must match /^[A-Z][A-Z0-9_]*$/)`,
    );
  }
  return p;
}

/** The variable name for `key` (which must be legal): `${prefix}_` + KEY with `.`→`__`, `-`→`_`. */
export function envName(prefix: string, key: string): string {
  assertPrefix(prefix);
  assertKey(key);
  return `${prefix}_${key.toUpperCase().replaceAll('.', '__').replaceAll('-', '_')}`;
}

/** True when `name` is one of psmc's own variables under `prefix` (`${prefix}_HOME` …). */
export function isReservedEnvName(prefix: string, name: string): boolean {
  if (!name.startsWith(prefix) || name.charCodeAt(prefix.length) !== 95 /* _ */) return false;
  return RESERVED_ENV_SUFFIXES.includes(name.slice(prefix.length + 1));
}

/** The variable that feeds `key`, or undefined when that name is reserved (the key has no env layer). */
export function envVariableFor(prefix: string, key: string): string | undefined {
  const name = envName(prefix, key);
  return isReservedEnvName(prefix, name) ? undefined : name;
}

export interface SnapshotEnvOptions {
  /**
   * Compare names ignoring ASCII case (Windows, where the environment is
   * case-insensitive): names are upper-cased in the result. Default false.
   */
  caseInsensitive?: boolean;
}

/**
 * The variables that can feed keys: those named `${prefix}_…` (with at least
 * one character after the `_`), minus the reserved ones and unset ones.
 */
export function snapshotEnv(
  env: Record<string, string | undefined>,
  prefix: string,
  options: SnapshotEnvOptions = {},
): Map<string, string> {
  assertPrefix(prefix);
  const out = new Map<string, string>();
  const start = `${prefix}_`;
  for (const rawName of Object.keys(env)) {
    const name = options.caseInsensitive === true ? rawName.toUpperCase() : rawName;
    if (name.length <= start.length || !name.startsWith(start) || isReservedEnvName(prefix, name)) continue;
    const v = env[rawName];
    if (typeof v === 'string') out.set(name, v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Coercion (§env.coerce)

export const TRUE_WORDS: readonly string[] = ['true', '1', 'yes', 'on'];
export const FALSE_WORDS: readonly string[] = ['false', '0', 'no', 'off'];

const INTEGER_RE = /^[+-]?[0-9]+$/;
const NUMBER_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const TRIM_RE = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;

/** Removes surrounding ASCII whitespace (tab, LF, VT, FF, CR, space) only. */
export function trimAscii(s: string): string {
  return s.replace(TRIM_RE, '');
}

const EXAMPLE: Record<SchemaType, string> = {
  null: 'null',
  boolean: 'true/false (also 1/0, yes/no, on/off)',
  integer: 'an integer such as 42',
  number: 'a number such as 1.5',
  string: 'any text',
  array: 'a JSON array such as ["a","b"]',
  object: 'a JSON object such as {"a":1}',
};

function shown(raw: string, secret: boolean): string {
  if (secret) return '(a secret value)';
  if (raw.length <= 80) return JSON.stringify(raw);
  let cut = raw.slice(0, 80);
  const last = cut.charCodeAt(79);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, 79);
  return JSON.stringify(cut) + '…';
}

function coerceError(
  variable: string,
  raw: string,
  key: string,
  secret: boolean,
  problem: string,
  expected: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): PsmcError {
  return new PsmcError(
    'PSMC_ENV_COERCE',
    `The environment variable ${variable}=${shown(raw, secret)} cannot be used for key ${JSON.stringify(key)}: ${problem}.`,
    {
      hint: `Set ${variable} to ${expected}, or unset it.`,
      details: { key, variable, ...extra },
      cause,
    },
  );
}

function isValueOk(v: JsonValue): JsonValue | undefined {
  try {
    return assertValue(v);
  } catch (e) {
    if (isPsmcError(e)) return undefined;
    throw e;
  }
}

/** Step `t` of the union order; undefined when the raw text does not parse as `t`. */
function parseAs(
  t: 'null' | 'boolean' | 'integer' | 'number' | 'json' | 'string',
  raw: string,
  allow: ReadonlySet<SchemaType>,
): JsonValue | undefined {
  switch (t) {
    case 'null':
      return trimAscii(raw).toLowerCase() === 'null' ? null : undefined;
    case 'boolean': {
      const w = trimAscii(raw).toLowerCase();
      return TRUE_WORDS.includes(w) ? true : FALSE_WORDS.includes(w) ? false : undefined;
    }
    case 'integer': {
      const w = trimAscii(raw);
      if (!INTEGER_RE.test(w)) return undefined;
      const n = Number(w);
      return Number.isSafeInteger(n) ? (n === 0 ? 0 : n) : undefined;
    }
    case 'number': {
      const w = trimAscii(raw);
      if (!NUMBER_RE.test(w)) return undefined;
      const n = Number(w);
      if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return undefined;
      return n === 0 ? 0 : n;
    }
    case 'json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return undefined; // not JSON: this step does not apply
      }
      const isArr = Array.isArray(parsed);
      const isObj = typeof parsed === 'object' && parsed !== null && !isArr;
      if (!((isArr && allow.has('array')) || (isObj && allow.has('object')))) return undefined;
      return isValueOk(parsed as JsonValue);
    }
    case 'string':
      return isValueOk(raw);
  }
}

const UNION_ORDER = ['null', 'boolean', 'integer', 'number', 'json', 'string'] as const;

function stepAllowed(step: (typeof UNION_ORDER)[number], allow: ReadonlySet<SchemaType>): boolean {
  return step === 'json' ? allow.has('array') || allow.has('object') : allow.has(step);
}

function typeProblem(raw: string, types: readonly SchemaType[]): string {
  const w = trimAscii(raw);
  if (types.includes('integer') && INTEGER_RE.test(w)) return 'it is an integer outside ±9007199254740991';
  if (types.includes('number') && NUMBER_RE.test(w))
    return 'the number is not finite or is an integer outside ±9007199254740991';
  if (w === '')
    return `it is empty, and ${types.length === 1 ? 'the key expects' : 'the key expects one of'} ${types.join(', ')}`;
  return `it is not ${types.map((t) => (t === 'integer' ? 'an integer' : t === 'array' || t === 'object' ? `a JSON ${t}` : t === 'null' ? 'null' : `a ${t}`)).join(' or ')}`;
}

/**
 * Turns an environment variable's text into the key's value (§env.coerce).
 * Throws PSMC_ENV_COERCE, with details {key, variable}, when the text does not
 * parse as an allowed type, breaks a value rule, or violates the key schema.
 */
export function coerceEnv(raw: string, schema: KeySchema | undefined, varName: string, key: string): JsonValue {
  const secret = schema?.secret === true;
  const rawType = schema?.type;
  if (rawType === undefined) {
    let value: JsonValue;
    try {
      value = parseLooseValue(raw, key);
    } catch (e) {
      if (!isPsmcError(e)) throw e;
      throw coerceError(
        varName,
        raw,
        key,
        secret,
        e.message.replace(/\.$/, ''),
        'a valid JSON value or plain text',
        { keyword: 'value' },
        e,
      );
    }
    if (schema === undefined) return value;
    const check = checkForKeySchema(schema);
    const f = check(value);
    if (f === undefined) return value;
    // An untyped enum/const (e.g. ["1", "auto"]): the raw text itself may be the allowed value.
    if (
      typeof value !== 'string' &&
      (schema.enum !== undefined || Object.hasOwn(schema, 'const')) &&
      check(raw) === undefined
    )
      return raw;
    throw violationToCoerce(varName, raw, key, secret, f);
  }
  const types: readonly SchemaType[] = typeof rawType === 'string' ? [rawType] : rawType;
  const allow = new Set(types.filter((t) => SCHEMA_TYPES.includes(t)));
  let value: JsonValue | undefined;
  for (const step of UNION_ORDER) {
    if (!stepAllowed(step, allow)) continue;
    value = parseAs(step, raw, allow);
    if (value !== undefined) break;
  }
  if (value === undefined) {
    const expected = types.map((t) => EXAMPLE[t]).join(', or ');
    throw coerceError(varName, raw, key, secret, typeProblem(raw, types), expected, { keyword: 'type' });
  }
  const f = checkForKeySchema(schema as KeySchema)(value);
  if (f !== undefined) throw violationToCoerce(varName, raw, key, secret, f);
  return value;
}

function violationToCoerce(varName: string, raw: string, key: string, secret: boolean, f: Violation): PsmcError {
  const path = violationPath(f);
  const subject = path === '' ? 'the value' : `the value at ${path}`;
  return coerceError(varName, raw, key, secret, `${subject} ${f.problem}`, f.expected, { keyword: f.keyword, path });
}
