/**
 * Key schemas (spec/SPEC.md §schema.document … §schema.default). Pure: no I/O.
 *
 * A schema document declares, per key (or per key pattern), a JSON Schema in a
 * deliberately small subset that TypeScript, Python and Rust enforce
 * identically without any dependency:
 *
 *     { "version": 1,
 *       "additionalKeys": true,
 *       "keys": {
 *         "display.units": { "type": "string", "enum": ["metric", "imperial"], "default": "metric" },
 *         "sensors.*.max": { "type": "number", "maximum": 1000 } } }
 *
 * Key patterns. A key in `keys` is either a legal psmc key or a pattern in
 * which one or more whole segments are `*`; a `*` matches exactly one
 * segment. When several entries match a key the most specific one wins:
 *   1. an exact key beats every pattern;
 *   2. among patterns, the one with fewer `*` segments wins;
 *   3. then the one whose `*` positions, compared left to right, come later
 *      (so `sensors.a.*` beats `sensors.*.max`, and `*.x.*` beats `*.*.y`).
 * Two distinct patterns of the same length can never tie after rule 3.
 *
 * `parseSchemaDocument` checks the document itself and throws
 * PSMC_SCHEMA_INVALID with a JSON-pointer path (`/keys/display.units/minimum`).
 * `CompiledSchema` precompiles one validator per entry and throws
 * PSMC_SCHEMA_VIOLATION naming the key, the path inside the value, what is
 * wrong and how to fix it.
 *
 * Member names coming from a document are only ever looked up with
 * Object.hasOwn or through Maps, and `__proto__` is refused anywhere, so a
 * schema can never reach an object's prototype.
 */
import { isPsmcError, PsmcError } from './errors.js';
import { isReservedSegment, isValidKey, keyError, MAX_KEY_LENGTH, MAX_KEY_SEGMENTS } from './keys.js';
import { assertValue, typeOf as typeOfValue, valuesEqual } from './value.js';
import type { JsonValue, ValueType } from './value.js';

/** The type names a schema may use (`integer` is a number with no fractional part). */
export type SchemaType = ValueType;

export const SCHEMA_TYPES: readonly SchemaType[] = [
  'null',
  'boolean',
  'integer',
  'number',
  'string',
  'array',
  'object',
];

/** The schema for one key (or for a part of its value). Exactly these keywords are supported. */
export type KeySchema = {
  type?: SchemaType | readonly SchemaType[];
  enum?: readonly JsonValue[];
  const?: JsonValue;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: KeySchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: { readonly [member: string]: KeySchema };
  required?: readonly string[];
  additionalProperties?: boolean | KeySchema;
  minProperties?: number;
  maxProperties?: number;
  title?: string;
  description?: string;
  default?: JsonValue;
  examples?: readonly JsonValue[];
  deprecated?: boolean;
  readOnly?: boolean;
  /** Reserved for secrets; accepted, and values of such keys are not echoed in error messages. */
  secret?: boolean;
};

export interface SchemaDocument {
  version?: 1;
  keys: Record<string, KeySchema>;
  /** Default true. When false, a write to a key matching no entry is refused. */
  additionalKeys?: boolean;
}

/** Every keyword a KeySchema may hold, in the order validation checks them. */
export const SUPPORTED_KEYWORDS: readonly string[] = [
  'type',
  'const',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'items',
  'required',
  'minProperties',
  'maxProperties',
  'properties',
  'additionalProperties',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'secret',
];
const KEYWORD_SET: ReadonlySet<string> = new Set(SUPPORTED_KEYWORDS);
const DOCUMENT_MEMBERS: ReadonlySet<string> = new Set(['version', 'keys', 'additionalKeys']);

/** Largest `n`/`m` accepted in a `{n,m}` quantifier (a limit every regex engine shares). */
export const MAX_REPEAT = 1000;
/** Deepest group nesting accepted in a pattern. */
export const MAX_GROUP_DEPTH = 32;

// ---------------------------------------------------------------------------
// Small helpers

function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

function invalid(path: string, message: string, hint: string): PsmcError {
  return new PsmcError('PSMC_SCHEMA_INVALID', `Schema error at ${path === '' ? '/' : path}: ${message}`, {
    hint,
    details: { path },
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describeJs(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/** Defines an own, enumerable data property: never triggers a setter such as `__proto__`. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

// ---------------------------------------------------------------------------
// The regex subset (§schema.subset, "pattern")

/**
 * Checks that `p` lies in the portable regex subset. Returns undefined when it
 * does, else a sentence saying what is not allowed and where.
 *
 *     regex       = alternative ( "|" alternative )*
 *     alternative = ( "^" | "$" | atom quantifier? )*
 *     atom        = "." | literal | escape | class | "(" regex ")" | "(?:" regex ")"
 *     quantifier  = "*" | "+" | "?" | "{" n "}" | "{" n ",}" | "{" n "," m "}"   (not followed by "?" or "+")
 *     escape      = "\" ( "d" | "D" | "w" | "W" | "s" | "S" | syntax )
 *     syntax      = one of  ^ $ \ . * + ? ( ) [ ] { } | /
 *     class       = "[" "^"? item+ "]"
 *     item        = catom ( "-" catom )?      (a range's ends are single characters, low ≤ high)
 *     catom       = any character but "\" "]" "["  |  "\" ( d D w W s S | syntax | "-" )
 *     literal     = any character but the syntax characters
 */
export function checkPatternSubset(p: string): string | undefined {
  const cps = Array.from(p);
  let i = 0;
  let depth = 0;
  const SYNTAX = '^$\\.*+?()[]{}|/';
  const CLASS_ESC = 'dDwWsS';
  const at = (): string => `at position ${i + 1}`;
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

  const escapeProblem = (c: string | undefined, inClass: boolean): string | undefined => {
    if (c === undefined) return `a pattern cannot end with a lone "\\"`;
    if (CLASS_ESC.includes(c) || SYNTAX.includes(c) || (inClass && c === '-')) return undefined;
    if (c >= '1' && c <= '9') return `backreferences ("\\${c}") are not supported`;
    if (c === 'k') return 'named backreferences ("\\k<…>") are not supported';
    if (c === 'p' || c === 'P') return `unicode property escapes ("\\${c}{…}") are not supported`;
    if (c === 'b' || c === 'B') return `word boundaries ("\\${c}") are not supported`;
    return `the escape "\\${c}" is not supported (only \\d \\D \\w \\W \\s \\S and escaped syntax characters)`;
  };

  // Returns a problem or undefined; consumes a quantifier if present.
  const quantifier = (): string | undefined => {
    const c = cps[i];
    if (c === '*' || c === '+' || c === '?') {
      i++;
    } else if (c === '{') {
      const start = i;
      i++;
      let n = '';
      while (isDigit(cps[i])) n += cps[i++];
      if (n === '')
        return `"{" at position ${start + 1} does not start a quantifier {n}, {n,} or {n,m}; escape it as "\\{"`;
      let m: string | undefined = n;
      if (cps[i] === ',') {
        i++;
        m = '';
        while (isDigit(cps[i])) m += cps[i++];
        if (m === '') m = undefined;
      }
      if (cps[i] !== '}') return `the quantifier starting at position ${start + 1} is not closed with "}"`;
      i++;
      const nv = Number(n);
      const mv = m === undefined ? undefined : Number(m);
      if (nv > MAX_REPEAT || (mv !== undefined && mv > MAX_REPEAT))
        return `the quantifier at position ${start + 1} exceeds ${MAX_REPEAT} repetitions`;
      if (mv !== undefined && mv < nv) return `the quantifier at position ${start + 1} has its bounds out of order`;
    } else {
      return undefined;
    }
    const next = cps[i];
    if (next === '?') return `lazy quantifiers ("${cps[i - 1]}?") are not supported (${at()})`;
    if (next === '+') return `possessive quantifiers ("${cps[i - 1]}+") are not supported (${at()})`;
    if (next === '*' || next === '{') return `a quantifier cannot follow another quantifier (${at()})`;
    return undefined;
  };

  const classItem = (): { problem?: string; single?: number } => {
    const c = cps[i];
    if (c === undefined) return { problem: 'a "[" class is not closed with "]"' };
    if (c === '[') return { problem: `"[" inside a class must be escaped as "\\[" (${at()})` };
    if (c === '\\') {
      const e = cps[i + 1];
      const prob = escapeProblem(e, true);
      if (prob !== undefined) return { problem: `${prob} (${at()})` };
      i += 2;
      return CLASS_ESC.includes(e ?? '') ? {} : { single: (e ?? '').codePointAt(0) ?? 0 };
    }
    i++;
    return { single: c.codePointAt(0) ?? 0 };
  };

  const cls = (): string | undefined => {
    const open = i;
    i++; // "["
    if (cps[i] === '^') i++;
    if (cps[i] === ']')
      return `empty classes ("[]" or "[^]") are not supported (position ${open + 1}); escape a literal "]" as "\\]"`;
    for (;;) {
      const c = cps[i];
      if (c === undefined) return `the class opened at position ${open + 1} is not closed with "]"`;
      if (c === ']') {
        i++;
        return undefined;
      }
      const pair = c + (cps[i + 1] ?? '');
      if (pair === '&&' || pair === '--' || pair === '~~' || pair === '||') {
        return `"${pair}" inside a class means set operations in some engines; write the character once (${at()})`;
      }
      const lo = classItem();
      if (lo.problem !== undefined) return lo.problem;
      if (cps[i] === '-' && cps[i + 1] !== ']' && cps[i + 1] !== undefined) {
        const dash = i;
        i++;
        const hi = classItem();
        if (hi.problem !== undefined) return hi.problem;
        if (lo.single === undefined || hi.single === undefined) {
          return `a range cannot start or end with a class escape such as \\d (position ${dash + 1}); escape the "-" as "\\-"`;
        }
        if (hi.single < lo.single) return `the range at position ${dash} is out of order`;
      }
    }
  };

  const alternatives = (): string | undefined => {
    for (;;) {
      // one alternative
      for (;;) {
        const c = cps[i];
        if (c === undefined || c === '|' || c === ')') break;
        if (c === '^' || c === '$') {
          i++;
          const q = cps[i];
          if (q === '*' || q === '+' || q === '?' || q === '{') return `an anchor cannot be quantified (${at()})`;
          continue;
        }
        if (c === '*' || c === '+' || c === '?')
          return `"${c}" at position ${i + 1} has nothing to repeat; escape it as "\\${c}"`;
        if (c === '{') return `"{" at position ${i + 1} has nothing to repeat; escape it as "\\{"`;
        if (c === '}' || c === ']') return `"${c}" at position ${i + 1} must be escaped as "\\${c}"`;
        if (c === '(') {
          const open = i;
          i++;
          if (cps[i] === '?') {
            if (cps[i + 1] === ':') {
              i += 2;
            } else {
              const n = cps[i + 1] ?? '';
              const what =
                n === '=' || n === '!'
                  ? 'lookahead'
                  : n === '<' && (cps[i + 2] === '=' || cps[i + 2] === '!')
                    ? 'lookbehind'
                    : n === '<' || n === 'P'
                      ? 'named groups'
                      : 'inline flags and other "(?" forms';
              return `${what} ("(?${n}…") ${what.endsWith('s') ? 'are' : 'is'} not supported (position ${open + 1}); use "(" or "(?:"`;
            }
          }
          depth++;
          if (depth > MAX_GROUP_DEPTH) return `groups nest deeper than ${MAX_GROUP_DEPTH} levels`;
          const prob = alternatives();
          if (prob !== undefined) return prob;
          if (cps[i] !== ')') return `the group opened at position ${open + 1} is not closed with ")"`;
          i++;
          depth--;
        } else if (c === '[') {
          const prob = cls();
          if (prob !== undefined) return prob;
        } else if (c === '\\') {
          const prob = escapeProblem(cps[i + 1], false);
          if (prob !== undefined) return `${prob} (${at()})`;
          i += 2;
        } else {
          i++; // "." or a literal
        }
        const q = quantifier();
        if (q !== undefined) return q;
      }
      if (cps[i] === '|') {
        i++;
        continue;
      }
      return undefined;
    }
  };

  const problem = alternatives();
  if (problem !== undefined) return problem;
  if (i < cps.length) return `")" at position ${i + 1} has no matching "("; escape it as "\\)"`;
  return undefined;
}

// ---------------------------------------------------------------------------
// Parsing the document (§schema.document, §schema.subset)

const SUPPORTED_HINT = `Supported keywords: ${SUPPORTED_KEYWORDS.join(', ')}.`;

function jsonValueAt(v: unknown, path: string): JsonValue {
  try {
    return structuredClone(assertValue(v));
  } catch (e) {
    if (isPsmcError(e)) {
      const inner = typeof e.details.path === 'string' ? e.details.path : '';
      throw invalid(path + inner, `not a valid psmc value: ${e.message}`, e.hint);
    }
    throw e;
  }
}

function expectNumber(v: unknown, path: string, kw: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw invalid(path, `"${kw}" must be a finite number, not ${describeJs(v)}.`, `Write e.g. "${kw}": 0.`);
  }
  return Object.is(v, -0) ? 0 : v;
}

function expectCount(v: unknown, path: string, kw: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(path, `"${kw}" must be a non-negative integer, not ${describeJs(v)}.`, `Write e.g. "${kw}": 1.`);
  }
  return v;
}

function expectBool(v: unknown, path: string, kw: string): boolean {
  if (typeof v !== 'boolean')
    throw invalid(
      path,
      `"${kw}" must be true or false, not ${describeJs(v)}.`,
      `Write "${kw}": true or "${kw}": false.`,
    );
  return v;
}

function expectString(v: unknown, path: string, kw: string): string {
  if (typeof v !== 'string' || !v.isWellFormed())
    throw invalid(path, `"${kw}" must be a string, not ${describeJs(v)}.`, `Write "${kw}" as a JSON string.`);
  return v;
}

function checkMemberName(name: string, path: string): void {
  if (name === '__proto__') {
    throw invalid(
      path,
      'the member name "__proto__" is refused anywhere in a schema.',
      'Rename or remove the "__proto__" member.',
    );
  }
  if (!name.isWellFormed())
    throw invalid(path, 'a member name holds a lone UTF-16 surrogate.', 'Use well-formed Unicode in member names.');
}

function parseType(v: unknown, path: string): SchemaType | SchemaType[] {
  const hint = `Use one of ${SCHEMA_TYPES.map((t) => `"${t}"`).join(', ')}, or a non-empty array of them.`;
  const one = (t: unknown, p: string): SchemaType => {
    if (typeof t === 'string' && (SCHEMA_TYPES as readonly string[]).includes(t)) return t as SchemaType;
    throw invalid(p, `${describeJs(t)} is not a type name.`, hint);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) throw invalid(path, '"type" is an empty array.', hint);
    const out: SchemaType[] = [];
    v.forEach((t, i) => {
      const n = one(t, `${path}/${i}`);
      if (out.includes(n)) throw invalid(`${path}/${i}`, `the type "${n}" is listed twice.`, 'List each type once.');
      out.push(n);
    });
    return out;
  }
  return one(v, path);
}

function parseNode(raw: unknown, path: string): KeySchema {
  if (!isPlainObject(raw)) {
    throw invalid(
      path,
      `a schema must be a JSON object, not ${describeJs(raw)}.`,
      'Write a schema such as {"type": "string"}; boolean schemas are not supported.',
    );
  }
  const out: Record<string, unknown> = {};
  for (const kw of Object.keys(raw)) {
    const p = `${path}/${pointerSegment(kw)}`;
    checkMemberName(kw, p);
    if (!KEYWORD_SET.has(kw)) {
      throw invalid(p, `the keyword ${quote(kw)} is not supported.`, SUPPORTED_HINT);
    }
    const v: unknown = raw[kw];
    let parsed: unknown;
    switch (kw) {
      case 'type':
        parsed = parseType(v, p);
        break;
      case 'enum':
        if (!Array.isArray(v) || v.length === 0)
          throw invalid(
            p,
            `"enum" must be a non-empty array, not ${describeJs(v)}.`,
            'Write e.g. "enum": ["metric", "imperial"].',
          );
        parsed = v.map((x, i) => jsonValueAt(x, `${p}/${i}`));
        break;
      case 'const':
      case 'default':
        parsed = jsonValueAt(v, p);
        break;
      case 'examples':
        if (!Array.isArray(v))
          throw invalid(p, `"examples" must be an array, not ${describeJs(v)}.`, 'Write e.g. "examples": ["metric"].');
        parsed = v.map((x, i) => jsonValueAt(x, `${p}/${i}`));
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        parsed = expectNumber(v, p, kw);
        break;
      case 'multipleOf':
        parsed = expectNumber(v, p, kw);
        if ((parsed as number) <= 0)
          throw invalid(
            p,
            `"multipleOf" must be greater than 0, not ${String(parsed)}.`,
            'Write e.g. "multipleOf": 0.5.',
          );
        break;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'minProperties':
      case 'maxProperties':
        parsed = expectCount(v, p, kw);
        break;
      case 'uniqueItems':
      case 'deprecated':
      case 'readOnly':
      case 'secret':
        parsed = expectBool(v, p, kw);
        break;
      case 'title':
      case 'description':
        parsed = expectString(v, p, kw);
        break;
      case 'pattern': {
        const s = expectString(v, p, kw);
        const problem = checkPatternSubset(s);
        if (problem !== undefined) {
          throw invalid(
            p,
            `the pattern ${quote(s)} is outside the portable regex subset: ${problem}.`,
            'Patterns may use literals, ".", classes [...] and [^...], \\d \\w \\s \\D \\W \\S, escaped syntax characters, ^ $, groups ( ) and (?: ), | and the quantifiers * + ? {n} {n,} {n,m}.',
          );
        }
        try {
          new RegExp(s, 'u');
        } catch (e) {
          throw invalid(
            p,
            `the pattern ${quote(s)} does not compile: ${(e as Error).message}.`,
            'Fix the regular expression.',
          );
        }
        parsed = s;
        break;
      }
      case 'items':
        if (Array.isArray(v))
          throw invalid(
            p,
            '"items" must be one schema for every item; tuple forms (an array of schemas) are not supported.',
            'Write e.g. "items": {"type": "string"}.',
          );
        parsed = parseNode(v, p);
        break;
      case 'additionalProperties':
        parsed = typeof v === 'boolean' ? v : parseNode(v, p);
        break;
      case 'properties': {
        if (!isPlainObject(v))
          throw invalid(
            p,
            `"properties" must be an object of schemas, not ${describeJs(v)}.`,
            'Write e.g. "properties": {"name": {"type": "string"}}.',
          );
        const props: Record<string, unknown> = {};
        for (const name of Object.keys(v)) {
          const pp = `${p}/${pointerSegment(name)}`;
          checkMemberName(name, pp);
          put(props, name, parseNode(v[name], pp));
        }
        parsed = props;
        break;
      }
      case 'required': {
        if (!Array.isArray(v))
          throw invalid(
            p,
            `"required" must be an array of member names, not ${describeJs(v)}.`,
            'Write e.g. "required": ["name"].',
          );
        const names: string[] = [];
        v.forEach((n, i) => {
          const np = `${p}/${i}`;
          if (typeof n !== 'string')
            throw invalid(
              np,
              `a required member name must be a string, not ${describeJs(n)}.`,
              'List member names as strings.',
            );
          checkMemberName(n, np);
          if (names.includes(n))
            throw invalid(np, `the member ${quote(n)} is listed twice.`, 'List each required member once.');
          names.push(n);
        });
        parsed = names;
        break;
      }
      /* c8 ignore next 2 -- KEYWORD_SET and this switch list the same keywords */
      default:
        throw invalid(p, `the keyword ${quote(kw)} is not supported.`, SUPPORTED_HINT);
    }
    put(out, kw, parsed);
  }
  const schema = out as KeySchema;
  if (Object.hasOwn(schema, 'default')) {
    const violation = compileNode(schema, false)(schema.default as JsonValue);
    if (violation !== undefined) {
      const inner = violationPath(violation);
      throw invalid(
        `${path}/default${inner}`,
        `the default ${inner === '' ? '' : `(at ${inner}) `}${violation.problem}.`,
        `Make the default ${violation.expected}, or change the schema.`,
      );
    }
  }
  return schema;
}

interface ParsedPattern {
  readonly pattern: string;
  readonly segments: readonly string[];
  /** Indexes of the `*` segments, ascending. */
  readonly stars: readonly number[];
}

function parseKeyName(name: string, path: string): ParsedPattern | undefined {
  if (!name.includes('*')) {
    if (!isValidKey(name)) {
      const e = keyError(name);
      throw invalid(path, `the key ${quote(name)} is not a legal key: ${e.message}`, e.hint);
    }
    return undefined;
  }
  const segments = name.split('.');
  const stars: number[] = [];
  segments.forEach((s, i) => {
    if (s === '*') stars.push(i);
    else if (s.includes('*')) {
      throw invalid(
        path,
        `in the key pattern ${quote(name)}, "*" must be a whole segment (found ${quote(s)}).`,
        'Write e.g. sensors.*.max; a "*" matches exactly one segment.',
      );
    } else if (isReservedSegment(s)) {
      throw invalid(
        path,
        `the key pattern ${quote(name)} uses the reserved segment ${quote(s)}.`,
        'Rename the segment.',
      );
    }
  });
  const probe = segments.map((s) => (s === '*' ? 'x' : s)).join('.');
  if (!isValidKey(probe)) {
    const e = keyError(probe);
    const why =
      segments.length > MAX_KEY_SEGMENTS || name.length > MAX_KEY_LENGTH
        ? e.message
        : 'a segment is empty or not letters and digits joined by single "_" or "-".';
    throw invalid(
      path,
      `the key pattern ${quote(name)} is not legal: ${why}`,
      'A pattern is a legal key in which some whole segments are "*".',
    );
  }
  return { pattern: name, segments, stars };
}

/**
 * Validates a schema document and returns a new, deeply frozen copy of it.
 * Throws PSMC_SCHEMA_INVALID with `details.path` a JSON pointer into `doc`.
 */
export function parseSchemaDocument(doc: unknown): SchemaDocument {
  if (!isPlainObject(doc)) {
    throw invalid(
      '',
      `a schema document must be a JSON object, not ${describeJs(doc)}.`,
      'Write {"version": 1, "keys": {"display.units": {"type": "string"}}}.',
    );
  }
  for (const m of Object.keys(doc)) {
    checkMemberName(m, `/${pointerSegment(m)}`);
    if (!DOCUMENT_MEMBERS.has(m)) {
      throw invalid(
        `/${pointerSegment(m)}`,
        `the document member ${quote(m)} is not supported.`,
        'A schema document has only "version", "keys" and "additionalKeys".',
      );
    }
  }
  const out: Record<string, unknown> = {};
  if (Object.hasOwn(doc, 'version')) {
    if (doc['version'] !== 1)
      throw invalid(
        '/version',
        `"version" must be 1, not ${describeJs(doc['version'])}.`,
        'Write "version": 1, or leave it out.',
      );
    put(out, 'version', 1);
  }
  if (!Object.hasOwn(doc, 'keys'))
    throw invalid('/keys', 'the document has no "keys" member.', 'Add "keys": {} with one schema per key.');
  const keys: unknown = doc['keys'];
  if (!isPlainObject(keys))
    throw invalid(
      '/keys',
      `"keys" must be an object, not ${describeJs(keys)}.`,
      'Write "keys": {"display.units": {"type": "string"}}.',
    );
  const outKeys: Record<string, unknown> = {};
  for (const name of Object.keys(keys)) {
    const p = `/keys/${pointerSegment(name)}`;
    checkMemberName(name, p);
    parseKeyName(name, p);
    put(outKeys, name, parseNode(keys[name], p));
  }
  put(out, 'keys', outKeys);
  if (Object.hasOwn(doc, 'additionalKeys'))
    put(out, 'additionalKeys', expectBool(doc['additionalKeys'], '/additionalKeys', 'additionalKeys'));
  return deepFreeze(out as unknown as SchemaDocument);
}

// ---------------------------------------------------------------------------
// Compiled validators (§schema.enforce)

/** What is wrong with a value, before it becomes an error. */
export interface Violation {
  /** Path segments inside the value, innermost first (reversed while unwinding). */
  readonly rpath: string[];
  readonly keyword: string;
  /** E.g. `is 120, above the maximum 100` (subject: the value at the path). */
  readonly problem: string;
  /** A noun phrase for the fix, e.g. `a number of at most 100`, `one of "a", "b"`. */
  readonly expected: string;
}

/** Returns undefined when the value satisfies the schema, else the first violation. */
export type ValueCheck = (value: JsonValue) => Violation | undefined;

/** The JSON pointer of a violation inside the value ('' for the value itself). */
export function violationPath(v: Violation): string {
  let s = '';
  for (let i = v.rpath.length - 1; i >= 0; i--) s += '/' + pointerSegment(v.rpath[i] ?? '');
  return s;
}

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

/** Unicode code points in a well-formed string. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) n--;
  }
  return n;
}

/** `x` as `m × 10^e` with m a BigInt, from the shortest round-trip decimal form. */
function decimal(x: number): { m: bigint; e: number } {
  const s = String(Math.abs(x));
  const [mant = '0', expPart] = s.split('e');
  const [int = '0', frac = ''] = mant.split('.');
  const e = (expPart === undefined ? 0 : Number(expPart)) - frac.length;
  return { m: BigInt(int + frac), e };
}

/** True when `v` is an integer multiple of `d` (> 0), computed on exact decimals. */
export function isMultipleOf(v: number, d: number): boolean {
  if (v === 0) return true;
  if (Number.isInteger(v) && Number.isInteger(d)) return v % d === 0;
  const a = decimal(v);
  const b = decimal(d);
  const e = Math.min(a.e, b.e);
  const am = a.m * 10n ** BigInt(a.e - e);
  const bm = b.m * 10n ** BigInt(b.e - e);
  return am % bm === 0n;
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

/** The PSMC_SCHEMA_VIOLATION error for a violation of `key`'s schema. */
export function violationError(key: string, v: Violation): PsmcError {
  const path = violationPath(v);
  const subject = path === '' ? `The value of key ${quote(key)}` : `The value at ${path} of key ${quote(key)}`;
  return new PsmcError('PSMC_SCHEMA_VIOLATION', `${subject} ${v.problem}.`, {
    hint: `Use ${v.expected}.`,
    details: { key, path, keyword: v.keyword },
  });
}

// ---------------------------------------------------------------------------
// The compiled document (§schema.keys, §schema.enforce, §schema.default)

interface Entry {
  readonly name: string;
  readonly schema: KeySchema;
  readonly check: ValueCheck;
}

interface PatternEntry extends ParsedPattern {
  readonly entry: Entry;
}

/** Most specific first: fewer stars, then later star positions. */
function comparePatterns(a: ParsedPattern, b: ParsedPattern): number {
  if (a.stars.length !== b.stars.length) return a.stars.length - b.stars.length;
  for (let i = 0; i < a.stars.length; i++) {
    const d = (b.stars[i] ?? 0) - (a.stars[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

const MATCH_CACHE_LIMIT = 4096;

export class CompiledSchema {
  /** The parsed, frozen document. */
  readonly document: SchemaDocument;
  readonly additionalKeys: boolean;
  readonly #exact = new Map<string, Entry>();
  readonly #patterns: PatternEntry[] = [];
  readonly #matchCache = new Map<string, Entry | null>();

  /** Parses (PSMC_SCHEMA_INVALID) and compiles `doc`. */
  constructor(doc: unknown) {
    this.document = parseSchemaDocument(doc);
    this.additionalKeys = this.document.additionalKeys !== false;
    const keys = this.document.keys;
    for (const name of Object.keys(keys)) {
      const schema = keys[name] as KeySchema;
      const entry: Entry = { name, schema, check: checkForKeySchema(schema) };
      const pattern = parseKeyName(name, `/keys/${name}`);
      if (pattern === undefined) this.#exact.set(name, entry);
      else this.#patterns.push({ ...pattern, entry });
    }
    this.#patterns.sort(comparePatterns);
  }

  #lookup(key: string): Entry | undefined {
    const exact = this.#exact.get(key);
    if (exact !== undefined || this.#patterns.length === 0) return exact;
    const cached = this.#matchCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const segs = key.split('.');
    let found: Entry | null = null;
    for (const p of this.#patterns) {
      if (p.segments.length !== segs.length) continue;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const ps = p.segments[i];
        if (ps !== '*' && ps !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (ok) {
        found = p.entry;
        break;
      }
    }
    if (this.#matchCache.size >= MATCH_CACHE_LIMIT) this.#matchCache.clear();
    this.#matchCache.set(key, found);
    return found ?? undefined;
  }

  /** The schema governing `key` (exact entry, else the most specific pattern), or undefined. */
  schemaFor(key: string): KeySchema | undefined {
    return this.#lookup(key)?.schema;
  }

  /** The document entry (exact key or pattern) governing `key`, or undefined. */
  entryFor(key: string): string | undefined {
    return this.#lookup(key)?.name;
  }

  /** True when an exact entry or a pattern covers `key`. */
  isKnown(key: string): boolean {
    return this.#lookup(key) !== undefined;
  }

  /** The exact (non-pattern) keys of the document, in document order. */
  keys(): string[] {
    return [...this.#exact.keys()];
  }

  /** The pattern entries, most specific first. */
  patterns(): string[] {
    return this.#patterns.map((p) => p.pattern);
  }

  /** The schema's `default` for `key` (deeply frozen), or undefined. */
  defaultFor(key: string): JsonValue | undefined {
    const s = this.#lookup(key)?.schema;
    return s !== undefined && Object.hasOwn(s, 'default') ? s.default : undefined;
  }

  /** Returns the first violation of `key`'s schema by `value`, or undefined (never throws). */
  check(key: string, value: JsonValue): Violation | undefined {
    const entry = this.#lookup(key);
    if (entry === undefined) {
      return this.additionalKeys
        ? undefined
        : { rpath: [], keyword: 'additionalKeys', problem: 'is not declared', expected: 'a declared key' };
    }
    return entry.check(value);
  }

  /** Throws PSMC_SCHEMA_VIOLATION unless `value` is acceptable for `key`. */
  validate(key: string, value: JsonValue): void {
    const entry = this.#lookup(key);
    if (entry === undefined) {
      if (this.additionalKeys) return;
      const first = key.split('.')[0] ?? '';
      const near = this.keys()
        .filter((k) => k.split('.')[0] === first)
        .slice(0, 5);
      throw new PsmcError(
        'PSMC_SCHEMA_VIOLATION',
        `The key ${quote(key)} is not declared in the schema, and the schema does not allow other keys (additionalKeys is false).`,
        {
          hint: `Check the spelling of the key${near.length > 0 ? ` (declared keys nearby: ${near.join(', ')})` : ''}, or declare it in the schema's "keys".`,
          details: { key, path: '', keyword: 'additionalKeys' },
        },
      );
    }
    const f = entry.check(value);
    if (f !== undefined) throw violationError(key, f);
  }
}

/** Parses and compiles a schema document (PSMC_SCHEMA_INVALID when it is not valid). */
export function compileSchema(doc: unknown): CompiledSchema {
  return new CompiledSchema(doc);
}
