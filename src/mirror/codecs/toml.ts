/**
 * The TOML codec: `config.toml` (§mirror.canonical.toml). smol-toml checks the
 * whole file against TOML 1.0 and reports syntax errors with their position;
 * the reader below then walks the (valid) text itself, because the mirror
 * needs what smol-toml does not give: the position of every top-level entry
 * (for errors and span edits) and the exact text of date-time literals.
 * TOML cannot hold null, so a value holding null (or a value that is itself
 * a one-member object named `$json`) is written `{ "$json" = "<JSON text>" }`.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { PsmcError } from '../../core/errors.js';
import { decodeValue, type JsonValue } from '../../core/value.js';
import {
  checkDuplicates,
  checkKey,
  checkLineBreaks,
  checkValue,
  defineMember,
  depthError,
  duplicateError,
  insertLines,
  parseError,
  parseErrorAt,
  position,
  readHeader,
  removeLines,
  runUpdate,
  splitBom,
  toParsed,
  type Editor,
  type Entry,
  type Layout,
} from './common.js';
import { canonicalEntries, holdsNull } from './render.js';
import { HEADER_TEXT, type MirrorChange, type MirrorCodec, type ParsedMirror } from './types.js';

// ── writing ──────────────────────────────────────────────────────────────

/** A TOML basic string: JSON's escaping (valid TOML), plus U+007F, which TOML requires escaped. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\u007f/g, '\\u007f');
}

const BARE = /^[A-Za-z0-9_-]+$/;

function tomlName(name: string): string {
  return BARE.test(name) ? name : tomlString(name);
}

/** An inline TOML value; the caller has made sure it holds no null. */
function tomlValue(v: JsonValue): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (v === null) throw new Error('tomlValue: null has no TOML form (wrap the value in $json)');
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  const names = Object.keys(v);
  if (names.length === 0) return '{}';
  return `{ ${names.map((n) => `${tomlName(n)} = ${tomlValue(v[n] as JsonValue)}`).join(', ')} }`;
}

function isDollarJson(v: JsonValue): boolean {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && Object.hasOwn(v, '$json')
  );
}

/** One canonical line, without its newline. */
export function tomlEntry(key: string, v: JsonValue): string {
  if (holdsNull(v) || isDollarJson(v)) return `${tomlString(key)} = { "$json" = ${tomlString(JSON.stringify(v))} }`;
  return `${tomlString(key)} = ${tomlValue(v)}`;
}

// ── reading ──────────────────────────────────────────────────────────────

/** The reader met text it does not expect (only possible in text smol-toml refused). */
class ScanStop extends Error {
  constructor(readonly offset: number) {
    super('unexpected TOML text');
  }
}

interface KeyPart {
  name: string;
  at: number;
  bare: boolean;
}

class Reader {
  pos = 0;
  key: string | undefined;
  constructor(readonly text: string) {}

  get eof(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 0): string {
    return this.text[this.pos + n] ?? '';
  }
  fail(): never {
    throw new ScanStop(this.pos);
  }
  skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Blanks, newlines and comments. */
  skipSpace(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#') {
        const nl = this.text.indexOf('\n', this.pos);
        this.pos = nl === -1 ? this.text.length : nl;
      } else return;
    }
  }

  keyPath(): KeyPart[] {
    const parts: KeyPart[] = [];
    for (;;) {
      this.skipBlanks();
      const at = this.pos;
      const c = this.peek();
      if (c === '"') parts.push({ name: this.basicString(), at, bare: false });
      else if (c === "'") parts.push({ name: this.literalString(), at, bare: false });
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.pos, this.pos + 1024));
        if (m === null) this.fail();
        this.pos += m[0].length;
        parts.push({ name: m[0], at, bare: true });
      }
      this.skipBlanks();
      if (this.peek() !== '.') return parts;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    const c = this.peek();
    if (c === '"') return this.text.startsWith('"""', this.pos) ? this.multiline('"') : this.basicString();
    if (c === "'") return this.text.startsWith("'''", this.pos) ? this.multiline("'") : this.literalString();
    if (c === '[') return this.array(depth + 1);
    if (c === '{') return this.table(depth + 1);
    return this.scalar();
  }

  array(depth: number): JsonValue[] {
    if (depth > 65) throw depthError(this.text, this.pos, this.key);
    this.pos++;
    const out: JsonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === ']') break;
      out.push(this.value(depth));
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') this.fail();
    }
    this.pos++;
    return out;
  }

  table(depth: number): Record<string, JsonValue> {
    if (depth > 65) throw depthError(this.text, this.pos, this.key);
    this.pos++;
    const out: Record<string, JsonValue> = {};
    const seen = new Map<string, number>();
    for (;;) {
      this.skipSpace();
      if (this.peek() === '}') break;
      const path = this.keyPath();
      if (this.peek() !== '=') this.fail();
      this.pos++;
      this.skipBlanks();
      const v = this.value(depth);
      let target = out;
      for (let i = 0; i < path.length - 1; i++) {
        const part = path[i] as KeyPart;
        const existing = Object.hasOwn(target, part.name) ? target[part.name] : undefined;
        if (existing === undefined) {
          const inner: Record<string, JsonValue> = {};
          defineMember(target, part.name, inner);
          target = inner;
        } else if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) target = existing;
        else this.fail();
      }
      const last = path[path.length - 1] as KeyPart;
      const id = path.map((p) => p.name).join('\u0000');
      const first = seen.get(id);
      if (first !== undefined || Object.hasOwn(target, last.name)) {
        throw duplicateError(this.text, last.name, first ?? last.at, last.at, this.key);
      }
      seen.set(id, last.at);
      defineMember(target, last.name, v);
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail();
    }
    this.pos++;
    return out;
  }

  basicString(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') this.fail();
      this.pos++;
      if (c === '"') return out;
      out += c === '\\' ? this.escape() : c;
    }
  }

  literalString(): string {
    const end = this.text.indexOf("'", this.pos + 1);
    if (end === -1) this.fail();
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  /** `"""…"""` or `'''…'''`; a newline right after the opening goes, CRLF reads as LF. */
  multiline(q: '"' | "'"): string {
    this.pos += 3;
    if (this.peek() === '\n') this.pos++;
    else if (this.peek() === '\r' && this.peek(1) === '\n') this.pos += 2;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail();
      if (c === q && this.text.startsWith(q + q + q, this.pos)) {
        let run = 3;
        while (this.peek(run) === q && run < 5) run++;
        out += q.repeat(run - 3);
        this.pos += run;
        return out;
      }
      this.pos++;
      if (c === '\r' && this.peek() === '\n') continue;
      if (c === '\\' && q === '"') {
        // A line-ending backslash eats the newline and the blanks after it.
        let p = this.pos;
        while (this.text[p] === ' ' || this.text[p] === '\t') p++;
        if (this.text[p] === '\n' || (this.text[p] === '\r' && this.text[p + 1] === '\n')) {
          this.pos = p;
          while (/[ \t\r\n]/.test(this.peek())) this.pos++;
          continue;
        }
        out += this.escape();
      } else out += c;
    }
  }

  escape(): string {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case 'b':
        return '\b';
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'f':
        return '\f';
      case 'r':
        return '\r';
      case 'e':
        return '\u001b';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'x':
      case 'u':
      case 'U': {
        const n = c === 'x' ? 2 : c === 'u' ? 4 : 8;
        const hex = this.text.slice(this.pos, this.pos + n);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== n) this.fail();
        this.pos += n;
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail();
        return String.fromCodePoint(cp);
      }
      default:
        this.fail();
    }
  }

  /** Booleans, numbers and date-times. */
  scalar(): JsonValue {
    const start = this.pos;
    while (!this.eof && !',]}#\r\n'.includes(this.peek())) this.pos++;
    let end = this.pos;
    while (end > start && (this.text[end - 1] === ' ' || this.text[end - 1] === '\t')) end--;
    this.pos = end;
    const tok = this.text.slice(start, end);
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    // A date-time is read as its text, exactly as written (§mirror.parse).
    if (/^\d{4}-\d{2}-\d{2}/.test(tok) || /^\d{2}:\d{2}/.test(tok)) return tok;
    const m = /^([+-]?)(inf|nan)$/.exec(tok);
    if (m !== null) return m[2] === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity;
    const plain = tok.replace(/_/g, '');
    if (/^0[xob]/.test(plain)) return Number(plain);
    if (/^[+-]?\d/.test(plain)) {
      const n = Number(plain);
      if (!Number.isNaN(n)) return n;
    }
    return this.fail();
  }
}

/** Walks the root statements, checking keys and values in file order. */
function statements(text: string): Entry[] {
  const r = new Reader(text);
  const entries: Entry[] = [];
  for (;;) {
    r.skipSpace();
    if (r.eof) return entries;
    const at = r.pos;
    if (r.peek() === '[') {
      throw parseError(
        text,
        at,
        'Table headers ([table] or [[array]]) are not used in the mirror file',
        'The mirror is flat: one "key" = value line per key. Write an object value as an inline table on its line: "display.window" = { width = 800, height = 600 }.',
      );
    }
    const path = r.keyPath();
    const head = path[0] as KeyPart;
    if (path.length > 1) {
      const name = path.map((p) => p.name).join('.');
      throw parseError(
        text,
        at,
        head.bare
          ? `The key ${name} is not quoted, and in TOML an unquoted dotted key means nested tables`
          : `The dotted key ${text.slice(at, r.pos).trim()} makes nested tables`,
        head.bare
          ? `Quote the whole key: ${tomlString(name)} = …`
          : 'Write one quoted key per line, with an object value as an inline table: "key" = { member = 1 }.',
      );
    }
    checkKey(head.name, text, at);
    if (r.peek() !== '=') r.fail();
    r.pos++;
    r.skipBlanks();
    const valueAt = r.pos;
    r.key = head.name;
    const value = unwrap(r.value(0), head.name, text, valueAt);
    const end = r.pos;
    const checked = checkValue(value, head.name, text, valueAt);
    entries.push({ key: head.name, value: checked.value, encoded: checked.text, start: at, end });
  }
}

/** Undoes the `$json` wrapping of §mirror.values. */
function unwrap(v: JsonValue, key: string, text: string, at: number): JsonValue {
  if (
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    Object.keys(v).length !== 1 ||
    !Object.hasOwn(v, '$json')
  )
    return v;
  const inner = v['$json'];
  if (typeof inner !== 'string') {
    throw parseError(
      text,
      at,
      `The "$json" member of key ${JSON.stringify(key)} is not a string`,
      'Write "$json" = "<JSON text>", e.g. { "$json" = "[1, null]" }, or give the value without $json.',
      { key },
    );
  }
  try {
    return decodeValue(inner, key);
  } catch (e) {
    if (!(e instanceof PsmcError)) throw e;
    const { line, column } = position(text, at);
    throw new PsmcError(e.code, `${e.message} (in the "$json" text, line ${line}, column ${column})`, {
      hint: e.hint,
      details: { ...e.details, key, line, column },
      cause: e,
    });
  }
}

/** Best effort for a file smol-toml refused: the first top-level key given twice, if any. */
function rootDuplicate(text: string): PsmcError | undefined {
  const seen = new Map<string, number>();
  const r = new Reader(text);
  try {
    for (;;) {
      r.skipSpace();
      if (r.eof || r.peek() === '[') return undefined;
      const at = r.pos;
      const path = r.keyPath();
      const name = path.map((p) => p.name).join('\u0000');
      const first = seen.get(name);
      if (first !== undefined) return duplicateError(text, path.map((p) => p.name).join('.'), first, at);
      seen.set(name, at);
      if (r.peek() !== '=') return undefined;
      r.pos++;
      r.skipBlanks();
      r.value(0);
    }
  } catch (e) {
    // The reader stops at the syntax error smol-toml reported; that error is the one to show.
    if (e instanceof ScanStop || e instanceof PsmcError) return undefined;
    throw e;
  }
}

const TOML_HINT =
  'Check quotes, "=" and brackets. The mirror writes one line per key: "display.units" = "metric". See spec/sections/mirror-format.md §mirror.parse.';

function scanToml(text: string): Layout {
  const header = readHeader(text, '#');
  checkLineBreaks(text);
  try {
    parseToml(text, { integersAsBigInt: 'asNeeded', maxDepth: 200 });
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    if (/nested/i.test(e.message)) throw depthError(text, 0, undefined);
    const dup = rootDuplicate(text);
    if (dup !== undefined) throw dup;
    const what = (e.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '') || 'Not valid TOML';
    // smol-toml counts columns in UTF-16 units; §mirror.parse counts code points.
    const lineText = text.split('\n')[e.line - 1] ?? '';
    const column = [...lineText.slice(0, Math.max(e.column - 1, 0))].length + 1;
    throw parseErrorAt(e.line, column, what.charAt(0).toUpperCase() + what.slice(1), TOML_HINT, e);
  }
  let entries: Entry[];
  try {
    entries = statements(text);
  } catch (e) {
    if (e instanceof ScanStop) throw parseError(text, e.offset, 'Unexpected text', TOML_HINT);
    throw e;
  }
  checkDuplicates(text, entries);
  return { entries, header };
}

const isComment = (line: string): boolean => /^[ \t]*#/.test(line);

const editor: Editor = {
  scan: scanToml,
  replace(text, layout, index, value) {
    const e = layout.entries[index] as Entry;
    return text.slice(0, e.start) + tomlEntry(e.key, value) + text.slice(e.end);
  },
  remove(text, layout, index) {
    const e = layout.entries[index] as Entry;
    return removeLines(text, e.start, e.end);
  },
  insert(text, layout, key, value) {
    return insertLines(text, layout, key, () => tomlEntry(key, value), isComment);
  },
};

export const tomlCodec: MirrorCodec = {
  format: 'toml',
  parse(text: string): ParsedMirror {
    return toParsed(scanToml(splitBom(text)[1]));
  },
  render(entries): string {
    return (
      `# ${HEADER_TEXT}\n` +
      canonicalEntries(entries)
        .map(([k, v]) => tomlEntry(k, v) + '\n')
        .join('')
    );
  },
  update(text: string, changes: ReadonlyArray<MirrorChange>): string {
    return runUpdate(text, changes, editor);
  },
};
