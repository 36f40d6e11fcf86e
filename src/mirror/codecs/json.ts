/**
 * The JSONC codec: `config.json` (§mirror.canonical.json). JSON with `//` and
 * `/* *\/` comments and trailing commas when read. jsonc-parser scans the text
 * (errors with offsets, tokens with offsets); values are built here, members
 * as own data properties, so a `__proto__` member never reaches a prototype
 * (jsonc-parser's own `parse` assigns members with `obj[name] = value`).
 */
import { printParseErrorCode, visit, type ParseErrorCode } from 'jsonc-parser';
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
  indentRest,
  isBlank,
  isSorted,
  lineEnd,
  lineStart,
  newlineOf,
  parseError,
  readHeader,
  runUpdate,
  splitBom,
  toParsed,
  type Editor,
  type Entry,
  type Layout,
} from './common.js';
import { canonicalEntries } from './render.js';
import { HEADER_TEXT, type MirrorChange, type MirrorCodec, type ParsedMirror } from './types.js';

interface JsonEntry extends Entry {
  /** Offset of the `,` after this member, or -1. */
  readonly comma: number;
}

interface JsonLayout extends Layout {
  readonly entries: readonly JsonEntry[];
  /** Offsets of the root object's `{` and `}`. */
  readonly open: number;
  readonly close: number;
}

const OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false } as const;

const SYNTAX: Record<string, [what: string, hint: string]> = {
  InvalidSymbol: [
    'Unexpected character',
    'Check for a missing quote, comma or bracket; strings and member names need double quotes.',
  ],
  InvalidNumberFormat: [
    'Malformed number',
    'Write numbers as JSON does: 12, -0.5, 1e-7 (no leading zeros, no hex, no NaN or Infinity).',
  ],
  PropertyNameExpected: [
    'A member name is expected',
    'Write member names in double quotes: "display.units": "metric".',
  ],
  ValueExpected: [
    'A value is expected',
    'Give a JSON value after the colon: a string in double quotes, a number, true, false, null, an array or an object.',
  ],
  ColonExpected: [
    '":" is expected after the member name',
    'Separate each name from its value with a colon: "display.units": "metric".',
  ],
  CommaExpected: ['"," is expected between members', 'Put a comma after each member except, optionally, the last.'],
  CloseBraceExpected: ['"}" is expected', 'Close every object with "}".'],
  CloseBracketExpected: ['"]" is expected', 'Close every array with "]".'],
  EndOfFileExpected: [
    'Nothing may follow the closing "}" of the file',
    'Keep all entries inside the one top-level object.',
  ],
  InvalidCommentToken: ['Malformed comment', 'Comments are // to the end of the line, or /* … */.'],
  UnexpectedEndOfComment: ['The /* comment is never closed', 'Close the comment with */.'],
  UnexpectedEndOfString: [
    'The string is never closed',
    'Close the string with a double quote on the same line; write a line break inside a string as \\n.',
  ],
  UnexpectedEndOfNumber: ['The number is cut short', 'Write digits after "-", "." or the exponent.'],
  InvalidUnicode: ['Malformed \\u escape', 'Write \\u followed by exactly four hex digits, e.g. \\u00e9.'],
  InvalidEscapeCharacter: [
    'Unknown escape in a string',
    'JSON strings know \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a backslash as \\\\.',
  ],
  InvalidCharacter: [
    'A control character inside a string',
    'Escape control characters in strings: \\n, \\t, or \\u0000 … \\u001f.',
  ],
};

type Frame =
  | { kind: 'object'; value: Record<string, JsonValue>; names: Map<string, number>; name: string; nameAt: number }
  | { kind: 'array'; value: JsonValue[] };

/** Parses with positions. Text has no BOM. */
export function scanJson(text: string): JsonLayout {
  const header = readHeader(text, '//');
  checkLineBreaks(text);
  // Pass 1: syntax only, so a syntax error anywhere is reported before any key or value problem.
  let syntax: { code: ParseErrorCode; offset: number } | undefined;
  guardStack(text, () => visit(text, { onError: (code, offset) => void (syntax ??= { code, offset }) }, OPTIONS));
  if (syntax !== undefined) {
    const name = printParseErrorCode(syntax.code);
    const [what, hint] = SYNTAX[name] ?? ['Not valid JSON', 'Check quotes, commas and brackets.'];
    const empty = name === 'ValueExpected' && /^\s*$/.test(stripComments(text));
    if (empty)
      throw parseError(
        text,
        syntax.offset,
        'The file holds no object',
        'A mirror file is one JSON object; an empty store is written {}.',
      );
    let at = syntax.offset;
    if (name === 'InvalidCharacter') {
      // jsonc-parser points at the string; point at the character itself.
      const m = /[\u0000-\u001f]/.exec(text.slice(at));
      if (m !== null) at += m.index;
    }
    throw parseError(text, at, what, hint);
  }
  // Pass 2: build the entries.
  const entries: JsonEntry[] = [];
  const stack: Frame[] = [];
  let open = -1;
  let close = -1;
  let key = '';
  let keyAt = 0;
  let valueAt = 0;
  const finish = (v: JsonValue, end: number): void => {
    const parent = stack[stack.length - 1];
    if (parent === undefined) return;
    if (parent.kind === 'array') {
      parent.value.push(v);
      return;
    }
    if (stack.length === 1) {
      const checked = checkValue(v, key, text, valueAt);
      entries.push({ key, value: checked.value, encoded: checked.text, start: keyAt, end, comma: -1 });
      return;
    }
    defineMember(parent.value, parent.name, v);
  };
  const begin = (offset: number): void => {
    if (stack.length === 0) {
      throw parseError(
        text,
        offset,
        'The top level of the file is not an object',
        'A mirror file is one JSON object of key → value: { "display.units": "metric" }.',
      );
    }
    if (stack.length === 1) valueAt = offset;
    // The root object is frame 0; a value may nest 64 deep, so more than 66 frames is too deep.
    if (stack.length > 65) throw depthError(text, offset, key);
  };
  guardStack(text, () =>
    visit(
      text,
      {
        onObjectBegin: (offset) => {
          if (stack.length === 0) open = offset;
          else begin(offset);
          stack.push({ kind: 'object', value: {}, names: new Map(), name: '', nameAt: 0 });
        },
        onObjectProperty: (name, offset) => {
          const frame = stack[stack.length - 1];
          if (frame?.kind !== 'object') return;
          const first = frame.names.get(name);
          if (stack.length === 1) {
            checkKey(name, text, offset);
            if (first !== undefined) throw duplicateError(text, name, first, offset);
            key = name;
            keyAt = offset;
          } else if (first !== undefined) {
            throw duplicateError(text, name, first, offset, key);
          }
          frame.names.set(name, offset);
          frame.name = name;
          frame.nameAt = offset;
        },
        onObjectEnd: (offset, length) => {
          const frame = stack.pop();
          if (stack.length === 0) close = offset;
          else if (frame !== undefined) finish(frame.value as JsonValue, offset + length);
        },
        onArrayBegin: (offset) => {
          begin(offset);
          stack.push({ kind: 'array', value: [] });
        },
        onArrayEnd: (offset, length) => {
          const frame = stack.pop();
          if (frame !== undefined) finish(frame.value, offset + length);
        },
        onLiteralValue: (value: unknown, offset, length) => {
          if (stack.length === 0) begin(offset);
          if (stack.length === 1) valueAt = offset;
          finish(value as JsonValue, offset + length);
        },
        onSeparator: (sep, offset) => {
          if (sep === ',' && stack.length === 1 && entries.length > 0) {
            const last = entries[entries.length - 1] as JsonEntry;
            if (last.comma === -1) entries[entries.length - 1] = { ...last, comma: offset };
          }
        },
      },
      OPTIONS,
    ),
  );
  checkDuplicates(text, entries);
  return { entries, header, open, close };
}

/** Deep nesting could overflow the parser's recursion; report it as the value rule it breaks. */
function guardStack(text: string, run: () => void): void {
  try {
    run();
  } catch (e) {
    if (e instanceof RangeError) throw depthError(text, 0, undefined);
    throw e;
  }
}

function stripComments(text: string): string {
  return text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
}

function entryText(key: string, value: JsonValue, indent: string, nl: string): string {
  return `${JSON.stringify(key)}: ${indentRest(JSON.stringify(value, null, 2), indent, nl)}`;
}

const editor: Editor = {
  scan: scanJson,
  replace(text, layout, index, value) {
    const e = layout.entries[index] as JsonEntry;
    return (
      text.slice(0, e.start) + entryText(e.key, value, indentAt(text, e.start), newlineOf(text)) + text.slice(e.end)
    );
  },
  remove(text, layout, index) {
    const l = layout as JsonLayout;
    const e = l.entries[index] as JsonEntry;
    const prev = l.entries[index - 1];
    const start = e.start;
    const end = e.comma >= 0 ? e.comma + 1 : e.end;
    const ls = lineStart(text, start);
    const le = lineEnd(text, end);
    let out: string;
    if (isBlank(text.slice(ls, start)) && isBlank(text.slice(end, le))) {
      out = text.slice(0, ls) + text.slice(le < text.length ? le + 1 : le);
    } else {
      let stop = end;
      while (text[stop] === ' ' || text[stop] === '\t') stop++;
      out = text.slice(0, start) + text.slice(stop);
    }
    // The last member goes: the comma before it would now trail, so it goes too.
    if (e.comma < 0 && prev !== undefined && prev.comma >= 0)
      out = out.slice(0, prev.comma) + out.slice(prev.comma + 1);
    if (l.entries.length === 1) {
      const after = scanJson(out);
      if (/^\s*$/.test(out.slice(after.open + 1, after.close)))
        out = out.slice(0, after.open + 1) + out.slice(after.close);
    }
    return out;
  },
  insert(text, layout, key, value) {
    const l = layout as JsonLayout;
    const nl = newlineOf(text);
    const entries = l.entries;
    if (entries.length === 0) {
      const outer = indentAt(text, l.open);
      const inner = outer + '  ';
      const line = inner + entryText(key, value, inner, nl);
      if (/^\s*$/.test(text.slice(l.open + 1, l.close)))
        return text.slice(0, l.open + 1) + nl + line + nl + outer + text.slice(l.close);
      return text.slice(0, l.open + 1) + nl + line + text.slice(l.open + 1);
    }
    const sorted = isSorted(entries);
    const first = entries[0] as JsonEntry;
    if (sorted && key < first.key) {
      const ls = lineStart(text, first.start);
      if (!isBlank(text.slice(ls, first.start))) {
        return (
          text.slice(0, first.start) +
          entryText(key, value, indentAt(text, first.start), nl) +
          ', ' +
          text.slice(first.start)
        );
      }
      const indent = text.slice(ls, first.start);
      let at = ls;
      while (at > 0) {
        const prev = lineStart(text, at - 1);
        if (!/^[ \t]*\/\//.test(text.slice(prev, at - 1)) || (prev === 0 && l.header !== undefined)) break;
        at = prev;
      }
      return text.slice(0, at) + indent + entryText(key, value, indent, nl) + ',' + nl + text.slice(at);
    }
    let p = entries[entries.length - 1] as JsonEntry;
    if (sorted) for (const e of entries) if (e.key < key) p = e;
    const indent = indentAt(text, p.start);
    const x = p.comma >= 0 ? p.comma + 1 : p.end;
    const le = lineEnd(text, x);
    const rest = text.slice(x, le);
    const comma = p.comma >= 0 ? ',' : '';
    if (isBlank(rest) || /^[ \t]*\/\//.test(rest)) {
      // Own line, after the predecessor's line (its trailing comment stays with it).
      const head = p.comma >= 0 ? text : text.slice(0, p.end) + ',' + text.slice(p.end);
      const shift = p.comma >= 0 ? 0 : 1;
      const end = le + shift;
      const line = indent + entryText(key, value, indent, nl) + comma;
      if (end >= head.length) return head + nl + line;
      return head.slice(0, end + 1) + line + nl + head.slice(end + 1);
    }
    const lead = p.comma >= 0 ? ' ' : ', ';
    return text.slice(0, x) + lead + entryText(key, value, indent, nl) + comma + text.slice(x);
  },
};

export const jsonCodec: MirrorCodec = {
  format: 'json',
  parse(text: string): ParsedMirror {
    return toParsed(scanJson(splitBom(text)[1]));
  },
  render(entries): string {
    const list = canonicalEntries(entries);
    if (list.length === 0) return `// ${HEADER_TEXT}\n{}\n`;
    const body = list.map(([k, v]) => '  ' + entryText(k, v, '  ', '\n')).join(',\n');
    return `// ${HEADER_TEXT}\n{\n${body}\n}\n`;
  },
  update(text: string, changes: ReadonlyArray<MirrorChange>): string {
    return runUpdate(text, changes, editor);
  },
};
