/**
 * Parsing a schema document (spec/SPEC.md §schema.document, §schema.subset).
 *
 * `parseSchemaDocument` checks the document itself and throws PSMC_SCHEMA_INVALID with a
 * JSON-pointer path (`/keys/display.units/minimum`).
 *
 * Member names coming from a document are only ever looked up with Object.hasOwn or through
 * Maps, and `__proto__` is refused anywhere, so a schema can never reach an object's prototype.
 */
import { isPsmcError } from '../errors.js';
import { assertValue } from '../value.js';
import type { JsonValue } from '../value.js';
import { compileNode } from './compile.js';
import { parseKeyName } from './key-pattern.js';
import { describeJs, invalid, pointerSegment, quote } from './messages.js';
import { checkPatternSubset } from './pattern.js';
import { SCHEMA_TYPES, SUPPORTED_KEYWORDS } from './types.js';
import type { KeySchema, SchemaDocument, SchemaType } from './types.js';
import { violationPath } from './violation.js';

const KEYWORD_SET: ReadonlySet<string> = new Set(SUPPORTED_KEYWORDS);
const DOCUMENT_MEMBERS: ReadonlySet<string> = new Set(['version', 'keys', 'additionalKeys']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
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
