/**
 * JSON text from a file, with errors that name the file, line and column.
 *
 * JSON.parse does the parsing. Only when it fails does a small syntax scanner
 * run over the text to find where and why, because V8's messages do not
 * always carry a position (`Unexpected token '}', "…" is not valid JSON`).
 */
import { PsmcError } from '../core/errors.js';

class SyntaxFailure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

function show(c: string | undefined): string {
  if (c === undefined) return 'the end of the input';
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : `'${c}'`;
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD_RE = /[A-Za-z_$][A-Za-z0-9_$]*/y;

/** Where and why `s` is not JSON; undefined when the scanner finds no error. */
export function locateJsonError(s: string): { offset: number; message: string } | undefined {
  let i = 0;
  const fail: (message: string, at?: number) => never = (message, at = i) => {
    throw new SyntaxFailure(at, message);
  };
  const ws = (): void => {
    while (i < s.length) {
      const c = s[i];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      i++;
    }
  };
  const string = (): void => {
    const start = i;
    i++;
    for (;;) {
      const c = s[i];
      if (c === undefined) fail('unterminated string (a closing double quote is missing)', start);
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/.test(s.slice(i + 2, i + 6)))
            fail('bad \\u escape in a string (it needs 4 hex digits)');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e))
          fail(`bad escape \\${e ?? ''} in a string (use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)`);
        i += 2;
        continue;
      }
      if ((c.codePointAt(0) ?? 0) < 0x20) fail(`${show(c)} inside a string (write it as an escape such as \\n)`);
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === undefined) fail('unexpected end of the input, expected a value');
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') {
          WORD_RE.lastIndex = i;
          const word = WORD_RE.exec(s);
          fail(
            word === null
              ? `expected a member name in double quotes, found ${show(s[i])}`
              : `member name ${word[0]} needs double quotes`,
          );
        }
        string();
        ws();
        if (s[i] !== ':') fail(`expected ':' after the member name, found ${show(s[i])}`);
        i++;
        value();
        ws();
        if (s[i] === ',') {
          const comma = i;
          i++;
          ws();
          if (s[i] === '}') fail("trailing comma before '}' (JSON allows none)", comma);
          continue;
        }
        if (s[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after a member, found ${show(s[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ',') {
          const comma = i;
          i++;
          ws();
          if (s[i] === ']') fail("trailing comma before ']' (JSON allows none)", comma);
          continue;
        }
        if (s[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${show(s[i])}`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(s);
      if (m === null) fail('invalid number');
      i = NUMBER_RE.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (s.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    WORD_RE.lastIndex = i;
    const word = WORD_RE.exec(s);
    if (word !== null)
      fail(`unexpected word ${word[0]} (strings need double quotes; literals are true, false and null)`);
    fail(c === "'" ? 'single quotes are not JSON; use double quotes' : `unexpected ${show(c)}, expected a value`);
  };
  try {
    value();
    ws();
    if (i < s.length) fail(`unexpected ${show(s[i])} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFailure) return { offset: e.offset, message: e.message };
    // Nesting deep enough to overflow this recursive scanner: let the caller use V8's position.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** 1-based line and column (in UTF-16 units) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The line holding `offset`, and a caret under the column: for error output. */
function excerpt(text: string, line: number, column: number): string {
  const content = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
  const start = Math.max(0, column - 60);
  const shown = (start > 0 ? '…' : '') + content.slice(start, start + 100).replace(/\t/g, ' ');
  const gutter = `${line} | `;
  return `${gutter}${shown}\n${' '.repeat(gutter.length + column - 1 - start + (start > 0 ? 1 : 0))}^`;
}

/**
 * Parses JSON text read from `file` (a path, or `<stdin>`). A leading BOM is
 * ignored. Throws PSMC_PARSE with details { file, line, column, excerpt }.
 */
export function parseJsonText(text: string, file: string, what: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (cause) {
    const found = locateJsonError(body);
    const v8 = /at position (\d+)/.exec((cause as Error).message);
    const offset = found?.offset ?? (v8 === null ? body.length : Number(v8[1]));
    const { line, column } = lineColumn(body, offset);
    const why = found?.message ?? (cause as Error).message;
    throw new PsmcError('PSMC_PARSE', `${file}:${line}:${column}: ${what} is not valid JSON: ${why}.`, {
      hint: `Fix the JSON at line ${line}, column ${column} of ${file} (strings and member names need double quotes; no trailing commas or comments), then run the command again.`,
      details: { file, line, column, excerpt: excerpt(body, line, column) },
      cause,
    });
  }
}
