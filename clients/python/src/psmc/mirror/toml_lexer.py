"""TOML pass 1, the tokens: errors, comments and whitespace, strings, numbers and date-times
(a port of smol-toml's parser; part of the TOML codec, :mod:`psmc.mirror.toml`)."""
import re


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


def _is_digit(c, base=10):
    if c == "":
        return False
    if base == 16:
        return c in "0123456789abcdefABCDEF"
    return "0" <= c < chr(0x30 + base)


def _end_of_value(c, delim):
    return c in (" ", "\t", "\n", "\r", "#") or (delim is not None and (c == delim or c == ","))


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
