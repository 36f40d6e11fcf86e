"""The YAML reader's node tree, its constants and the core-schema resolution of plain scalars
(part of the YAML codec, :mod:`psmc.mirror.yaml`)."""
import re

# ---------------------------------------------------------------------------
# Reading: the node tree

_YAML_HINT = (
    'Indent with spaces (not tabs), put a space after ":" and "-", and quote strings holding ": " or " #". See '
    "spec/sections/mirror-format.md \u00a7mirror.parse."
)

# The nesting the reader follows before it stops (deeper than any legal value, far from the stack limit).
_MAX_NESTING = 200


class _Node(object):
    __slots__ = ("kind", "style", "value", "source", "start", "end", "items", "flow", "anchor", "tag", "props_at")

    def __init__(self, kind, start, end=None):
        self.kind = kind  # "scalar", "seq", "map", "alias"
        self.style = "plain"  # scalars: "plain", "quoted", "block"
        self.value = None
        self.source = ""
        self.start = start
        self.end = start if end is None else end
        self.items = []  # seq: nodes (None for an empty item); map: (key node, value node, after colon)
        self.flow = False
        self.anchor = None
        self.tag = None
        self.props_at = start


_ESCAPES = {
    "0": "\x00",
    "a": "\x07",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX = frozenset("0123456789abcdefABCDEF")
_FLOW_IND = frozenset(",[]{}")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEXINT = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"([-+]?)\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")


def _resolve(s):
    """A plain scalar by the YAML 1.2 core schema."""
    if s in _NULLS:
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    if _INT.match(s):
        return int(s) if len(s) <= 320 else float(s)
    if _OCT.match(s):
        return int(s[2:], 8)
    if _HEXINT.match(s):
        return int(s[2:], 16)
    if _FLOAT.match(s):
        return float(s)
    m = _INF.match(s)
    if m:
        return float("-inf") if m.group(1) == "-" else float("inf")
    if _NAN.match(s):
        return float("nan")
    return s


def _join_surrogates(s):
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")




class _NotHere(Exception):
    pass
