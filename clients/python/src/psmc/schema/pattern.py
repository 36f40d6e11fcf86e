"""The portable regex subset for ``pattern`` (spec/sections/schema-env.md §schema.subset).

:func:`check_pattern_subset` accepts exactly the patterns TypeScript, Python and
Rust read the same way (a port of src/core/schema/pattern.ts).
:func:`to_python_regex` translates an accepted pattern into Python ``re``
syntax with ECMAScript (``u`` flag) semantics: ``$`` only at the very end
(``\\Z``), ``.`` excluding the four line terminators, ``\\d`` ``\\w`` ``\\s``
as the explicit ASCII/listed classes, and every group non-capturing.
"""
import re

MAX_REPEAT = 1000
MAX_GROUP_DEPTH = 32

_SYNTAX = "^$\\.*+?()[]{}|/"
_CLASS_ESC = "dDwWsS"


def check_pattern_subset(p):
    """None when ``p`` lies in the subset, else a sentence saying what is not allowed and where."""
    cps = list(p)
    n = len(cps)
    st = {"i": 0, "depth": 0}

    def at_(k):
        return cps[k] if k < n else None

    def at():
        return "at position %d" % (st["i"] + 1)

    def is_digit(c):
        return c is not None and "0" <= c <= "9"

    def escape_problem(c, in_class):
        if c is None:
            return 'a pattern cannot end with a lone "\\"'
        if c in _CLASS_ESC or c in _SYNTAX or (in_class and c == "-"):
            return None
        if "1" <= c <= "9":
            return 'backreferences ("\\%s") are not supported' % c
        if c == "k":
            return 'named backreferences ("\\k<\u2026>") are not supported'
        if c in ("p", "P"):
            return 'unicode property escapes ("\\%s{\u2026}") are not supported' % c
        if c in ("b", "B"):
            return 'word boundaries ("\\%s") are not supported' % c
        return 'the escape "\\%s" is not supported (only \\d \\D \\w \\W \\s \\S and escaped syntax characters)' % c

    def quantifier():
        c = at_(st["i"])
        if c in ("*", "+", "?"):
            st["i"] += 1
        elif c == "{":
            start = st["i"]
            st["i"] += 1
            num = ""
            while is_digit(at_(st["i"])):
                num += cps[st["i"]]
                st["i"] += 1
            if num == "":
                return '"{" at position %d does not start a quantifier {n}, {n,} or {n,m}; escape it as "\\{"' % (
                    start + 1
                )
            m = num
            if at_(st["i"]) == ",":
                st["i"] += 1
                m = ""
                while is_digit(at_(st["i"])):
                    m += cps[st["i"]]
                    st["i"] += 1
                if m == "":
                    m = None
            if at_(st["i"]) != "}":
                return 'the quantifier starting at position %d is not closed with "}"' % (start + 1)
            st["i"] += 1
            nv = int(num)
            mv = None if m is None else int(m)
            if nv > MAX_REPEAT or (mv is not None and mv > MAX_REPEAT):
                return "the quantifier at position %d exceeds %d repetitions" % (start + 1, MAX_REPEAT)
            if mv is not None and mv < nv:
                return "the quantifier at position %d has its bounds out of order" % (start + 1)
        else:
            return None
        nxt = at_(st["i"])
        prev = cps[st["i"] - 1]
        if nxt == "?":
            return 'lazy quantifiers ("%s?") are not supported (%s)' % (prev, at())
        if nxt == "+":
            return 'possessive quantifiers ("%s+") are not supported (%s)' % (prev, at())
        if nxt in ("*", "{"):
            return "a quantifier cannot follow another quantifier (%s)" % at()
        return None

    def class_item():
        c = at_(st["i"])
        if c is None:
            return 'a "[" class is not closed with "]"', None
        if c == "[":
            return '"[" inside a class must be escaped as "\\[" (%s)' % at(), None
        if c == "\\":
            e = at_(st["i"] + 1)
            prob = escape_problem(e, True)
            if prob is not None:
                return "%s (%s)" % (prob, at()), None
            st["i"] += 2
            return None, (None if e in _CLASS_ESC else ord(e))
        st["i"] += 1
        return None, ord(c)

    def cls():
        open_ = st["i"]
        st["i"] += 1
        if at_(st["i"]) == "^":
            st["i"] += 1
        if at_(st["i"]) == "]":
            return (
                'empty classes ("[]" or "[^]") are not supported (position %d); escape a literal "]" as "\\]"'
                % (open_ + 1)
            )
        while True:
            c = at_(st["i"])
            if c is None:
                return 'the class opened at position %d is not closed with "]"' % (open_ + 1)
            if c == "]":
                st["i"] += 1
                return None
            pair = c + (at_(st["i"] + 1) or "")
            if pair in ("&&", "--", "~~", "||"):
                return '"%s" inside a class means set operations in some engines; write the character once (%s)' % (
                    pair,
                    at(),
                )
            prob, lo = class_item()
            if prob is not None:
                return prob
            if at_(st["i"]) == "-" and at_(st["i"] + 1) not in ("]", None):
                dash = st["i"]
                st["i"] += 1
                prob, hi = class_item()
                if prob is not None:
                    return prob
                if lo is None or hi is None:
                    return (
                        'a range cannot start or end with a class escape such as \\d (position %d); escape the "-" as "\\-"'
                        % (dash + 1)
                    )
                if hi < lo:
                    return "the range at position %d is out of order" % dash

    def alternatives():
        while True:
            while True:
                c = at_(st["i"])
                if c is None or c == "|" or c == ")":
                    break
                if c in ("^", "$"):
                    st["i"] += 1
                    if at_(st["i"]) in ("*", "+", "?", "{"):
                        return "an anchor cannot be quantified (%s)" % at()
                    continue
                if c in ("*", "+", "?"):
                    return '"%s" at position %d has nothing to repeat; escape it as "\\%s"' % (c, st["i"] + 1, c)
                if c == "{":
                    return '"{" at position %d has nothing to repeat; escape it as "\\{"' % (st["i"] + 1)
                if c in ("}", "]"):
                    return '"%s" at position %d must be escaped as "\\%s"' % (c, st["i"] + 1, c)
                if c == "(":
                    open_ = st["i"]
                    st["i"] += 1
                    if at_(st["i"]) == "?":
                        if at_(st["i"] + 1) == ":":
                            st["i"] += 2
                        else:
                            nx = at_(st["i"] + 1) or ""
                            if nx in ("=", "!"):
                                what = "lookahead"
                            elif nx == "<" and at_(st["i"] + 2) in ("=", "!"):
                                what = "lookbehind"
                            elif nx in ("<", "P"):
                                what = "named groups"
                            else:
                                what = 'inline flags and other "(?" forms'
                            return '%s ("(?%s\u2026") %s not supported (position %d); use "(" or "(?:"' % (
                                what,
                                nx,
                                "are" if what.endswith("s") else "is",
                                open_ + 1,
                            )
                    st["depth"] += 1
                    if st["depth"] > MAX_GROUP_DEPTH:
                        return "groups nest deeper than %d levels" % MAX_GROUP_DEPTH
                    prob = alternatives()
                    if prob is not None:
                        return prob
                    if at_(st["i"]) != ")":
                        return 'the group opened at position %d is not closed with ")"' % (open_ + 1)
                    st["i"] += 1
                    st["depth"] -= 1
                elif c == "[":
                    prob = cls()
                    if prob is not None:
                        return prob
                elif c == "\\":
                    prob = escape_problem(at_(st["i"] + 1), False)
                    if prob is not None:
                        return "%s (%s)" % (prob, at())
                    st["i"] += 2
                else:
                    st["i"] += 1
                q = quantifier()
                if q is not None:
                    return q
            if at_(st["i"]) == "|":
                st["i"] += 1
                continue
            return None

    problem = alternatives()
    if problem is not None:
        return problem
    if st["i"] < n:
        return '")" at position %d has no matching "("; escape it as "\\)"' % (st["i"] + 1)
    return None


# ---------------------------------------------------------------------------
# Translation to Python `re`

_S_RANGES = [
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
]
_D_RANGES = [(0x30, 0x39)]
_W_RANGES = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]


def _complement(ranges):
    out = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    return out


def _cp(c):
    return "\\U%08x" % c


def _ranges_text(ranges):
    return "".join(_cp(lo) if lo == hi else "%s-%s" % (_cp(lo), _cp(hi)) for lo, hi in ranges)


_CLASS_BODY = {
    "d": _ranges_text(_D_RANGES),
    "D": _ranges_text(_complement(_D_RANGES)),
    "w": _ranges_text(_W_RANGES),
    "W": _ranges_text(_complement(_W_RANGES)),
    "s": _ranges_text(_S_RANGES),
    "S": _ranges_text(_complement(_S_RANGES)),
}
_DOT = "[^\\n\\r\\u2028\\u2029]"


def _lit(c):
    return _cp(ord(c))


def to_python_regex(p):
    """The Python ``re`` source for a pattern that :func:`check_pattern_subset` accepted."""
    cps = list(p)
    n = len(cps)
    out = []
    i = 0
    while i < n:
        c = cps[i]
        if c == "^":
            out.append("^")
        elif c == "$":
            out.append("\\Z")
        elif c == ".":
            out.append(_DOT)
        elif c == "(":
            out.append("(?:")
            if i + 2 < n + 1 and cps[i + 1 : i + 3] == ["?", ":"]:
                i += 2
        elif c in ")|*+?":
            out.append(c)
        elif c == "{":
            j = cps.index("}", i)
            out.append("".join(cps[i : j + 1]))
            i = j
        elif c == "\\":
            e = cps[i + 1]
            out.append("[%s]" % _CLASS_BODY[e] if e in _CLASS_BODY else _lit(e))
            i += 1
        elif c == "[":
            i += 1
            body = []
            if cps[i] == "^":
                body.append("^")
                i += 1
            first = True
            while first or cps[i] != "]":
                first = False

                def item():
                    nonlocal i
                    ch = cps[i]
                    if ch == "\\":
                        e = cps[i + 1]
                        i += 2
                        return _CLASS_BODY[e] if e in _CLASS_BODY else _lit(e), e not in _CLASS_BODY
                    i += 1
                    return _lit(ch), True

                lo, _ = item()
                if cps[i] == "-" and cps[i + 1] != "]":
                    i += 1
                    hi, _ = item()
                    body.append("%s-%s" % (lo, hi))
                else:
                    body.append(lo)
            out.append("[%s]" % "".join(body))
        else:
            out.append(_lit(c))
        i += 1
    return "".join(out)


def compile_pattern(p):
    """A compiled Python regex with ECMAScript semantics for an accepted pattern."""
    return re.compile(to_python_regex(p))
