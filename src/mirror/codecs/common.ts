/**
 * What the three codecs share: positions, the header line, errors that carry
 * line and column, the key and value checks, and the span-edit engine of
 * `update` (spec/sections/mirror-format.md §mirror.update). Pure: no I/O.
 */
import { PsmcError } from '../../core/errors.js';
import { assertKey, isValidKey, keyError } from '../../core/keys.js';
import { encodeChecked, type JsonValue } from '../../core/value.js';
import { MIRROR_VERSION, type MirrorChange, type ParsedMirror } from './types.js';

/** One top-level entry of a parsed file and where its text lies. */
export interface Entry {
  readonly key: string;
  /** The checked value (§value.limits). */
  readonly value: JsonValue;
  /** Its encoded form (§value.encoding), to tell a changed value from an unchanged one. */
  readonly encoded: string;
  /** Offset of the entry's first character (the key). */
  readonly start: number;
  /** Offset just after the entry's value. */
  readonly end: number;
}

export interface Layout {
  readonly entries: readonly Entry[];
  readonly header: { version: number } | undefined;
}

// ── positions ────────────────────────────────────────────────────────────

/** 1-based line and column (in code points) of `offset` in `text`. */
export function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStartAt = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStartAt = i + 1;
  }
  let column = 1;
  for (let i = lineStartAt; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    column++;
  }
  return { line, column };
}

export function lineStart(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the `\n` ending the line holding `offset`, or text.length. */
export function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i === -1 ? text.length : i;
}

/** The newline of inserted lines: CRLF when the file already uses it, else LF. */
export function newlineOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

const BLANK = /^[ \t\r]*$/;
export function isBlank(s: string): boolean {
  return BLANK.test(s);
}

// ── errors ───────────────────────────────────────────────────────────────

/** PSMC_PARSE at `offset`: the message says what, the hint how to fix it. */
export function parseError(
  text: string,
  offset: number,
  what: string,
  hint: string,
  extra: Record<string, unknown> = {},
): PsmcError {
  const { line, column } = position(text, offset);
  return new PsmcError('PSMC_PARSE', `${what} (line ${line}, column ${column}).`, {
    hint,
    details: { ...extra, line, column },
  });
}

/** PSMC_PARSE at a known line and column. */
export function parseErrorAt(line: number, column: number, what: string, hint: string, cause?: unknown): PsmcError {
  return new PsmcError('PSMC_PARSE', `${what} (line ${line}, column ${column}).`, {
    hint,
    details: { line, column },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throws the key error of §key with the entry's position added, unless `name` is a legal key. */
export function checkKey(name: string, text: string, offset: number): void {
  if (isValidKey(name)) return;
  const e = keyError(name);
  const { line, column } = position(text, offset);
  throw new PsmcError(
    e.code,
    `${e.message} A top-level name of the mirror is a key (line ${line}, column ${column}).`,
    {
      hint: e.hint,
      details: { ...e.details, key: name, line, column },
    },
  );
}

/** Checks a value against §value.limits, reporting the entry's position on failure. */
export function checkValue(
  value: unknown,
  key: string,
  text: string,
  offset: number,
): { value: JsonValue; text: string } {
  try {
    return encodeChecked(value, key);
  } catch (e) {
    if (!(e instanceof PsmcError)) throw e;
    const { line, column } = position(text, offset);
    throw new PsmcError(e.code, `${e.message} (line ${line}, column ${column})`, {
      hint: e.hint,
      details: { ...e.details, key, line, column },
      cause: e,
    });
  }
}

/** The error for a name given twice in one mapping, naming both lines. */
export function duplicateError(
  text: string,
  name: string,
  firstOffset: number,
  secondOffset: number,
  key?: string,
): PsmcError {
  const a = position(text, firstOffset);
  const b = position(text, secondOffset);
  const what =
    key === undefined
      ? `The key ${JSON.stringify(name)}`
      : `The member ${JSON.stringify(name)} in the value of key ${JSON.stringify(key)}`;
  return new PsmcError(
    'PSMC_PARSE',
    `${what} appears twice: on line ${a.line} (column ${a.column}) and on line ${b.line} (column ${b.column}).`,
    {
      hint: 'Keep one of the two entries and delete the other.',
      details: {
        ...(key === undefined ? { key: name } : { key }),
        line: b.line,
        column: b.column,
        firstLine: a.line,
        firstColumn: a.column,
      },
    },
  );
}

/** PSMC_VALUE_INVALID for nesting deeper than the value rules allow, raised before any recursion can overflow. */
export function depthError(text: string, offset: number, key: string | undefined): PsmcError {
  const { line, column } = position(text, offset);
  return new PsmcError('PSMC_VALUE_INVALID', `A value nests deeper than 64 levels (line ${line}, column ${column}).`, {
    hint: 'Flatten the value; at most 64 nested arrays/objects are allowed.',
    details: { ...(key === undefined ? {} : { key }), line, column },
  });
}

// ── objects built from untrusted text ────────────────────────────────────

/**
 * Adds a member as an own data property. Plain assignment of `__proto__`
 * would change the object's prototype; defineProperty never does, so the
 * value checks then see the member and refuse it (§value.limits 3).
 */
export function defineMember(o: Record<string, JsonValue>, name: string, value: JsonValue): void {
  Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
}

// ── the header ───────────────────────────────────────────────────────────

/**
 * Reads the header from line 1 (§mirror.header). `marker` is the comment
 * marker as a regex source (`//` or `#`). Throws PSMC_FORMAT_TOO_NEW for a
 * newer version and PSMC_PARSE for version 0.
 */
export function readHeader(text: string, marker: string): { version: number } | undefined {
  const first = text.slice(0, lineEnd(text, 0));
  const m = new RegExp(`^[ \\t]*${marker}[ \\t]*psmc mirror v([0-9]+)(?![0-9A-Za-z_])`).exec(first);
  if (m === null) return undefined;
  const digits = m[1] ?? '';
  const column = (m.index ?? 0) + m[0].length - digits.length;
  const version = Number(digits);
  if (version > MIRROR_VERSION) {
    throw new PsmcError(
      'PSMC_FORMAT_TOO_NEW',
      `The mirror file says it is psmc mirror v${digits}; this psmc reads v${MIRROR_VERSION} (line 1, column ${column}).`,
      {
        hint: 'Upgrade psmc, or delete the file to have it written again from the store.',
        details: { line: 1, column, version },
      },
    );
  }
  if (version < 1) {
    throw parseErrorAt(
      1,
      column,
      `The header names mirror version ${digits}, which does not exist`,
      `Write "psmc mirror v${MIRROR_VERSION}" in the header, or delete the header line.`,
    );
  }
  return { version };
}

const LONE_CR = /\r(?!\n)/;

/**
 * Refuses a CR that does not start a CRLF (§mirror.parse, line breaks), wherever
 * it is: between tokens, in a comment, inside a string, at the end. Lines,
 * columns and the line-wise edits of update count LF only, and readers and
 * editors disagree on whether a lone CR starts a line (YAML says it does, TOML
 * forbids it, JSONC ends a `//` comment there), so one reading is refused by all.
 * Runs after the header and before the format's own syntax.
 */
export function checkLineBreaks(text: string): void {
  const m = LONE_CR.exec(text);
  if (m === null) return;
  throw parseError(
    text,
    m.index,
    'A carriage return (CR) that is not followed by a line feed: lines end with LF or CRLF',
    'Save the file with LF or CRLF line endings (the line-ending setting of your editor); a CR on its own, the classic Mac OS line ending, is not read.',
  );
}

/** Strips a leading byte order mark (kept by update, ignored by parse). */
export function splitBom(text: string): [bom: string, rest: string] {
  return text.charCodeAt(0) === 0xfeff ? ['\ufeff', text.slice(1)] : ['', text];
}

export function toParsed(layout: Layout): ParsedMirror {
  const values = new Map<string, JsonValue>();
  for (const e of layout.entries) values.set(e.key, e.value);
  return { values, header: layout.header };
}

/** Throws the duplicate-key error when a top-level key is given twice. */
export function checkDuplicates(text: string, entries: readonly Entry[]): void {
  const seen = new Map<string, number>();
  for (const e of entries) {
    const first = seen.get(e.key);
    if (first !== undefined) throw duplicateError(text, e.key, first, e.start);
    seen.set(e.key, e.start);
  }
}

// ── update ───────────────────────────────────────────────────────────────

/** What a codec supplies to the span-edit engine. */
export interface Editor {
  /** Parses text with positions (throws as `parse` does). Text has no BOM. */
  scan(text: string): Layout;
  /** Replaces entry `index` by the canonical text of `key` = `value`. */
  replace(text: string, layout: Layout, index: number, value: JsonValue): string;
  remove(text: string, layout: Layout, index: number): string;
  insert(text: string, layout: Layout, key: string, value: JsonValue): string;
}

/** Checks the changes as a batch would: legal keys, legal values, no key twice. */
function checkChanges(
  changes: ReadonlyArray<MirrorChange>,
): Array<{ key: string; value: JsonValue | undefined; encoded: string | undefined }> {
  if (!Array.isArray(changes)) throw new TypeError('changes must be an array of { key, value }');
  const seen = new Set<string>();
  const out: Array<{ key: string; value: JsonValue | undefined; encoded: string | undefined }> = [];
  for (const c of changes) {
    assertKey(c.key);
    if (seen.has(c.key)) {
      throw new PsmcError('PSMC_USAGE', `The key ${JSON.stringify(c.key)} appears twice in one mirror update.`, {
        hint: 'Give each key once per update.',
        details: { key: c.key },
      });
    }
    seen.add(c.key);
    if (c.value === undefined) out.push({ key: c.key, value: undefined, encoded: undefined });
    else {
      const checked = encodeChecked(c.value, c.key);
      out.push({ key: c.key, value: checked.value, encoded: checked.text });
    }
  }
  // Byte order: keys are ASCII, so UTF-16 order is byte order.
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Applies changes one at a time in key order (§mirror.update), scanning the
 * text again after each edit so every edit sees exact positions.
 */
export function runUpdate(text: string, changes: ReadonlyArray<MirrorChange>, editor: Editor): string {
  const list = checkChanges(changes);
  const [bom, body] = splitBom(text);
  let t = body;
  let layout = editor.scan(t);
  for (const c of list) {
    const index = layout.entries.findIndex((e) => e.key === c.key);
    const current = layout.entries[index];
    let next: string;
    if (c.value === undefined) {
      if (current === undefined) continue;
      next = editor.remove(t, layout, index);
    } else if (current !== undefined) {
      if (current.encoded === c.encoded) continue;
      next = editor.replace(t, layout, index, c.value);
    } else {
      next = editor.insert(t, layout, c.key, c.value);
    }
    try {
      layout = editor.scan(next);
    } catch (e) {
      throw new PsmcError(
        'PSMC_INTERNAL',
        `Updating the mirror for key ${JSON.stringify(c.key)} produced text that does not parse.`,
        {
          hint: 'This is a bug in psmc; please report it with the file. Deleting the file makes psmc write it again.',
          details: { key: c.key },
          cause: e,
        },
      );
    }
    t = next;
  }
  return bom + t;
}

/** True when the entries' keys are in strictly ascending byte order (0 or 1 entries count as sorted). */
export function isSorted(entries: readonly Entry[]): boolean {
  for (let i = 1; i < entries.length; i++)
    if (!((entries[i - 1] as Entry).key < (entries[i] as Entry).key)) return false;
  return true;
}

/** The whitespace before `offset` on its line when only whitespace precedes it, else ''. */
export function indentAt(text: string, offset: number): string {
  const before = text.slice(lineStart(text, offset), offset);
  return /^[ \t]*$/.test(before) ? before : (/^[ \t]*/.exec(before)?.[0] ?? '');
}

/** Prefixes every line after the first with `indent`. */
export function indentRest(s: string, indent: string, nl: string): string {
  if (!s.includes('\n')) return s;
  return s.split('\n').join(nl + indent);
}

/**
 * Removes entry text [start, end) line-wise (TOML and YAML, §mirror.update):
 * when nothing but blanks shares its lines, the whole lines go; otherwise
 * only the entry and the blanks after it, so a trailing comment stays.
 */
export function removeLines(text: string, start: number, end: number): string {
  const ls = lineStart(text, start);
  const le = lineEnd(text, end);
  if (isBlank(text.slice(ls, start)) && isBlank(text.slice(end, le))) {
    return text.slice(0, ls) + text.slice(le < text.length ? le + 1 : le);
  }
  let e = end;
  while (text[e] === ' ' || text[e] === '\t') e++;
  return text.slice(0, start) + text.slice(e);
}

/**
 * Inserts a new entry as whole lines (TOML and YAML, §mirror.update).
 * `entryText(indent)` gives the entry's text with later lines indented.
 */
export function insertLines(
  text: string,
  layout: Layout,
  key: string,
  entryText: (indent: string, nl: string) => string,
  isCommentLine: (line: string) => boolean,
): string {
  const nl = newlineOf(text);
  const entries = layout.entries;
  if (entries.length === 0) {
    const base = text.length > 0 && !text.endsWith('\n') ? text + nl : text;
    return base + entryText('', nl) + nl;
  }
  const sorted = isSorted(entries);
  const first = entries[0] as Entry;
  if (sorted && key < first.key) {
    const indent = indentAt(text, first.start);
    let at = lineStart(text, first.start);
    // Go above the comment lines right over the first entry: they describe it and stay with it.
    while (at > 0) {
      const prev = lineStart(text, at - 1);
      if (prev === 0 && layout.header !== undefined) break;
      if (!isCommentLine(text.slice(prev, at - 1))) break;
      at = prev;
    }
    return text.slice(0, at) + indent + entryText(indent, nl) + nl + text.slice(at);
  }
  let p = entries[entries.length - 1] as Entry;
  if (sorted) for (const e of entries) if (e.key < key) p = e;
  const indent = indentAt(text, p.start);
  const le = lineEnd(text, p.end);
  if (le === text.length) return text + nl + indent + entryText(indent, nl);
  return text.slice(0, le + 1) + indent + entryText(indent, nl) + nl + text.slice(le + 1);
}
