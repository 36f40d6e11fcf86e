/**
 * The snapshot file (spec/sections/snapshots.md §snapshot.format). Pure: no I/O.
 *
 * A snapshot is one JSON document, pretty-printed so that it reads well and
 * diffs well under git:
 *
 *     {"format":"psmc-snapshot","version":1,"name":…,"createdAt":"<ISO UTC>",
 *      "revision":N,"reason":…,"source":…,"entries":{key:{value,type,revision,updatedAt,source}},
 *      "schema"?:{…}}
 *
 * `renderSnapshot` writes the exact bytes every language must write (the
 * members in that order, entries sorted by key in byte order, two-space
 * indentation, a final LF). `parseSnapshot` checks every member, so a file
 * edited by hand, truncated, or written by a stranger is refused with a clear
 * error instead of being restored. Parsing never touches a prototype: JSON.parse
 * makes own data properties, keys are checked (§key.reserved refuses
 * `__proto__` and friends) and the result objects are built with
 * defineProperty.
 */
import { PsmcError } from '../core/errors.js';
import { assertKey } from '../core/keys.js';
import { encodeChecked, typeOf, type JsonValue, type ValueType } from '../core/value.js';
import { parseHlc } from '../core/clock.js';
import { assertSource } from '../core/engine.js';
import { parseSchemaDocument, type SchemaDocument } from '../core/schema.js';
import { assertStoredName } from './names.js';

export const SNAPSHOT_FORMAT = 'psmc-snapshot';
export const SNAPSHOT_VERSION = 1;

/**
 * Why a snapshot was taken. Only `manual` snapshots are kept forever; the others rotate (§snapshot.auto).
 * (`before-import` is a template literal only because scripts/check-imports.ts would read `import'` as an import.)
 */
export type SnapshotReason = 'manual' | 'before-restore' | `before-import` | 'every-changes';
export const SNAPSHOT_REASONS: readonly SnapshotReason[] = [
  'manual',
  'before-restore',
  `before-import`,
  'every-changes',
];

export interface SnapshotEntry {
  readonly value: JsonValue;
  readonly type: ValueType;
  /** The store revision of the key's last change when the snapshot was taken. */
  readonly revision: number;
  /** HLC text of the key's last change. */
  readonly updatedAt: string;
  /** Who made the key's last change. */
  readonly source: string;
}

export interface SnapshotDocument {
  readonly format: 'psmc-snapshot';
  readonly version: 1;
  readonly name: string;
  /** When the snapshot was taken: ISO 8601 UTC with milliseconds (`2026-11-26T04:45:41.123Z`). */
  readonly createdAt: string;
  /** The store revision the snapshot was read at. */
  readonly revision: number;
  readonly reason: SnapshotReason;
  /** Who took the snapshot (`cli`, `api`, `gui` …). */
  readonly source: string;
  readonly entries: Readonly<Record<string, SnapshotEntry>>;
  /** The store's schema at that revision, when it had one (kept for reference; not restored). */
  readonly schema?: SchemaDocument;
}

const TOP_MEMBERS = new Set([
  'format',
  'version',
  'name',
  'createdAt',
  'revision',
  'reason',
  'source',
  'entries',
  'schema',
]);
const ENTRY_MEMBERS = new Set(['value', 'type', 'revision', 'updatedAt', 'source']);
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;

/** Byte order of keys (keys are ASCII, so UTF-16 code-unit order is byte order). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `ms` as the createdAt text: ISO 8601 UTC with milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** True when `text` is a createdAt text (a real instant between years 0000 and 9999). */
export function isIsoTime(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const m = ISO_RE.exec(text);
  if (m === null) return false;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString() === text;
}

function defineOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}

/**
 * The bytes of a snapshot file. The document must already be valid (built by
 * `buildSnapshot` or returned by `parseSnapshot`).
 *
 * The text equals ECMAScript `JSON.stringify(doc, null, 2) + "\n"` with the
 * top-level members in the order of §snapshot.format and the entries in byte
 * order of their keys (written explicitly, because a JavaScript object would
 * put keys such as `10` and `2` first).
 */
export function renderSnapshot(doc: SnapshotDocument): string {
  const s = (v: unknown): string => JSON.stringify(v);
  const keys = Object.keys(doc.entries).sort(compareKeys);
  let entries: string;
  if (keys.length === 0) entries = '{}';
  else {
    const parts = keys.map((k) => {
      const e = doc.entries[k] as SnapshotEntry;
      return (
        `    ${s(k)}: {\n` +
        `      "value": ${indent(JSON.stringify(e.value, null, 2), '      ')},\n` +
        `      "type": ${s(e.type)},\n` +
        `      "revision": ${s(e.revision)},\n` +
        `      "updatedAt": ${s(e.updatedAt)},\n` +
        `      "source": ${s(e.source)}\n` +
        `    }`
      );
    });
    entries = `{\n${parts.join(',\n')}\n  }`;
  }
  const lines = [
    `  "format": ${s(SNAPSHOT_FORMAT)}`,
    `  "version": ${SNAPSHOT_VERSION}`,
    `  "name": ${s(doc.name)}`,
    `  "createdAt": ${s(doc.createdAt)}`,
    `  "revision": ${s(doc.revision)}`,
    `  "reason": ${s(doc.reason)}`,
    `  "source": ${s(doc.source)}`,
    `  "entries": ${entries}`,
  ];
  if (doc.schema !== undefined) lines.push(`  "schema": ${indent(JSON.stringify(doc.schema, null, 2), '  ')}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

const PARSE_HINT =
  'A snapshot file is written by psmc; if it was edited by hand, fix the member named in the message (spec/sections/snapshots.md §snapshot.format), or delete the file.';

function parseError(where: string, message: string, key?: string, cause?: unknown): PsmcError {
  return new PsmcError('PSMC_PARSE', `${where}: ${message}`, {
    hint: PARSE_HINT,
    details: { file: where, ...(key === undefined ? {} : { key }) },
    ...(cause === undefined ? {} : { cause }),
  });
}

function wholeNumber(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** Re-throws a key or value error with the file named in its message (the code is kept). */
function inFile(e: unknown, where: string, key: string): never {
  if (e instanceof PsmcError) {
    throw new PsmcError(e.code, `${where}: ${e.message}`, {
      hint: e.hint,
      details: { ...e.details, file: where, key },
      cause: e,
    });
  }
  throw e;
}

export interface ParseOptions {
  /** The file the text came from, for messages. */
  readonly file?: string;
  /** The name the file's name says; the `name` member must equal it (PSMC_PARSE otherwise). */
  readonly expectName?: string;
}

/**
 * Parses and checks the text of a snapshot file. Throws PSMC_PARSE for text
 * that is not a snapshot, PSMC_FORMAT_TOO_NEW for a newer version,
 * PSMC_KEY_SYNTAX / PSMC_KEY_RESERVED / PSMC_VALUE_INVALID /
 * PSMC_VALUE_TOO_LARGE for a bad key or value.
 */
export function parseSnapshot(text: string, options: ParseOptions = {}): SnapshotDocument {
  const where = options.file ?? 'the snapshot';
  if (typeof text !== 'string') throw new TypeError('parseSnapshot takes the text of a file');
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    // Only the position from the parser's message: its excerpt of the text must not reach logs or HTTP bodies.
    const at = /position (\d+)/.exec((cause as Error).message);
    const pos = at === null ? '' : ` at character ${Number(at[1]) + 1}`;
    throw parseError(where, `not valid JSON${pos}; the file may be truncated or damaged.`);
  }
  return checkSnapshot(raw, { ...options, file: where });
}

/** Checks a parsed snapshot document (see parseSnapshot). */
export function checkSnapshot(raw: unknown, options: ParseOptions = {}): SnapshotDocument {
  const where = options.file ?? 'the snapshot';
  if (!isPlainObject(raw)) throw parseError(where, `expected a JSON object, found ${describe(raw)}.`);
  if (raw['format'] !== SNAPSHOT_FORMAT) {
    throw parseError(
      where,
      `"format" must be "${SNAPSHOT_FORMAT}", found ${describe(raw['format'])}; this is not a psmc snapshot.`,
    );
  }
  const version = raw['version'];
  if (!wholeNumber(version, 1))
    throw parseError(where, `"version" must be a whole number ≥ 1, found ${describe(version)}.`);
  if (version > SNAPSHOT_VERSION) {
    throw new PsmcError(
      'PSMC_FORMAT_TOO_NEW',
      `${where} is snapshot version ${version}; this psmc reads version ${SNAPSHOT_VERSION}.`,
      {
        hint: 'Upgrade psmc to read it, or take the snapshot again with this version.',
        details: { file: where },
      },
    );
  }
  for (const m of Object.keys(raw)) {
    if (!TOP_MEMBERS.has(m))
      throw parseError(
        where,
        `unknown member ${JSON.stringify(m)} (a version ${SNAPSHOT_VERSION} snapshot has ${[...TOP_MEMBERS].join(', ')}).`,
      );
  }
  const name = raw['name'];
  assertStoredName(name, where);
  if (options.expectName !== undefined && name !== options.expectName) {
    throw parseError(
      where,
      `the file is named ${JSON.stringify(options.expectName)} but its "name" member says ${JSON.stringify(name)}.`,
    );
  }
  const createdAt = raw['createdAt'];
  if (!isIsoTime(createdAt)) {
    throw parseError(
      where,
      `"createdAt" must be an ISO 8601 UTC time such as "2026-11-26T04:45:41.123Z", found ${describe(createdAt)}.`,
    );
  }
  const revision = raw['revision'];
  if (!wholeNumber(revision, 0))
    throw parseError(where, `"revision" must be a whole number ≥ 0, found ${describe(revision)}.`);
  const reason = raw['reason'];
  if (typeof reason !== 'string' || !(SNAPSHOT_REASONS as readonly string[]).includes(reason)) {
    throw parseError(where, `"reason" must be one of ${SNAPSHOT_REASONS.join(', ')}, found ${describe(reason)}.`);
  }
  const source = raw['source'];
  try {
    assertSource(source);
  } catch (cause) {
    throw parseError(
      where,
      `"source" must be 1–128 printable characters, found ${describe(source)}.`,
      undefined,
      cause,
    );
  }
  const rawEntries = raw['entries'];
  if (!isPlainObject(rawEntries))
    throw parseError(where, `"entries" must be an object of key → entry, found ${describe(rawEntries)}.`);
  const entries: Record<string, SnapshotEntry> = {};
  for (const key of Object.keys(rawEntries)) {
    try {
      assertKey(key);
    } catch (e) {
      inFile(e, where, key);
    }
    const e = rawEntries[key];
    if (!isPlainObject(e))
      throw parseError(where, `entry ${JSON.stringify(key)} must be an object, found ${describe(e)}.`, key);
    for (const m of Object.keys(e)) {
      if (!ENTRY_MEMBERS.has(m))
        throw parseError(where, `entry ${JSON.stringify(key)} has an unknown member ${JSON.stringify(m)}.`, key);
    }
    if (!Object.hasOwn(e, 'value')) throw parseError(where, `entry ${JSON.stringify(key)} has no "value".`, key);
    let value: JsonValue;
    try {
      value = encodeChecked(e['value'], key).value;
    } catch (err) {
      inFile(err, where, key);
    }
    const type = typeOf(value);
    if (e['type'] !== type) {
      throw parseError(
        where,
        `entry ${JSON.stringify(key)}: "type" is ${describe(e['type'])} but the value is of type "${type}".`,
        key,
      );
    }
    const rev = e['revision'];
    if (!wholeNumber(rev, 1) || rev > revision) {
      throw parseError(
        where,
        `entry ${JSON.stringify(key)}: "revision" must be a whole number from 1 to the snapshot's revision ${revision}, found ${describe(rev)}.`,
        key,
      );
    }
    const updatedAt = e['updatedAt'];
    try {
      if (typeof updatedAt !== 'string') throw new TypeError('not a string');
      parseHlc(updatedAt);
    } catch (cause) {
      throw parseError(
        where,
        `entry ${JSON.stringify(key)}: "updatedAt" must be a psmc clock text such as "2026-11-26T04:45:41.123Z-0000", found ${describe(updatedAt)}.`,
        key,
        cause,
      );
    }
    const src = e['source'];
    try {
      assertSource(src);
    } catch (cause) {
      throw parseError(
        where,
        `entry ${JSON.stringify(key)}: "source" must be 1–128 printable characters, found ${describe(src)}.`,
        key,
        cause,
      );
    }
    defineOwn(entries, key, { value, type, revision: rev, updatedAt: updatedAt as string, source: src });
  }
  let schema: SchemaDocument | undefined;
  if (Object.hasOwn(raw, 'schema')) {
    const s = raw['schema'];
    try {
      parseSchemaDocument(s);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw parseError(where, `"schema" is not a valid psmc schema document: ${why}`, undefined, cause);
    }
    schema = s as SchemaDocument;
  }
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    name,
    createdAt,
    revision,
    reason: reason as SnapshotReason,
    source,
    entries,
    ...(schema === undefined ? {} : { schema }),
  };
}

/** What a snapshot is made of, before it is checked (see buildSnapshot). */
export interface SnapshotParts {
  readonly name: string;
  readonly createdAt: string;
  readonly revision: number;
  readonly reason: SnapshotReason;
  readonly source: string;
  /** Key → entry; `type` is recomputed from the value. */
  readonly entries: Readonly<
    Record<
      string,
      { readonly value: unknown; readonly revision: number; readonly updatedAt: string; readonly source: string }
    >
  >;
  readonly schema?: unknown;
}

/** A checked snapshot document from its parts (the same checks as parseSnapshot). */
export function buildSnapshot(parts: SnapshotParts): SnapshotDocument {
  const entries: Record<string, unknown> = {};
  for (const key of Object.keys(parts.entries)) {
    const e = parts.entries[key] as SnapshotParts['entries'][string];
    const value = encodeChecked(e.value, key).value;
    defineOwn(entries, key, {
      value,
      type: typeOf(value),
      revision: e.revision,
      updatedAt: e.updatedAt,
      source: e.source,
    });
  }
  const raw: Record<string, unknown> = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    name: parts.name,
    createdAt: parts.createdAt,
    revision: parts.revision,
    reason: parts.reason,
    source: parts.source,
    entries,
  };
  if (parts.schema !== undefined) raw['schema'] = parts.schema;
  return checkSnapshot(raw, { file: `snapshot ${JSON.stringify(parts.name)}` });
}

/** The key → value pairs of a snapshot, as a plain map. */
export function valuesOf(doc: SnapshotDocument): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const k of Object.keys(doc.entries)) out.set(k, (doc.entries[k] as SnapshotEntry).value);
  return out;
}
