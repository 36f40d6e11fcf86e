"""Key rules (spec/SPEC.md §key.syntax, §key.reserved, §key.limits). Pure: no I/O.

A key is one or more segments joined by ``.``; a segment is runs of ASCII
letters and digits joined by single ``_`` or ``-`` characters. At most 256
characters and 32 segments. Segments naming object machinery (``__proto__``,
``prototype``, ``constructor`` …) are refused with PSMC_KEY_RESERVED, compared
case-insensitively, before any other rule but emptiness.
"""
import re

from .errors import PsmcError

MAX_KEY_LENGTH = 256
MAX_KEY_SEGMENTS = 32

# \Z, not $: Python's $ also matches before a final newline.
_KEY_RE = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*(?:\.[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*)*\Z")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*\Z")
_BAD_CHAR_RE = re.compile(r"[^A-Za-z0-9_-]")

RESERVED_SEGMENTS = frozenset(
    [
        "__proto__",
        "prototype",
        "constructor",
        "hasownproperty",
        "isprototypeof",
        "propertyisenumerable",
        "tolocalestring",
        "tostring",
        "valueof",
        "__definegetter__",
        "__definesetter__",
        "__lookupgetter__",
        "__lookupsetter__",
    ]
)


def utf16_len(s):
    """Length of ``s`` in UTF-16 code units (what JavaScript's ``length`` counts)."""
    n = len(s)
    if not s.isascii():
        n += sum(1 for c in s if ord(c) > 0xFFFF)
    return n


def utf16_order(s):
    """Sort key for JavaScript's default string order (UTF-16 code units). Keys are ASCII, so for
    them this is byte order: ``"10"`` before ``"2"`` before ``"Zeta"`` before ``"a"``."""
    return s.encode("utf-16-be", "surrogatepass")


def _describe(key):
    from .value import js_quote

    return js_quote(key[:80] + "\u2026" if len(key) > 80 else key)


def is_reserved_segment(segment):
    return segment.lower() in RESERVED_SEGMENTS


def is_valid_key(key):
    """True when ``key`` is a legal key. Never raises."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or _KEY_RE.match(key) is None:
        return False
    segments = key.split(".")
    if len(segments) > MAX_KEY_SEGMENTS:
        return False
    for s in segments:
        if s.lower() in RESERVED_SEGMENTS:
            return False
    return True


def assert_key(key, what="key"):
    """Raises PSMC_KEY_SYNTAX / PSMC_KEY_RESERVED unless ``key`` is legal (TypeError for a non-string)."""
    if not isinstance(key, str):
        raise TypeError("%s must be a string, received %s" % (what, "None" if key is None else type(key).__name__))
    if is_valid_key(key):
        return key
    raise key_error(key)


def key_error(key):
    """The precise error for an illegal key: which rule, where, and how to fix it."""
    details = {"key": key}
    if key == "":
        return PsmcError("PSMC_KEY_SYNTAX", "The key is empty.", "Give a dotted name such as display.units.", details)
    segments = key.split(".")
    for i, seg in enumerate(segments):
        if is_reserved_segment(seg):
            from .value import js_quote

            return PsmcError(
                "PSMC_KEY_RESERVED",
                "The key %s uses the reserved segment %s (segment %d)." % (_describe(key), js_quote(seg), i + 1),
                "Segments that name object machinery (__proto__, prototype, constructor, toString \u2026) are refused "
                "in every language; rename the segment.",
                dict(details, segment=seg),
            )
    length = utf16_len(key)
    if length > MAX_KEY_LENGTH:
        return PsmcError(
            "PSMC_KEY_SYNTAX",
            "The key %s is %d characters long; the limit is %d." % (_describe(key), length, MAX_KEY_LENGTH),
            "Use a shorter key; put long data in the value instead.",
            details,
        )
    if len(segments) > MAX_KEY_SEGMENTS:
        return PsmcError(
            "PSMC_KEY_SYNTAX",
            "The key %s has %d segments; the limit is %d." % (_describe(key), len(segments), MAX_KEY_SEGMENTS),
            "Flatten the key; nest data inside the value instead.",
            details,
        )
    from .value import js_quote

    for i, seg in enumerate(segments):
        if _SEGMENT_RE.match(seg):
            continue
        pos = len(".".join(segments[:i])) + (1 if i > 0 else 0)
        if seg == "":
            if i == 0:
                why = 'starts with "."'
            elif i == len(segments) - 1:
                why = 'ends with "."'
            else:
                why = 'has an empty segment ("..")'
        else:
            bad = _BAD_CHAR_RE.search(seg)
            if bad is not None:
                pos += bad.start()
                ch = bad.group(0)
                why = "has the character %s (U+%04X) at position %d" % (js_quote(ch), ord(ch), pos + 1)
            elif seg[0] in "_-":
                why = 'has segment %s that starts with "%s"' % (js_quote(seg), seg[0])
            elif seg[-1] in "_-":
                why = 'has segment %s that ends with "%s"' % (js_quote(seg), seg[-1])
            else:
                why = 'has segment %s with two "_"/"-" in a row' % (js_quote(seg),)
        return PsmcError(
            "PSMC_KEY_SYNTAX",
            "The key %s %s." % (_describe(key), why),
            'Keys are dot-separated segments of ASCII letters and digits, joined inside a segment by single "_" '
            'or "-" (e.g. display.units, sensor-1.max_temp).',
            dict(details, position=pos + 1),
        )
    return PsmcError(  # unreachable: the regex and the per-segment checks agree
        "PSMC_KEY_SYNTAX",
        "The key %s is not a legal key." % (_describe(key),),
        "Keys are dot-separated segments of ASCII letters and digits.",
        details,
    )


def key_has_prefix(key, prefix):
    """True when ``key`` equals ``prefix`` or lies under it (``a.b`` is under ``a``; ``ab`` is not)."""
    if prefix == "":
        return True
    return key == prefix or (key.startswith(prefix) and key[len(prefix) : len(prefix) + 1] == ".")


def normalize_prefix(prefix):
    """A prefix for list/history: empty (everything) or a legal key, optionally with a trailing ``.``."""
    if prefix is None or prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a string")
    p = prefix[:-1] if prefix.endswith(".") else prefix
    assert_key(p, "prefix")
    return p
