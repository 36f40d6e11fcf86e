"""TOML pass 1, the structure: keys, inline tables, arrays, tables and the whole-file check (a port
of smol-toml's parser: the same texts are valid and the first error is found at the same place;
part of the TOML codec, :mod:`psmc.mirror.toml`)."""

from .toml_lexer import _Ctx, _bare_char, _parse_date, _parse_number, _parse_string, _parse_time, _skip_void, _x

# Table kinds of smol-toml's bookkeeping
_DOTTED, _EXPLICIT, _ARRAY, _ARRAY_DOTTED = 0, 1, 2, 3


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
