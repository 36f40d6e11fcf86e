"""The TOML codec: ``config.toml`` (§mirror.canonical.toml; TypeScript: src/mirror/codecs/toml.ts).

Reading takes two passes, as in the TypeScript codec: pass 1 checks the whole file against TOML
(a port of smol-toml's parser, which the TypeScript codec uses: the same texts are valid and the
first error is found at the same place; like smol-toml it takes the TOML 1.1 additions — ``\\e``
and ``\\x`` escapes, times without seconds, newlines and a trailing comma in inline tables); pass 2
walks the (valid) text again for what the mirror needs: the position of every top-level entry and
the exact text of date-time literals, checking keys and values in file order. Python's ``tomllib``
(3.11+) is not used: it gives no positions and is missing on 3.9/3.10.

TOML cannot hold null, so a value holding null (or a value that is itself a one-member object
named ``$json``) is written ``{ "$json" = "<JSON text>" }``.
"""
import re

from ..errors import PsmcError
from ..value import decode_value, js_quote, member_order, stringify
from .common import (
    HEADER_TEXT,
    Entry,
    Layout,
    canonical_entries,
    check_duplicates,
    check_key,
    check_value,
    depth_error,
    duplicate_error,
    holds_null,
    insert_lines,
    parse_error,
    position,
    read_header,
    remove_lines,
    run_update,
    split_bom,
    to_parsed,
)

# ---------------------------------------------------------------------------
# Writing


def toml_string(s):
    """A TOML basic string: JSON's escaping (valid TOML), plus U+007F, which TOML requires escaped."""
    return js_quote(s).replace("\x7f", "\\u007f")


_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")


def _toml_name(name):
    return name if _BARE.match(name) else toml_string(name)


def _toml_value(v):
    """An inline TOML value; the caller has made sure it holds no null."""
    if isinstance(v, str):
        return toml_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return stringify(v)
    if v is None:
        raise ValueError("null has no TOML form (wrap the value in $json)")
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(_toml_value(x) for x in v)
    if not v:
        return "{}"
    return "{ %s }" % ", ".join("%s = %s" % (_toml_name(n), _toml_value(v[n])) for n in member_order(list(v)))


def _is_dollar_json(v):
    return isinstance(v, dict) and len(v) == 1 and "$json" in v


def toml_entry(key, v):
    """One canonical line, without its newline."""
    if holds_null(v) or _is_dollar_json(v):
        return '%s = { "$json" = %s }' % (toml_string(key), toml_string(stringify(v)))
    return "%s = %s" % (toml_string(key), _toml_value(v))


# ---------------------------------------------------------------------------
# Pass 1: smol-toml's parser (validity and the first error)


class _TomlError(Exception):
    def __init__(self, message, ptr):
        Exception.__init__(self, message)
        self.message = message
        self.ptr = ptr


def _x(message, ctx, ptr=None):
    raise _TomlError(message, ctx.p if ptr is None else ptr)


class _Ctx(object):
    __slots__ = ("s", "p", "d", "n")

    def __init__(self, s):
        self.s = s
        self.p = 0
        self.d = 200
        self.n = len(s)

    def at(self, i):
        return self.s[i] if 0 <= i < self.n else ""


def _is_control(c):
    o = ord(c)
    return (o < 0x20 and c != "\t") or o == 0x7F


def _skip_comment(ctx):
    s = ctx.s
    while ctx.p < ctx.n:
        c = s[ctx.p]
        if c == "\n":
            break
        if c == "\r" and ctx.at(ctx.p + 1) == "\n":
            ctx.p += 1
            break
        if _is_control(c):
            _x("control characters are not allowed in comments", ctx)
        ctx.p += 1


def _skip_void(ctx, ban_newlines=False, ban_comments=False):
    s = ctx.s
    c = ""
    while ctx.p < ctx.n:
        while ctx.p < ctx.n:
            c = s[ctx.p]
            if c == " " or c == "\t" or (not ban_newlines and (c == "\n" or (c == "\r" and ctx.at(ctx.p + 1) == "\n"))):
                ctx.p += 1
            else:
                break
        if ban_comments or c != "#":
            break
        _skip_comment(ctx)


def _parse_string(ctx):
    s = ctx.s
    start_ptr = ctx.p
    first = s[ctx.p]
    ctx.p += 1
    is_literal = first == "'"
    is_multiline = ctx.at(ctx.p) == first and ctx.at(ctx.p + 1) == first
    if is_multiline:
        ctx.p += 2
        c = ctx.at(ctx.p)
        if c == "\n":
            ctx.p += 1
        elif c == "\r" and ctx.at(ctx.p + 1) == "\n":
            ctx.p += 2
    parsed = []
    slice_start = ctx.p
    state = 0
    while ctx.p < ctx.n:
        c = s[ctx.p]
        if is_multiline and (c == "\n" or (c == "\r" and ctx.at(ctx.p + 1) == "\n")):
            state = state and 3
        elif _is_control(c):
            _x("control characters are not allowed in strings", ctx)
        elif (not state or state == 3) and c == first and (
            not is_multiline or (ctx.at(ctx.p + 1) == first and ctx.at(ctx.p + 2) == first)
        ):
            if is_multiline:
                if ctx.at(ctx.p + 3) == first:
                    ctx.p += 1
                if ctx.at(ctx.p + 3) == first:
                    ctx.p += 1
            if not state:
                parsed.append(s[slice_start : ctx.p])
            ctx.p += 3 if is_multiline else 1
            return "".join(parsed)
        elif not state:
            if not is_literal and c == "\\":
                parsed.append(s[slice_start : ctx.p])
                slice_start = ctx.p
                state = 1
        elif state == 1:
            if c in "xuU":
                err_ptr = ctx.p - 1
                ctx.p += 1
                length = 2 if c == "x" else 4 if c == "u" else 8
                value = 0
                for _ in range(length):
                    h = ctx.at(ctx.p)
                    if h == "" or h not in "0123456789abcdefABCDEF":
                        _x("invalid non-hex character in unicode escape", ctx)
                    value = value * 16 + int(h, 16)
                    ctx.p += 1
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    _x("invalid unicode escape", ctx, err_ptr)
                parsed.append(chr(value))
                ctx.p -= 1
                slice_start = ctx.p + 1
                state = 0
            elif is_multiline and (c == " " or c == "\t"):
                state = 2
            else:
                esc = _TOML_ESCAPES.get(c)
                if esc is None:
                    _x("unrecognised escape sequence", ctx)
                parsed.append(esc)
                slice_start = ctx.p + 1
                state = 0
        elif c != " " and c != "\t":
            if state == 2:
                _x("invalid escape: only line-ending whitespace may be escaped", ctx, slice_start)
            state = 1 if (not is_literal and c == "\\") else 0
            slice_start = ctx.p
        ctx.p += 1
    _x("unfinished string", ctx, start_ptr)


_TOML_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


def _bare_char(c):
    return ("0" <= c <= "9") or ("A" <= c <= "Z") or ("a" <= c <= "z") or c == "-" or c == "_"


def _parse_key(ctx, end="="):
    s = ctx.s
    start_ptr = ctx.p
    state = 0
    parsed = []
    slice_start = 0
    c = ctx.at(ctx.p)
    while c != "":
        if c == end:
            if not state:
                _x("unexpected end of key", ctx)
            if state == 1:
                parsed.append(s[slice_start : ctx.p])
            ctx.p += 1
            return parsed
        elif c == ".":
            if not state:
                _x("illegal empty bare key", ctx)
            if state == 1:
                parsed.append(s[slice_start : ctx.p])
            state = 0
        elif not state and (c == '"' or c == "'"):
            if ctx.at(ctx.p + 1) == c and ctx.at(ctx.p + 2) == c:
                _x("illegal quoted key: multiline strings are not allowed", ctx)
            parsed.append(_parse_string(ctx))
            state = 2
            ctx.p -= 1
        elif c == " " or c == "\t":
            if state == 1:
                parsed.append(s[slice_start : ctx.p])
                state = 2
        elif state == 2 or not _bare_char(c):
            _x("illegal character in key", ctx)
        elif not state:
            state = 1
            slice_start = ctx.p
        ctx.p += 1
        c = ctx.at(ctx.p)
        if c == "\x00":
            break
    _x("incomplete key-value: cannot find end of key", ctx, start_ptr)


def _parse_inline_table(ctx):
    start_ptr = ctx.p
    ctx.p += 1
    res = {}
    seen = set()
    while ctx.p < ctx.n:
        _skip_void(ctx)
        if ctx.at(ctx.p) == "}":
            ctx.p += 1
            return res
        t = res
        k = None
        has_own = False
        err_ptr = ctx.p
        key = _parse_key(ctx)
        for i, part in enumerate(key):
            if i:
                if has_own:
                    t = t[k]
                else:
                    inner = {}
                    t[k] = inner
                    t = inner
            k = part
            has_own = isinstance(t, dict) and k in t
            if has_own and (not isinstance(t[k], (dict, list)) or id(t[k]) in seen):
                _x("trying to redefine an already defined value", ctx, err_ptr)
        if has_own:
            _x("trying to redefine an already defined value", ctx, err_ptr)
        _skip_void(ctx, True, True)
        value = _extract_value(ctx, "}")
        if isinstance(t, dict):
            t[k] = value
            if isinstance(value, (dict, list)):
                seen.add(id(value))
        _skip_void(ctx)
        c = ctx.at(ctx.p)
        ctx.p += 1
        if c == "}":
            return res
        if c != ",":
            _x("expected comma or end of structure", ctx, ctx.p - 1)
    _x("unfinished table", ctx, start_ptr)


def _parse_array(ctx):
    start_ptr = ctx.p
    ctx.p += 1
    res = []
    while ctx.p < ctx.n:
        _skip_void(ctx)
        if ctx.at(ctx.p) == "]":
            ctx.p += 1
            return res
        res.append(_extract_value(ctx, "]"))
        _skip_void(ctx)
        c = ctx.at(ctx.p)
        ctx.p += 1
        if c == "]":
            return res
        if c != ",":
            _x("expected comma or end of structure", ctx, ctx.p - 1)
    _x("unfinished array", ctx, start_ptr)


def _is_digit(c, base=10):
    if c == "":
        return False
    if base == 16:
        return c in "0123456789abcdefABCDEF"
    return "0" <= c < chr(0x30 + base)


def _end_of_value(c, delim):
    return c in (" ", "\t", "\n", "\r", "#") or (delim is not None and (c == delim or c == ","))


def _extract_value(ctx, end):
    err_ptr = ctx.p
    c = ctx.at(ctx.p)
    if c == "[" or c == "{":
        if ctx.d == 0:
            _x("document contains excessively nested structures. aborting.", ctx)
        ctx.d -= 1
        value = _parse_array(ctx) if c == "[" else _parse_inline_table(ctx)
        ctx.d += 1
        return value
    if c == '"' or c == "'":
        return _parse_string(ctx)
    if c == "t":
        if ctx.s[ctx.p : ctx.p + 4] != "true":
            _x("invalid value", ctx, err_ptr)
        ctx.p += 4
        return True
    if c == "f":
        if ctx.s[ctx.p : ctx.p + 5] != "false":
            _x("invalid value", ctx, err_ptr)
        ctx.p += 5
        return False
    if c == "+" or c == "-":
        ctx.p += 1
        return _parse_number(ctx, ctx.p - 1, ctx.at(ctx.p), -1 if c == "-" else 1, end)
    if ctx.at(ctx.p + 4) == "-" and ctx.at(ctx.p + 7) == "-":
        return _parse_date(ctx, c, end)
    if ctx.at(ctx.p + 2) == ":":
        return _parse_time(ctx, c, end)
    return _parse_number(ctx, ctx.p, c, 0, end)


def _parse_number(ctx, start_ptr, c, sign, end_chr):
    state = 0
    has_underscores = False
    if c == "i":
        if ctx.s[ctx.p + 1 : ctx.p + 3] != "nf":
            _x("invalid value", ctx, start_ptr)
        ctx.p += 3
        return float("-inf") if sign < 0 else float("inf")
    if c == "n":
        if ctx.s[ctx.p + 1 : ctx.p + 3] != "an":
            _x("invalid value", ctx, start_ptr)
        ctx.p += 3
        return float("nan")
    if c == "0":
        ctx.p += 1
        if ctx.p >= ctx.n or _end_of_value(ctx.s[ctx.p], end_chr):
            return 0
        c = ctx.s[ctx.p]
        if not sign:
            if c == "x":
                return _parse_int_base(ctx, start_ptr, 16, end_chr)
            if c == "b":
                return _parse_int_base(ctx, start_ptr, 2, end_chr)
            if c == "o":
                return _parse_int_base(ctx, start_ptr, 8, end_chr)
        if c == ".":
            state = 2
        elif c == "e" or c == "E":
            state = 4
        else:
            _x("illegal leading zero", ctx, start_ptr)
    elif not _is_digit(c):
        _x("invalid value", ctx, start_ptr)
    while True:
        ctx.p += 1
        if ctx.p >= ctx.n:
            break
        c = ctx.s[ctx.p]
        if _end_of_value(c, end_chr):
            break
        if not state:
            state = 1
        if c == "_":
            if not (state & 1):
                _x("illegal underscore", ctx)
            state += 11
            has_underscores = True
        elif state == 1 and c == ".":
            state = 2
        elif (state == 1 or state == 3) and (c == "e" or c == "E"):
            state = 4
        elif state == 4 and (c == "+" or c == "-"):
            state = 6
        elif not _is_digit(c):
            _x("illegal character in numeric literal", ctx)
        elif state > 9:
            state -= 11
        elif not (state & 1):
            state += 1
    if not state:
        return 0
    if not (state & 1):
        _x("unfinished numeric value", ctx, start_ptr)
    text = ctx.s[start_ptr : ctx.p]
    if has_underscores:
        text = text.replace("_", "")
    return float(text) if state > 1 else int(text)


def _parse_int_base(ctx, start_ptr, base, end_chr):
    underscore = 1
    while True:
        ctx.p += 1
        if ctx.p >= ctx.n:
            break
        c = ctx.s[ctx.p]
        if _end_of_value(c, end_chr):
            break
        if c == "_":
            if underscore & 1:
                _x("illegal underscore", ctx)
            underscore = 3
        elif not _is_digit(c, base):
            _x("illegal character in numeric literal", ctx)
        elif underscore & 1:
            underscore -= 1
    if underscore & 1:
        _x("unfinished numeric value", ctx)
    return int(ctx.s[start_ptr + 2 : ctx.p].replace("_", ""), base)


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\Z")
_OFFSET = re.compile(r"[+-](\d{2}):(\d{2})\Z")


def _valid_date(d):
    m = _DATE.match(d)
    return m is not None and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31


def _valid_time(t):
    m = _TIME.match(t)
    return m is not None and int(m.group(1)) <= 23 and int(m.group(2)) <= 59 and int(m.group(3) or 0) <= 59


def _read_date(ctx, text, kind, err_ptr):
    """What JavaScript's Date accepts of the texts smol-toml hands it (kind: 1 offset date-time,
    2 local date-time, 3 local date, 4 local time)."""
    ok = False
    if kind == 3:
        ok = _valid_date(text)
    elif kind == 4:
        ok = _valid_time(text)
    else:
        body = text
        if kind == 1:
            if body[-1:] in ("Z", "z"):
                body = body[:-1]
            else:
                m = _OFFSET.match(body[-6:]) if len(body) >= 6 else None
                ok_offset = m is not None and int(m.group(1)) <= 23 and int(m.group(2)) <= 59
                body = body[:-6] if ok_offset else ""
        ok = len(body) > 11 and body[10] in "Tt " and _valid_date(body[:10]) and _valid_time(body[11:])
    if not ok:
        _x("invalid date", ctx, err_ptr)
    return text


def _parse_date(ctx, c, end_chr):
    s = ctx.s
    start_ptr = ctx.p
    if not (_is_digit(c) and _is_digit(ctx.at(start_ptr + 1)) and _is_digit(ctx.at(start_ptr + 2)) and _is_digit(ctx.at(start_ptr + 3))):
        # smol-toml steps over the first non-digit before falling back to a number.
        ctx.p = start_ptr
        return _parse_number(ctx, start_ptr, c, 0, end_chr)
    ctx.p = start_ptr + 9
    if not _is_digit(ctx.at(ctx.p)):
        ctx.p += 1
        _x("invalid date-time: date part is malformed", ctx, start_ptr)
    ctx.p += 1
    c = ctx.at(ctx.p)
    if ctx.p >= ctx.n or ((c != " " or not _is_digit(ctx.at(ctx.p + 1))) and c not in ("T", "t")):
        return _read_date(ctx, s[start_ptr : ctx.p], 3, start_ptr)
    ctx.p += 3
    if ctx.at(ctx.p) != ":":
        _x("invalid date-time: time part is malformed", ctx, start_ptr)
    ctx.p += 3
    if ctx.at(ctx.p) == ":":
        ctx.p += 3
    if ctx.at(ctx.p) == ".":
        ctx.p += 1
        while _is_digit(ctx.at(ctx.p)):
            ctx.p += 1
    c = ctx.at(ctx.p)
    if c == "Z" or c == "z":
        ctx.p += 1
        return _read_date(ctx, s[start_ptr : ctx.p], 1, start_ptr)
    if c == "+" or c == "-":
        ctx.p += 6
        return _read_date(ctx, s[start_ptr : ctx.p], 1, start_ptr)
    return _read_date(ctx, s[start_ptr : ctx.p], 2, start_ptr)


def _parse_time(ctx, c, end_chr):
    start = ctx.p
    if not (_is_digit(c) and _is_digit(ctx.at(ctx.p + 1))):
        return _parse_number(ctx, start, c, 0, end_chr)
    ctx.p += 5
    if ctx.at(ctx.p) == ":":
        ctx.p += 3
    if ctx.at(ctx.p) == ".":
        ctx.p += 1
        while _is_digit(ctx.at(ctx.p)):
            ctx.p += 1
    return _read_date(ctx, ctx.s[start : ctx.p], 4, start)


# Table kinds of smol-toml's bookkeeping
_DOTTED, _EXPLICIT, _ARRAY, _ARRAY_DOTTED = 0, 1, 2, 3


class _State(object):
    __slots__ = ("t", "d", "i", "c")

    def __init__(self, t):
        self.t = t
        self.d = False
        self.i = 0
        self.c = {}


def _peek_table(key, table, meta, kind):
    t = table
    m = meta
    k = None
    has_own = False
    for i, part in enumerate(key):
        if i:
            if has_own:
                t = t[k]
            else:
                inner = {}
                t[k] = inner
                t = inner
            state = m[k]
            m = state.c
            if kind == _DOTTED and (state.t == _EXPLICIT or state.t == _ARRAY):
                return None
            if state.t == _ARRAY:
                last = len(t) - 1
                t = t[last]
                m = m[last].c
        k = part
        has_own = isinstance(t, dict) and k in t
        if has_own and k in m and m[k].t == _DOTTED and m[k].d:
            return None
        if not has_own:
            m[k] = _State(_ARRAY_DOTTED if i < len(key) - 1 and kind == _ARRAY else kind)
    state = m.get(k)
    if state is None:
        return None
    if state.t != kind and not (kind == _EXPLICIT and state.t == _ARRAY_DOTTED):
        return None
    if kind == _ARRAY:
        if not state.d:
            state.d = True
            t[k] = []
        new = {}
        t[k].append(new)
        t = new
        child = _State(_EXPLICIT)
        state.c[state.i] = child
        state.i += 1
        state = child
    if state.d:
        return None
    state.d = True
    if kind == _EXPLICIT:
        if has_own:
            t = t[k]
        else:
            inner = {}
            t[k] = inner
            t = inner
    elif kind == _DOTTED and has_own:
        return None
    return (k, t, state.c)


def _check_toml(text):
    """smol-toml's ``parse``: raises _TomlError at the first problem."""
    ctx = _Ctx(text)
    res = {}
    meta = {}
    tbl = res
    m = meta
    skipping = False
    _skip_void(ctx)
    while ctx.p < ctx.n:
        if text[ctx.p] == "[":
            ctx.p += 1
            is_array = ctx.at(ctx.p) == "["
            if is_array:
                ctx.p += 1
            tmp = ctx.p
            skipping = False
            k = _parse_key(ctx, "]")
            if is_array:
                if ctx.at(ctx.p) != "]":
                    _x("expected end of table array declaration", ctx)
                ctx.p += 1
            p = _peek_table(k, res, meta, _ARRAY if is_array else _EXPLICIT)
            if not p:
                _x("trying to redefine an already defined table or value", ctx, tmp)
            m = p[2]
            tbl = p[1]
        else:
            tmp = ctx.p
            k = _parse_key(ctx)
            p = _peek_table(k, tbl, m, _DOTTED)
            if not p and not skipping:
                _x("trying to redefine an already defined table or value", ctx, tmp)
            _skip_void(ctx, True, True)
            v = _extract_value(ctx, None)
            if p and not skipping:
                p[1][p[0]] = v
        _skip_void(ctx, True)
        if ctx.p < ctx.n:
            c = text[ctx.p]
            if c != "\n" and (c != "\r" or ctx.at(ctx.p + 1) != "\n"):
                _x("each key-value declaration must be followed by an end-of-line", ctx)
        _skip_void(ctx)
    return res


# ---------------------------------------------------------------------------
# Pass 2: the reader of valid text (positions, date-times as text)


class _ScanStop(Exception):
    def __init__(self, offset):
        Exception.__init__(self, "unexpected TOML text")
        self.offset = offset


_BARE_RUN = re.compile(r"[A-Za-z0-9_-]+")
_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}")
_INT_TEXT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


class _Reader(object):
    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.key = None
        self.n = len(text)

    def peek(self, k=0):
        i = self.pos + k
        return self.text[i] if i < self.n else ""

    def fail(self):
        raise _ScanStop(self.pos)

    def skip_blanks(self):
        while self.peek() in (" ", "\t") and self.pos < self.n:
            self.pos += 1

    def skip_space(self):
        while self.pos < self.n:
            c = self.text[self.pos]
            if c in " \t\n\r":
                self.pos += 1
            elif c == "#":
                nl = self.text.find("\n", self.pos)
                self.pos = self.n if nl == -1 else nl
            else:
                return

    def key_path(self):
        """``[(name, at, bare)]`` of a possibly dotted key."""
        parts = []
        while True:
            self.skip_blanks()
            at = self.pos
            c = self.peek()
            if c == '"':
                parts.append((self.basic_string(), at, False))
            elif c == "'":
                parts.append((self.literal_string(), at, False))
            else:
                m = _BARE_RUN.match(self.text, self.pos)
                if m is None:
                    self.fail()
                self.pos = m.end()
                parts.append((m.group(0), at, True))
            self.skip_blanks()
            if self.peek() != ".":
                return parts
            self.pos += 1

    def value(self, depth):
        c = self.peek()
        if c == '"':
            return self.multiline('"') if self.text.startswith('"""', self.pos) else self.basic_string()
        if c == "'":
            return self.multiline("'") if self.text.startswith("'''", self.pos) else self.literal_string()
        if c == "[":
            return self.array(depth + 1)
        if c == "{":
            return self.table(depth + 1)
        return self.scalar()

    def array(self, depth):
        if depth > 65:
            raise depth_error(self.text, self.pos, self.key)
        self.pos += 1
        out = []
        while True:
            self.skip_space()
            if self.peek() == "]":
                break
            out.append(self.value(depth))
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                self.fail()
        self.pos += 1
        return out

    def table(self, depth):
        if depth > 65:
            raise depth_error(self.text, self.pos, self.key)
        self.pos += 1
        out = {}
        seen = {}
        while True:
            self.skip_space()
            if self.peek() == "}":
                break
            path = self.key_path()
            if self.peek() != "=":
                self.fail()
            self.pos += 1
            self.skip_blanks()
            v = self.value(depth)
            target = out
            for name, _, _ in path[:-1]:
                existing = target.get(name)
                if existing is None and name not in target:
                    inner = {}
                    target[name] = inner
                    target = inner
                elif isinstance(existing, dict):
                    target = existing
                else:
                    self.fail()
            last, last_at, _ = path[-1]
            ident = "\x00".join(p[0] for p in path)
            first = seen.get(ident)
            if first is not None or last in target:
                raise duplicate_error(self.text, last, last_at if first is None else first, last_at, self.key)
            seen[ident] = last_at
            target[last] = v
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                self.fail()
        self.pos += 1
        return out

    def basic_string(self):
        self.pos += 1
        out = []
        while True:
            c = self.peek()
            if c == "" or c == "\n":
                self.fail()
            self.pos += 1
            if c == '"':
                return "".join(out)
            out.append(self.escape() if c == "\\" else c)

    def literal_string(self):
        end = self.text.find("'", self.pos + 1)
        if end == -1:
            self.fail()
        s = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return s

    def multiline(self, q):
        """``\"\"\"…\"\"\"`` or ``'''…'''``: a newline right after the opening goes, CRLF reads as LF."""
        self.pos += 3
        if self.peek() == "\n":
            self.pos += 1
        elif self.peek() == "\r" and self.peek(1) == "\n":
            self.pos += 2
        out = []
        while True:
            c = self.peek()
            if c == "":
                self.fail()
            if c == q and self.text.startswith(q * 3, self.pos):
                run = 3
                while self.peek(run) == q and run < 5:
                    run += 1
                out.append(q * (run - 3))
                self.pos += run
                return "".join(out)
            self.pos += 1
            if c == "\r" and self.peek() == "\n":
                continue
            if c == "\\" and q == '"':
                # A line-ending backslash eats the newline and the blanks after it.
                p = self.pos
                while p < self.n and self.text[p] in " \t":
                    p += 1
                if self.text[p : p + 1] == "\n" or self.text[p : p + 2] == "\r\n":
                    self.pos = p
                    while self.pos < self.n and self.text[self.pos] in " \t\r\n":
                        self.pos += 1
                    continue
                out.append(self.escape())
            else:
                out.append(c)

    def escape(self):
        c = self.peek()
        self.pos += 1
        simple = _TOML_ESCAPES.get(c)
        if simple is not None:
            return simple
        if c in ("x", "u", "U"):
            n = 2 if c == "x" else 4 if c == "u" else 8
            h = self.text[self.pos : self.pos + n]
            if len(h) != n or any(x not in "0123456789abcdefABCDEF" for x in h):
                self.fail()
            self.pos += n
            cp = int(h, 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                self.fail()
            return chr(cp)
        self.fail()

    def scalar(self):
        """Booleans, numbers and date-times."""
        start = self.pos
        while self.pos < self.n and self.text[self.pos] not in ",]}#\r\n":
            self.pos += 1
        end = self.pos
        while end > start and self.text[end - 1] in " \t":
            end -= 1
        self.pos = end
        tok = self.text[start:end]
        if tok == "true":
            return True
        if tok == "false":
            return False
        # A date-time is read as its text, exactly as written (§mirror.parse).
        if _DATE_START.match(tok):
            return tok
        if tok in ("inf", "+inf"):
            return float("inf")
        if tok == "-inf":
            return float("-inf")
        if tok in ("nan", "+nan", "-nan"):
            return float("nan")
        plain = tok.replace("_", "")
        if plain[:2] in ("0x", "0o", "0b"):
            return int(plain, 0)
        if _INT_TEXT.match(plain):
            return int(plain) if len(plain) <= 320 else float(plain)
        if _FLOAT_TEXT.match(plain):
            return float(plain)
        self.fail()


def _statements(text):
    """Walks the root statements, checking keys and values in file order."""
    r = _Reader(text)
    entries = []
    while True:
        r.skip_space()
        if r.pos >= r.n:
            return entries
        at = r.pos
        if r.peek() == "[":
            raise parse_error(
                text,
                at,
                "Table headers ([table] or [[array]]) are not used in the mirror file",
                'The mirror is flat: one "key" = value line per key. Write an object value as an inline table on its '
                'line: "display.window" = { width = 800, height = 600 }.',
            )
        path = r.key_path()
        head_name, _, head_bare = path[0]
        if len(path) > 1:
            name = ".".join(p[0] for p in path)
            if head_bare:
                what = "The key %s is not quoted, and in TOML an unquoted dotted key means nested tables" % name
                hint = "Quote the whole key: %s = \u2026" % toml_string(name)
            else:
                what = "The dotted key %s makes nested tables" % text[at : r.pos].strip()
                hint = 'Write one quoted key per line, with an object value as an inline table: "key" = { member = 1 }.'
            raise parse_error(text, at, what, hint)
        check_key(head_name, text, at)
        if r.peek() != "=":
            r.fail()
        r.pos += 1
        r.skip_blanks()
        value_at = r.pos
        r.key = head_name
        value = _unwrap(r.value(0), head_name, text, value_at)
        end = r.pos
        checked, encoded = check_value(value, head_name, text, value_at)
        entries.append(Entry(head_name, checked, encoded, at, end))


def _unwrap(v, key, text, at):
    """Undoes the ``$json`` wrapping of §mirror.values."""
    if not _is_dollar_json(v):
        return v
    inner = v["$json"]
    if not isinstance(inner, str):
        raise parse_error(
            text,
            at,
            'The "$json" member of key %s is not a string' % js_quote(key),
            'Write "$json" = "<JSON text>", e.g. { "$json" = "[1, null]" }, or give the value without $json.',
            {"key": key},
        )
    try:
        return decode_value(inner, key)
    except PsmcError as e:
        line, column = position(text, at)
        details = dict(e.details)
        details.update({"key": key, "line": line, "column": column})
        raise PsmcError(e.code, '%s (in the "$json" text, line %d, column %d)' % (e.message, line, column), e.hint, details, e)


def _root_duplicate(text):
    """Best effort for a file pass 1 refused: the first top-level key given twice, if any."""
    seen = {}
    r = _Reader(text)
    try:
        while True:
            r.skip_space()
            if r.pos >= r.n or r.peek() == "[":
                return None
            at = r.pos
            path = r.key_path()
            name = "\x00".join(p[0] for p in path)
            first = seen.get(name)
            if first is not None:
                return duplicate_error(text, ".".join(p[0] for p in path), first, at)
            seen[name] = at
            if r.peek() != "=":
                return None
            r.pos += 1
            r.skip_blanks()
            r.value(0)
    except (_ScanStop, PsmcError, ValueError, IndexError):
        # The reader stops at the syntax error pass 1 reported; that error is the one to show.
        return None


_TOML_HINT = (
    'Check quotes, "=" and brackets. The mirror writes one line per key: "display.units" = "metric". See '
    "spec/sections/mirror-format.md \u00a7mirror.parse."
)


def scan_toml(text):
    header = read_header(text, "#")
    try:
        _check_toml(text)
    except _TomlError as e:
        if "nested" in e.message:
            raise depth_error(text, 0, None)
        dup = _root_duplicate(text)
        if dup is not None:
            raise dup
        what = e.message or "Not valid TOML"
        raise parse_error(text, e.ptr, what[:1].upper() + what[1:], _TOML_HINT)
    try:
        entries = _statements(text)
    except _ScanStop as e:
        raise parse_error(text, e.offset, "Unexpected text", _TOML_HINT)
    check_duplicates(text, entries)
    return Layout(entries, header)


def _is_comment(line):
    return line.lstrip(" \t").startswith("#")


class _Editor(object):
    scan = staticmethod(scan_toml)

    @staticmethod
    def replace(text, layout, index, value):
        e = layout.entries[index]
        return text[: e.start] + toml_entry(e.key, value) + text[e.end :]

    @staticmethod
    def remove(text, layout, index):
        e = layout.entries[index]
        return remove_lines(text, e.start, e.end)

    @staticmethod
    def insert(text, layout, key, value):
        return insert_lines(text, layout, key, lambda indent, nl: toml_entry(key, value), _is_comment)


def parse(text):
    """Parses a TOML mirror file (§mirror.parse): a :class:`ParsedMirror`."""
    return to_parsed(scan_toml(split_bom(text)[1]))


def render(entries):
    """The canonical TOML file (§mirror.canonical.toml) of ``(key, value)`` pairs."""
    return "# %s\n" % HEADER_TEXT + "".join(toml_entry(k, v) + "\n" for k, v in canonical_entries(entries))


def update(text, changes):
    """Rewrites ``text`` so that it holds the changed values, keeping every other byte (§mirror.update)."""
    return run_update(text, changes, _Editor)

