"""The JSONC codec: ``config.json`` (§mirror.canonical.json; TypeScript: src/mirror/codecs/json.ts).

JSON with ``//`` and ``/* */`` comments and trailing commas when read. The scanner and the
grammar follow jsonc-parser (which the TypeScript codec uses) token for token, so the same texts
are accepted and the first syntax error is found at the same place; the parser is iterative, so no
nesting can overflow the stack. Members are plain ``dict`` items (no prototype to reach).
"""
import re

from ..value import js_quote, stringify
from .common import (
    HEADER_TEXT,
    Entry,
    Layout,
    canonical_entries,
    check_duplicates,
    check_key,
    check_line_breaks,
    check_value,
    depth_error,
    duplicate_error,
    indent_at,
    indent_rest,
    is_blank,
    is_sorted,
    is_space,
    line_end,
    line_start,
    newline_of,
    parse_error,
    read_header,
    run_update,
    split_bom,
    to_parsed,
)

_SYNTAX = {
    "InvalidSymbol": (
        "Unexpected character",
        "Check for a missing quote, comma or bracket; strings and member names need double quotes.",
    ),
    "InvalidNumberFormat": (
        "Malformed number",
        "Write numbers as JSON does: 12, -0.5, 1e-7 (no leading zeros, no hex, no NaN or Infinity).",
    ),
    "PropertyNameExpected": (
        "A member name is expected",
        'Write member names in double quotes: "display.units": "metric".',
    ),
    "ValueExpected": (
        "A value is expected",
        "Give a JSON value after the colon: a string in double quotes, a number, true, false, null, an array or an "
        "object.",
    ),
    "ColonExpected": (
        '":" is expected after the member name',
        'Separate each name from its value with a colon: "display.units": "metric".',
    ),
    "CommaExpected": ('"," is expected between members', "Put a comma after each member except, optionally, the last."),
    "CloseBraceExpected": ('"}" is expected', 'Close every object with "}".'),
    "CloseBracketExpected": ('"]" is expected', 'Close every array with "]".'),
    "EndOfFileExpected": (
        'Nothing may follow the closing "}" of the file',
        "Keep all entries inside the one top-level object.",
    ),
    "InvalidCommentToken": ("Malformed comment", "Comments are // to the end of the line, or /* \u2026 */."),
    "UnexpectedEndOfComment": ("The /* comment is never closed", "Close the comment with */."),
    "UnexpectedEndOfString": (
        "The string is never closed",
        "Close the string with a double quote on the same line; write a line break inside a string as \\n.",
    ),
    "UnexpectedEndOfNumber": ("The number is cut short", 'Write digits after "-", "." or the exponent.'),
    "InvalidUnicode": ("Malformed \\u escape", "Write \\u followed by exactly four hex digits, e.g. \\u00e9."),
    "InvalidEscapeCharacter": (
        "Unknown escape in a string",
        'JSON strings know \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a backslash as \\\\.',
    ),
    "InvalidCharacter": (
        "A control character inside a string",
        "Escape control characters in strings: \\n, \\t, or \\u0000 \u2026 \\u001f.",
    ),
}

# Token kinds
_OPEN_BRACE, _CLOSE_BRACE, _OPEN_BRACKET, _CLOSE_BRACKET, _COMMA, _COLON = "{", "}", "[", "]", ",", ":"
_NULL, _TRUE, _FALSE, _STRING, _NUMBER, _EOF = "null", "true", "false", "string", "number", "eof"

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")
_NOT_WORD = frozenset(" \t\n\r{}[]\":,/")
_DIGITS = frozenset("0123456789")


class _Syntax(Exception):
    def __init__(self, name, offset):
        Exception.__init__(self, name)
        self.name = name
        self.offset = offset


def _join_surrogates(s):
    """Escaped UTF-16 pairs (``\\ud83d\\ude00``) become one code point, as in a JavaScript string."""
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


class _Scanner(object):
    """jsonc-parser's scanner, trivia skipped. ``next()`` returns ``(kind, offset, end, value)``
    and raises at the first scan error or unknown token."""

    __slots__ = ("text", "pos", "n")

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.n = len(text)

    def next(self):
        text = self.text
        n = self.n
        while True:
            pos = self.pos
            if pos >= n:
                return (_EOF, n, n, None)
            c = text[pos]
            if c == " " or c == "\t" or c == "\n" or c == "\r":
                pos += 1
                while pos < n and text[pos] in " \t\n\r":
                    pos += 1
                self.pos = pos
                continue
            if c in "{}[],:":
                self.pos = pos + 1
                return (c, pos, pos + 1, None)
            if c == '"':
                return self._string(pos)
            if c == "/":
                nxt = text[pos + 1 : pos + 2]
                if nxt == "/":
                    p = pos + 2
                    while p < n and text[p] != "\n" and text[p] != "\r":
                        p += 1
                    self.pos = p
                    continue
                if nxt == "*":
                    close = text.find("*/", pos + 2)
                    if close == -1:
                        raise _Syntax("UnexpectedEndOfComment", pos)
                    self.pos = close + 2
                    continue
                raise _Syntax("InvalidSymbol", pos)
            if c == "-" or c in _DIGITS:
                return self._number(pos)
            p = pos
            while p < n and text[p] not in _NOT_WORD:
                p += 1
            if p == pos:
                raise _Syntax("InvalidSymbol", pos)
            word = text[pos:p]
            self.pos = p
            if word == "true" or word == "false" or word == "null":
                return (word, pos, p, None)
            raise _Syntax("InvalidSymbol", pos)

    def _number(self, start):
        text = self.text
        n = self.n
        pos = start
        if text[pos] == "-":
            pos += 1
            if pos == n or text[pos] not in _DIGITS:
                self.pos = pos
                raise _Syntax("InvalidSymbol", start)
        if text[pos] == "0":
            pos += 1
        else:
            pos += 1
            while pos < n and text[pos] in _DIGITS:
                pos += 1
        if pos < n and text[pos] == ".":
            pos += 1
            if pos < n and text[pos] in _DIGITS:
                pos += 1
                while pos < n and text[pos] in _DIGITS:
                    pos += 1
            else:
                raise _Syntax("UnexpectedEndOfNumber", start)
        end = pos
        if pos < n and text[pos] in "eE":
            pos += 1
            if pos < n and text[pos] in "+-":
                pos += 1
            if pos < n and text[pos] in _DIGITS:
                pos += 1
                while pos < n and text[pos] in _DIGITS:
                    pos += 1
                end = pos
            else:
                raise _Syntax("UnexpectedEndOfNumber", start)
        self.pos = end
        return (_NUMBER, start, end, text[start:end])

    def _string(self, start):
        text = self.text
        n = self.n
        pos = start + 1
        out = []
        chunk = pos
        while True:
            if pos >= n:
                raise _Syntax("UnexpectedEndOfString", start)
            c = text[pos]
            if c == '"':
                out.append(text[chunk:pos])
                pos += 1
                break
            if c == "\\":
                out.append(text[chunk:pos])
                pos += 1
                if pos >= n:
                    raise _Syntax("UnexpectedEndOfString", start)
                e = text[pos]
                pos += 1
                if e == "u":
                    h = text[pos : pos + 4]
                    if len(h) == 4 and all(x in _HEX for x in h):
                        out.append(chr(int(h, 16)))
                        pos += 4
                    else:
                        raise _Syntax("InvalidUnicode", start)
                elif e in _ESCAPES:
                    out.append(_ESCAPES[e])
                else:
                    raise _Syntax("InvalidEscapeCharacter", start)
                chunk = pos
                continue
            if c <= "\x1f":
                if c == "\n" or c == "\r":
                    raise _Syntax("UnexpectedEndOfString", start)
                raise _Syntax("InvalidCharacter", start)
            pos += 1
        self.pos = pos
        return (_STRING, start, pos, _join_surrogates("".join(out)))


def _walk(text, v):
    """jsonc-parser's ``visit`` (trailing commas and comments allowed, empty content not), stopping
    at the first error. ``v`` receives the events, or is None for a syntax check only."""
    sc = _Scanner(text)
    tok = sc.next()
    if tok[0] == _EOF:
        raise _Syntax("ValueExpected", tok[1])
    stack = []  # [kind, needs_comma]
    mode = 0  # 0: a value is expected at tok; 1: after a value; 2: in an object; 3: in an array
    while True:
        if mode == 0:
            k = tok[0]
            if k == _OPEN_BRACE:
                if v is not None:
                    v.object_begin(tok[1])
                stack.append([2, False])
                tok = sc.next()
                mode = 2
            elif k == _OPEN_BRACKET:
                if v is not None:
                    v.array_begin(tok[1])
                stack.append([3, False])
                tok = sc.next()
                mode = 3
            elif k == _STRING or k == _NUMBER or k == _TRUE or k == _FALSE or k == _NULL:
                if v is not None:
                    v.literal(_literal(tok), tok[1], tok[2])
                tok = sc.next()
                mode = 1
            else:
                raise _Syntax("ValueExpected", tok[1])
        elif mode == 1:
            if not stack:
                if tok[0] != _EOF:
                    raise _Syntax("EndOfFileExpected", tok[1])
                return
            frame = stack[-1]
            frame[1] = True
            mode = frame[0]
        else:
            frame = stack[-1]
            close = _CLOSE_BRACE if mode == 2 else _CLOSE_BRACKET
            k = tok[0]
            if k == close:
                if v is not None:
                    v.end(tok[1], tok[2])
                stack.pop()
                tok = sc.next()
                mode = 1
                continue
            if k == _EOF:
                raise _Syntax("CloseBraceExpected" if mode == 2 else "CloseBracketExpected", tok[1])
            if k == _COMMA:
                if not frame[1]:
                    raise _Syntax("ValueExpected", tok[1])
                if v is not None:
                    v.comma(tok[1])
                tok = sc.next()
                if tok[0] == close:
                    continue
            elif frame[1]:
                raise _Syntax("CommaExpected", tok[1])
            if mode == 3:
                mode = 0
                continue
            if tok[0] != _STRING:
                raise _Syntax("PropertyNameExpected", tok[1])
            if v is not None:
                v.property(tok[3], tok[1])
            tok = sc.next()
            if tok[0] != _COLON:
                raise _Syntax("ColonExpected", tok[1])
            tok = sc.next()
            mode = 0


def _literal(tok):
    k = tok[0]
    if k == _STRING:
        return tok[3]
    if k == _NUMBER:
        s = tok[3]
        if "." in s or "e" in s or "E" in s:
            return float(s)
        # Beyond ~300 digits the double is infinite anyway; int() of a huge text is slow or refused.
        return int(s) if len(s) <= 320 else float(s)
    return None if k == _NULL else k == _TRUE


class _Builder(object):
    """Pass 2: builds the entries, checking keys, values and duplicates in file order."""

    def __init__(self, text):
        self.text = text
        self.entries = []
        self.stack = []  # frames: [is_object, value, names, name]
        self.open = -1
        self.close = -1
        self.key = ""
        self.key_at = 0
        self.value_at = 0

    def _finish(self, value, end):
        stack = self.stack
        if not stack:
            return
        parent = stack[-1]
        if not parent[0]:
            parent[1].append(value)
            return
        if len(stack) == 1:
            checked, encoded = check_value(value, self.key, self.text, self.value_at)
            self.entries.append(Entry(self.key, checked, encoded, self.key_at, end))
            return
        parent[1][parent[3]] = value

    def _begin(self, offset):
        stack = self.stack
        if not stack:
            raise parse_error(
                self.text,
                offset,
                "The top level of the file is not an object",
                'A mirror file is one JSON object of key \u2192 value: { "display.units": "metric" }.',
            )
        if len(stack) == 1:
            self.value_at = offset
        # The root object is frame 0; a value may nest 64 deep, so more than 66 frames is too deep.
        if len(stack) > 65:
            raise depth_error(self.text, offset, self.key)

    def object_begin(self, offset):
        if not self.stack:
            self.open = offset
        else:
            self._begin(offset)
        self.stack.append([True, {}, {}, ""])

    def array_begin(self, offset):
        self._begin(offset)
        self.stack.append([False, [], None, None])

    def property(self, name, offset):
        frame = self.stack[-1]
        first = frame[2].get(name)
        if len(self.stack) == 1:
            check_key(name, self.text, offset)
            if first is not None:
                raise duplicate_error(self.text, name, first, offset)
            self.key = name
            self.key_at = offset
        elif first is not None:
            raise duplicate_error(self.text, name, first, offset, self.key)
        frame[2][name] = offset
        frame[3] = name

    def end(self, offset, end):
        frame = self.stack.pop()
        if not self.stack:
            self.close = offset
        else:
            self._finish(frame[1], end)

    def literal(self, value, offset, end):
        if not self.stack:
            self._begin(offset)
        if len(self.stack) == 1:
            self.value_at = offset
        self._finish(value, end)

    def comma(self, offset):
        if len(self.stack) == 1 and self.entries:
            last = self.entries[-1]
            if last.comma == -1:
                last.comma = offset


_COMMENTS = re.compile(r"//[^\n]*|/\*[\s\S]*?\*/")
_CONTROL = re.compile("[\x00-\x1f]")


def scan_json(text):
    """Parses with positions (text without BOM): a Layout with ``open``/``close`` offsets of the
    root object's braces and each entry's comma."""
    header = read_header(text, "//")
    check_line_breaks(text)
    # Pass 1: syntax only, so a syntax error anywhere is reported before any key or value problem.
    try:
        _walk(text, None)
    except _Syntax as e:
        what, hint = _SYNTAX.get(e.name, ("Not valid JSON", "Check quotes, commas and brackets."))
        if e.name == "ValueExpected" and is_space(_COMMENTS.sub("", text)):
            raise parse_error(
                text, e.offset, "The file holds no object", "A mirror file is one JSON object; an empty store is written {}."
            )
        at = e.offset
        if e.name == "InvalidCharacter":
            # The scanner points at the string; point at the character itself.
            m = _CONTROL.search(text, at)
            if m is not None:
                at = m.start()
        raise parse_error(text, at, what, hint)
    # Pass 2: build the entries.
    b = _Builder(text)
    try:
        _walk(text, b)
    except _Syntax as e:  # pragma: no cover - pass 1 found none
        raise parse_error(text, e.offset, "Not valid JSON", "Check quotes, commas and brackets.")
    check_duplicates(text, b.entries)
    return Layout(b.entries, header, b.open, b.close)


def _entry_text(key, value, indent, nl):
    return "%s: %s" % (js_quote(key), indent_rest(stringify(value, 2), indent, nl))


_LINE_COMMENT = re.compile(r"[ \t]*//")


class _Editor(object):
    scan = staticmethod(scan_json)

    @staticmethod
    def replace(text, layout, index, value):
        e = layout.entries[index]
        return text[: e.start] + _entry_text(e.key, value, indent_at(text, e.start), newline_of(text)) + text[e.end :]

    @staticmethod
    def piece(text, e, value):
        """The text :meth:`replace` puts in place of entry ``e``."""
        return _entry_text(e.key, value, indent_at(text, e.start), newline_of(text))

    @staticmethod
    def scan_alone(piece):
        """An entry text scanned as the only member of an object: ``(entries, its offset)``."""
        return scan_json("{" + piece + "}").entries, 1

    @staticmethod
    def remove(text, layout, index):
        e = layout.entries[index]
        prev = layout.entries[index - 1] if index > 0 else None
        start = e.start
        end = e.comma + 1 if e.comma >= 0 else e.end
        ls = line_start(text, start)
        le = line_end(text, end)
        if is_blank(text[ls:start]) and is_blank(text[end:le]):
            out = text[:ls] + text[le + 1 if le < len(text) else le :]
        else:
            stop = end
            while stop < len(text) and text[stop] in " \t":
                stop += 1
            out = text[:start] + text[stop:]
        # The last member goes: the comma before it would now trail, so it goes too.
        if e.comma < 0 and prev is not None and prev.comma >= 0:
            out = out[: prev.comma] + out[prev.comma + 1 :]
        if len(layout.entries) == 1:
            after = scan_json(out)
            if is_space(out[after.open + 1 : after.close]):
                out = out[: after.open + 1] + out[after.close :]
        return out

    @staticmethod
    def insert(text, layout, key, value):
        nl = newline_of(text)
        entries = layout.entries
        if not entries:
            outer = indent_at(text, layout.open)
            inner = outer + "  "
            line = inner + _entry_text(key, value, inner, nl)
            if is_space(text[layout.open + 1 : layout.close]):
                return text[: layout.open + 1] + nl + line + nl + outer + text[layout.close :]
            return text[: layout.open + 1] + nl + line + text[layout.open + 1 :]
        sorted_ = is_sorted(entries)
        first = entries[0]
        if sorted_ and key < first.key:
            ls = line_start(text, first.start)
            if not is_blank(text[ls : first.start]):
                return (
                    text[: first.start]
                    + _entry_text(key, value, indent_at(text, first.start), nl)
                    + ", "
                    + text[first.start :]
                )
            indent = text[ls : first.start]
            at = ls
            while at > 0:
                prev = line_start(text, at - 1)
                if _LINE_COMMENT.match(text[prev : at - 1]) is None or (prev == 0 and layout.header is not None):
                    break
                at = prev
            return text[:at] + indent + _entry_text(key, value, indent, nl) + "," + nl + text[at:]
        p = entries[-1]
        if sorted_:
            for e in entries:
                if e.key < key:
                    p = e
        indent = indent_at(text, p.start)
        x = p.comma + 1 if p.comma >= 0 else p.end
        le = line_end(text, x)
        rest = text[x:le]
        comma = "," if p.comma >= 0 else ""
        if is_blank(rest) or _LINE_COMMENT.match(rest) is not None:
            # Own line, after the predecessor's line (its trailing comment stays with it).
            head = text if p.comma >= 0 else text[: p.end] + "," + text[p.end :]
            end = le + (0 if p.comma >= 0 else 1)
            line = indent + _entry_text(key, value, indent, nl) + comma
            if end >= len(head):
                return head + nl + line
            return head[: end + 1] + line + nl + head[end + 1 :]
        lead = " " if p.comma >= 0 else ", "
        return text[:x] + lead + _entry_text(key, value, indent, nl) + comma + text[x:]


def parse(text):
    """Parses a JSONC mirror file (§mirror.parse): a :class:`ParsedMirror`."""
    return to_parsed(scan_json(split_bom(text)[1]))


def render(entries):
    """The canonical JSONC file (§mirror.canonical.json) of ``(key, value)`` pairs."""
    items = canonical_entries(entries)
    if not items:
        return "// %s\n{}\n" % HEADER_TEXT
    body = ",\n".join("  " + _entry_text(k, v, "  ", "\n") for k, v in items)
    return "// %s\n{\n%s\n}\n" % (HEADER_TEXT, body)


def update(text, changes):
    """Rewrites ``text`` so that it holds the changed values, keeping every other byte (§mirror.update)."""
    return run_update(text, changes, _Editor)
