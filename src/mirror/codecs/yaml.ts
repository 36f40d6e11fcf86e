/**
 * The YAML codec: `config.yaml` (§mirror.canonical.yaml). The `yaml` package
 * parses (YAML 1.2, core schema: `yes`/`no`/`on` are strings); values are
 * built here from its node tree, members as own data properties. Anchors,
 * aliases, tags and directives are refused (§mirror.parse): they are outside
 * the subset every client reads, and an alias would let one span edit change
 * another key. A document with no node (`---` alone, comments) is the empty
 * store.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair } from 'yaml';
import type { JsonValue } from '../../core/value.js';
import {
  checkDuplicates,
  checkKey,
  checkLineBreaks,
  checkValue,
  defineMember,
  depthError,
  duplicateError,
  indentAt,
  insertLines,
  isBlank,
  lineStart,
  parseError,
  readHeader,
  removeLines,
  runUpdate,
  splitBom,
  toParsed,
  type Editor,
  type Entry,
  type Layout,
} from './common.js';
import { canonicalEntries } from './render.js';
import { HEADER_TEXT, type MirrorChange, type MirrorCodec, type ParsedMirror } from './types.js';

// ── writing ──────────────────────────────────────────────────────────────

/**
 * A YAML double-quoted string: JSON's escaping (every JSON escape is a YAML
 * one), plus `\uXXXX` for what YAML does not allow raw or some readers take
 * as a line break: U+007F–U+009F, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF.
 */
export function yamlString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

/** Names a YAML 1.1 or 1.2 reader would take for null or a boolean. */
const WORDS = new Set(
  'null Null NULL true True TRUE false False FALSE y Y yes Yes YES n N no No NO on On ON off Off OFF'.split(' '),
);
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A key or member name: plain when no YAML reader could take it for anything but that string. */
export function yamlName(name: string): string {
  return PLAIN_NAME.test(name) && !WORDS.has(name) ? name : yamlString(name);
}

function inline(v: JsonValue): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'string') return yamlString(v);
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  return Object.keys(v).length === 0 ? '{}' : undefined;
}

function mappingLines(members: ReadonlyArray<readonly [string, JsonValue]>, indent: string, out: string[]): void {
  for (const [name, v] of members) {
    const text = inline(v);
    if (text !== undefined) {
      out.push(`${indent}${yamlName(name)}: ${text}`);
      continue;
    }
    out.push(`${indent}${yamlName(name)}:`);
    block(v, indent + '  ', out);
  }
}

function block(v: JsonValue, indent: string, out: string[]): void {
  if (Array.isArray(v)) sequenceLines(v, indent, out);
  else if (typeof v === 'object' && v !== null)
    mappingLines(
      Object.keys(v).map((k) => [k, v[k] as JsonValue]),
      indent,
      out,
    );
}

function sequenceLines(items: readonly JsonValue[], indent: string, out: string[]): void {
  for (const item of items) {
    const text = inline(item);
    if (text !== undefined) {
      out.push(`${indent}- ${text}`);
      continue;
    }
    const at = out.length;
    block(item, indent + '  ', out);
    out[at] = `${indent}- ${(out[at] as string).slice(indent.length + 2)}`;
  }
}

/** The canonical lines of one entry, at indent 0. */
export function yamlEntryLines(key: string, v: JsonValue): string[] {
  const out: string[] = [];
  mappingLines([[key, v]], '', out);
  return out;
}

// ── reading ──────────────────────────────────────────────────────────────

const YAML_HINT =
  'Indent with spaces (not tabs), put a space after ":" and "-", and quote strings holding ": " or " #". See spec/sections/mirror-format.md §mirror.parse.';

function refuse(text: string, offset: number, what: string, hint: string): never {
  throw parseError(text, offset, what, hint);
}

/** The string a mapping key stands for: a plain key as written, a quoted key decoded. */
function keyName(text: string, node: unknown, at: number): string {
  if (!isScalar(node)) {
    return refuse(
      text,
      at,
      'A mapping key is not a plain or quoted string',
      'Write keys as plain words or quoted strings: name: value or "my key": value.',
    );
  }
  if (node.anchor !== undefined || node.tag !== undefined) {
    return refuse(
      text,
      node.range?.[0] ?? at,
      'Anchors (&name) and tags (!tag) are not used in the mirror file',
      'Remove the & or ! part; write every value out in full.',
    );
  }
  if (node.type === 'PLAIN') {
    const src = node.source ?? String(node.value);
    if (src.includes('\n'))
      return refuse(text, node.range?.[0] ?? at, 'A plain key spans lines', 'Write the key on one line, or quote it.');
    if (src === '') return refuse(text, at, 'A mapping key is empty', 'Give every value a key: name: value.');
    return src;
  }
  return String(node.value);
}

interface Ctx {
  text: string;
  key: string;
}

function convert(ctx: Ctx, node: unknown, depth: number, at: number): JsonValue {
  if (node === null || node === undefined) return null;
  const text = ctx.text;
  if (isAlias(node))
    refuse(
      text,
      node.range?.[0] ?? at,
      'Aliases (*name) are not used in the mirror file',
      'Write the value out in full instead of referring to an anchor.',
    );
  const n = node as YamlNode;
  const start = n.range?.[0] ?? at;
  if (n.anchor !== undefined)
    refuse(
      text,
      start,
      'Anchors (&name) are not used in the mirror file',
      'Remove the &name; write every value out in full.',
    );
  if (n.tag !== undefined)
    refuse(
      text,
      start,
      'Tags (!!str, !name …) are not used in the mirror file',
      'Remove the tag; quote a value to make it a string ("123").',
    );
  if (isScalar(n)) {
    const v = n.value;
    if (n.type !== 'PLAIN') return String(v);
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
    return refuse(text, start, 'A value of an unknown kind', YAML_HINT);
  }
  if (depth > 64) throw depthError(text, start, ctx.key);
  if (isSeq(n)) return n.items.map((item) => convert(ctx, item, depth + 1, start));
  if (isMap(n)) {
    const out: Record<string, JsonValue> = {};
    const seen = new Map<string, number>();
    for (const pair of n.items as Array<Pair<unknown, unknown>>) {
      const kAt = (pair.key as YamlNode | null)?.range?.[0] ?? start;
      const name = keyName(text, pair.key, kAt);
      const first = seen.get(name);
      if (first !== undefined) throw duplicateError(text, name, first, kAt, ctx.key);
      seen.set(name, kAt);
      defineMember(out, name, convert(ctx, pair.value, depth + 1, kAt));
    }
    return out;
  }
  return refuse(text, start, 'A value of an unknown kind', YAML_HINT);
}

/** Offset just after a value's last character (not its trailing comments or blank lines). */
function endOf(text: string, node: unknown, colonAfter: number): number {
  if (node === null || node === undefined) return colonAfter;
  const n = node as YamlNode;
  const range = n.range ?? [colonAfter, colonAfter, colonAfter];
  if (isScalar(n)) {
    if (n.value === null && n.type === 'PLAIN' && n.source === '') return colonAfter;
    if (n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED') {
      let e = range[1];
      while (e > range[0] && /\s/.test(text[e - 1] ?? '')) e--;
      return e;
    }
    return range[1];
  }
  if ((isSeq(n) || isMap(n)) && !n.flow && n.items.length > 0) {
    const last = n.items[n.items.length - 1];
    if (isSeq(n)) return endOf(text, last, range[1]);
    const pair = last as Pair<unknown, unknown>;
    return endOf(text, pair.value, afterColon(text, pair.key));
  }
  return range[1];
}

function afterColon(text: string, key: unknown): number {
  const end = (key as YamlNode | null)?.range?.[1] ?? 0;
  const colon = text.indexOf(':', end);
  return colon === -1 ? end : colon + 1;
}

/**
 * Refuses a directive (`%YAML`, `%TAG`, any `%` line before the document):
 * the first line that is neither blank nor a comment starts with `%`.
 */
function refuseDirectives(text: string): void {
  const re = /[ \t]*(?:#.*)?(?:\r?\n|$)/y;
  let p = text.startsWith('\uFEFF') ? 1 : 0;
  while (p < text.length) {
    re.lastIndex = p;
    const m = re.exec(text);
    if (m === null || m[0] === '') break;
    p += m[0].length;
  }
  if (text[p] === '%') {
    refuse(
      text,
      p,
      'Directives (%YAML, %TAG …) are not used in the mirror file',
      'Delete the line starting with "%": the mirror file is plain YAML 1.2 and uses no directives.',
    );
  }
}

/**
 * True for a document with no node at all: nothing but comments, blank lines
 * and the `---` / `...` markers. The parser gives it an empty plain scalar; the
 * mirror reads it as the empty store (§mirror.parse). An anchor or tag on it
 * (`--- &a`) is a node and is refused below.
 */
function isEmptyDocument(root: unknown): boolean {
  return (
    isScalar(root) &&
    root.type === 'PLAIN' &&
    root.value === null &&
    root.source === '' &&
    root.anchor === undefined &&
    root.tag === undefined
  );
}

/** The offset of a `...` document-end line, or -1. Only used when the file has no entries. */
function documentEnd(text: string): number {
  const m = /^\.\.\.(?=[ \t\r\n]|$)/m.exec(text);
  return m === null ? -1 : m.index;
}

function scanYaml(text: string): Layout {
  const header = readHeader(text, '#');
  checkLineBreaks(text);
  refuseDirectives(text);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, {
      version: '1.2',
      schema: 'core',
      uniqueKeys: false,
      merge: false,
      intAsBigInt: false,
      strict: true,
      prettyErrors: true,
    });
  } catch (e) {
    if (e instanceof RangeError) throw depthError(text, 0, undefined);
    throw e;
  }
  const err = doc.errors[0];
  if (err !== undefined) {
    // The parser reports its own stack overflow on absurd nesting as an error of the document.
    if (/call stack/i.test(err.message)) throw depthError(text, err.pos[0], undefined);
    const what = (err.message.split('\n')[0] ?? 'Not valid YAML').replace(/ at line \d+, column \d+:?$/, '');
    // From the offset, so the column counts code points as §mirror.parse says.
    throw parseError(text, err.pos[0], what, YAML_HINT);
  }
  const root = doc.contents;
  const entries: Entry[] = [];
  if (root !== null && !isEmptyDocument(root)) {
    if (!isMap(root) || root.flow === true) {
      refuse(
        text,
        (root as YamlNode).range?.[0] ?? 0,
        'The top level of the file is not a block mapping',
        'Write one "key: value" line per key, e.g. display.units: "metric".',
      );
    }
    if (root.anchor !== undefined || root.tag !== undefined)
      refuse(text, root.range?.[0] ?? 0, 'Anchors and tags are not used in the mirror file', 'Remove the & or ! part.');
    for (const pair of root.items as Array<Pair<unknown, unknown>>) {
      const kNode = pair.key as YamlNode | null;
      const at = kNode?.range?.[0] ?? root.range?.[0] ?? 0;
      if (!isBlank(text.slice(lineStart(text, at), at))) {
        refuse(
          text,
          at,
          'A top-level entry does not start its own line',
          'Write each top-level entry as "key: value" at the start of a line (no "?" or "---" before it).',
        );
      }
      const key = keyName(text, pair.key, at);
      checkKey(key, text, at);
      const valueNode = pair.value as YamlNode | null;
      const valueAt = valueNode?.range?.[0] ?? at;
      const checked = checkValue(convert({ text, key }, valueNode, 1, valueAt), key, text, valueAt);
      entries.push({
        key,
        value: checked.value,
        encoded: checked.text,
        start: at,
        end: endOf(text, valueNode, afterColon(text, kNode)),
      });
    }
  }
  checkDuplicates(text, entries);
  return { entries, header };
}

function entryText(key: string, value: JsonValue, indent: string, nl: string): string {
  return yamlEntryLines(key, value).join(nl + indent);
}

const isComment = (line: string): boolean => /^[ \t]*#/.test(line);

const editor: Editor = {
  scan: scanYaml,
  replace(text, layout, index, value) {
    const e = layout.entries[index] as Entry;
    const nl = text.includes('\r\n') ? '\r\n' : '\n';
    return text.slice(0, e.start) + entryText(e.key, value, indentAt(text, e.start), nl) + text.slice(e.end);
  },
  remove(text, layout, index) {
    const e = layout.entries[index] as Entry;
    return removeLines(text, e.start, e.end);
  },
  insert(text, layout, key, value) {
    // A file with no entries that ends its document with `...`: the entry goes before that line.
    const end = layout.entries.length === 0 ? documentEnd(text) : -1;
    if (end !== -1) {
      const nl = text.includes('\r\n') ? '\r\n' : '\n';
      return text.slice(0, end) + entryText(key, value, '', nl) + nl + text.slice(end);
    }
    return insertLines(text, layout, key, (indent, nl) => entryText(key, value, indent, nl), isComment);
  },
};

export const yamlCodec: MirrorCodec = {
  format: 'yaml',
  parse(text: string): ParsedMirror {
    return toParsed(scanYaml(splitBom(text)[1]));
  },
  render(entries): string {
    const lines = [`# ${HEADER_TEXT}`];
    for (const [k, v] of canonicalEntries(entries)) lines.push(...yamlEntryLines(k, v));
    return lines.join('\n') + '\n';
  },
  update(text: string, changes: ReadonlyArray<MirrorChange>): string {
    return runUpdate(text, changes, editor);
  },
};
