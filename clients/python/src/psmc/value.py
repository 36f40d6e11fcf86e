"""Value rules and the encoded form (spec/SPEC.md §value.*; TypeScript: src/core/value.ts). Pure.

A value is any JSON value (None, bool, int, float, str, list/tuple, dict with
str keys) within these limits, identical in every language:

- numbers are finite; an integer(-valued) number lies within ±(2^53−1);
  ``-0`` is stored as ``0``;
- strings and member names are well-formed Unicode (no surrogate code points);
- no object member is named ``__proto__``;
- at most :data:`MAX_DEPTH` nested arrays/objects;
- the encoded form is at most :data:`MAX_VALUE_BYTES` bytes of UTF-8.

The encoded form is byte-identical to ECMAScript ``JSON.stringify``: compact,
members in ECMAScript property order (array-index names first, ascending, then
insertion order), numbers in ``Number::toString`` form.
"""
import json
import math
from json.encoder import encode_basestring as _quote_str  # C-accelerated; matches JSON.stringify for well-formed text

from .errors import PsmcError

MAX_VALUE_BYTES = 1048576
MAX_DEPTH = 64
MAX_SAFE_INTEGER = 9007199254740991
_MAX_ARRAY_INDEX = 4294967294  # 2^32 − 2


# ---------------------------------------------------------------------------
# ECMAScript text


def number_to_string(x):
    """ECMAScript ``Number::toString(x)`` (what ``String(x)`` and ``JSON.stringify`` print)."""
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        return str(x)
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    a = -x if x < 0 else x
    if a < 9007199254740992.0 and a.is_integer():
        return sign + str(int(a))
    # repr() gives the shortest digits that round-trip, like ECMAScript; only the layout differs.
    mantissa, _, exp_text = repr(a).partition("e")
    exp = int(exp_text) if exp_text else 0
    int_part, _, frac = mantissa.partition(".")
    raw = int_part + frac
    stripped = raw.lstrip("0")
    n = len(int_part) + exp - (len(raw) - len(stripped))  # value = 0.DIGITS × 10^n
    digits = stripped.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + es
    return sign + body


def _escape_surrogates(s):
    return "".join("\\u%04x" % ord(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)


def js_quote(s):
    """``JSON.stringify(s)`` for a string (lone surrogates escaped as ECMAScript does)."""
    if not _well_formed(s):
        return _escape_surrogates(_quote_str(s))
    return _quote_str(s)


def _is_array_index(name):
    if not name or len(name) > 10 or not name.isdigit() or not name.isascii():
        return False
    if name[0] == "0" and len(name) > 1:
        return False
    return int(name) <= _MAX_ARRAY_INDEX


def member_order(names):
    """ECMAScript property order: array-index names ascending, then the others as given."""
    idx = None
    for n in names:
        if type(n) is str and n and n[0] in "0123456789" and _is_array_index(n):
            if idx is None:
                idx = []
            idx.append(n)
    if idx is None:
        return list(names)
    idx.sort(key=int)
    return idx + [n for n in names if type(n) is not str or not _is_array_index(n)]


def _write(v, out):
    t = type(v)
    if t is str:
        out.append(_quote_str(v))
    elif v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(number_to_string(v))
    elif t is dict:
        if not v:
            out.append("{}")
            return
        out.append("{")
        first = True
        for name in member_order(list(v)):
            if not first:
                out.append(",")
            first = False
            out.append(_quote_str(name))
            out.append(":")
            _write(v[name], out)
        out.append("}")
    elif t is list or t is tuple:
        if not v:
            out.append("[]")
            return
        out.append("[")
        first = True
        for item in v:
            if not first:
                out.append(",")
            first = False
            _write(item, out)
        out.append("]")
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, int):
        out.append(str(int(v)))
    elif isinstance(v, float):
        out.append(number_to_string(float(v)))
    elif isinstance(v, str):
        out.append(_quote_str(str(v)))
    else:
        raise TypeError("not a JSON value: %s" % type(v).__name__)


def stringify(v, indent=None):
    """``JSON.stringify(v)`` (or ``JSON.stringify(v, null, indent)``) of a checked value."""
    if indent is None:
        out = []
        _write(v, out)
        return "".join(out)
    out = []
    _pretty(v, out, " " * indent, "")
    return "".join(out)


def _pretty(v, out, step, pad):
    if isinstance(v, dict) and v:
        inner = pad + step
        out.append("{\n")
        names = member_order(list(v))
        for i, name in enumerate(names):
            out.append(inner + js_quote(name) + ": ")
            _pretty(v[name], out, step, inner)
            out.append(",\n" if i < len(names) - 1 else "\n")
        out.append(pad + "}")
    elif isinstance(v, (list, tuple)) and v:
        inner = pad + step
        out.append("[\n")
        for i, item in enumerate(v):
            out.append(inner)
            _pretty(item, out, step, inner)
            out.append(",\n" if i < len(v) - 1 else "\n")
        out.append(pad + "]")
    elif isinstance(v, str):
        out.append(js_quote(v))
    else:
        _write(v, out)


# ---------------------------------------------------------------------------
# Checking


def _well_formed(s):
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _value_error(message, path, hint, key):
    details = {"path": path} if key is None else {"key": key, "path": path}
    return PsmcError("PSMC_VALUE_INVALID", message, hint, details)


def _where(path, key):
    at = "the value" if path == "" else "the value at %s" % path
    return at if key is None else "%s of key %s" % (at, js_quote(key))


def _check_string(s, path, key, what):
    if _well_formed(s):
        return
    i = next(i for i, c in enumerate(s) if 0xD800 <= ord(c) <= 0xDFFF)
    raise _value_error(
        "%s in %s holds a lone UTF-16 surrogate (U+%X) at index %d, which is not valid Unicode."
        % (what, _where(path, key), ord(s[i]), i),
        path,
        "Remove the broken character, or encode binary data as base64 in a string.",
        key,
    )


def _pointer(name):
    return name.replace("~", "~0").replace("/", "~1")


def _check(v, path, depth, key):
    t = type(v)
    if t is str:
        _check_string(v, path, key, "A string")
        return v
    if v is None or v is True or v is False:
        return v
    if t is int:
        if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
            return v
        raise _value_error(
            "%s is the integer %d, outside \u00b19007199254740991, which not every language reads exactly."
            % (_where(path, key), v),
            path,
            'Store integers this large as strings (e.g. "9007199254740993").',
            key,
        )
    if t is float:
        if v != v or v in (math.inf, -math.inf):
            raise _value_error(
                "%s is %s, which JSON cannot hold." % (_where(path, key), number_to_string(v)),
                path,
                'Use a finite number, null, or a string such as "Infinity".',
                key,
            )
        if v.is_integer():
            if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                return 0 if v == 0 else v
            raise _value_error(
                "%s is the integer %s, outside \u00b19007199254740991, which not every language reads exactly."
                % (_where(path, key), number_to_string(v)),
                path,
                'Store integers this large as strings (e.g. "9007199254740993").',
                key,
            )
        return v
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise _too_deep(path, key)
        out = None
        for i, item in enumerate(v):
            c = _check(item, "%s/%d" % (path, i), depth + 1, key)
            if c is not item:
                if out is None:
                    out = list(v)
                out[i] = c
        if out is not None:
            return out
        return v if t is list else list(v)
    if t is dict:
        if depth >= MAX_DEPTH:
            raise _too_deep(path, key)
        out = None
        for m in member_order(list(v)):
            if type(m) is not str:
                raise _value_error(
                    "%s has a member name %r that is not a string." % (_where(path, key), m),
                    path,
                    "Use strings as member names.",
                    key,
                )
            member_path = path + "/" + _pointer(m)
            _check_string(m, member_path, key, "A member name")
            if m == "__proto__":
                raise _value_error(
                    '%s has a member named "__proto__", which psmc refuses in every language.' % (_where(path, key),),
                    member_path,
                    "Rename the member.",
                    key,
                )
            item = v[m]
            c = _check(item, member_path, depth + 1, key)
            if c is not item:
                if out is None:
                    out = dict(v)
                out[m] = c
        return v if out is None else out
    # Subclasses of the JSON types (e.g. an IntEnum, a str subclass) are read as their base type.
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return _check(int(v), path, depth, key)
    if isinstance(v, float):
        return _check(float(v), path, depth, key)
    if isinstance(v, str):
        return _check(str(v), path, depth, key)
    if isinstance(v, (list, tuple)):
        return _check(list(v), path, depth, key)
    if isinstance(v, dict):
        return _check(dict(v), path, depth, key)
    raise _value_error(
        "%s is a %s, which JSON cannot hold." % (_where(path, key), type(v).__name__),
        path,
        "Pass dicts, lists, strings, numbers, booleans or None (convert dates with isoformat()); "
        "to remove a key use delete/unset.",
        key,
    )


def _too_deep(path, key):
    return _value_error(
        "%s nests deeper than %d levels." % (_where(path, key), MAX_DEPTH),
        path,
        "Flatten the value; at most %d nested arrays/objects are allowed." % MAX_DEPTH,
        key,
    )


def assert_value(value, key=None):
    """Checks ``value`` against the value rules; returns it (``-0`` as ``0``, tuples as lists).

    Raises PSMC_VALUE_INVALID naming the JSON-pointer path of the first offending part.
    """
    return _check(value, "", 0, key)


def encode_checked(value, key=None):
    """``(checked value, stored text)``. Raises PSMC_VALUE_INVALID / PSMC_VALUE_TOO_LARGE."""
    v = _check(value, "", 0, key)
    out = []
    _write(v, out)
    text = "".join(out)
    if len(text) * 4 > MAX_VALUE_BYTES:
        size = len(text.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise PsmcError(
                "PSMC_VALUE_TOO_LARGE",
                "The value%s is %d bytes encoded; the limit is %d."
                % ("" if key is None else " of key %s" % js_quote(key), size, MAX_VALUE_BYTES),
                "Split it across several keys, or keep large data in a file and store its path.",
                {} if key is None else {"key": key},
            )
    return v, text


def encode_value(value, key=None):
    """The stored text of ``value`` (§value.encoding)."""
    return encode_checked(value, key)[1]


# ---------------------------------------------------------------------------
# Parsing


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def _parse_int(text):
    # Beyond ~300 digits the double is infinite anyway; int() of a huge text is slow or refused.
    return int(text) if len(text) <= 320 else float(text)


def parse_json(text, key=None):
    """Parses JSON text exactly as ECMAScript ``JSON.parse`` accepts it (no NaN/Infinity).

    Raises PSMC_PARSE on text that is not JSON. The result is not checked against the value rules.
    """
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=_parse_int)
    except RecursionError:
        # Valid or not, it nests far deeper than any value may.
        raise PsmcError(
            "PSMC_VALUE_INVALID",
            "%s nests deeper than %d levels." % (_where("", key), MAX_DEPTH),
            "Flatten the value; at most %d nested arrays/objects are allowed." % MAX_DEPTH,
            {"path": ""} if key is None else {"key": key, "path": ""},
        )
    except ValueError as cause:
        raise PsmcError(
            "PSMC_PARSE",
            "Not valid JSON%s: %s" % ("" if key is None else " for key %s" % js_quote(key), cause),
            "Check quotes, commas and brackets; strings need double quotes.",
            {} if key is None else {"key": key},
            cause,
        ) from cause


def decode_value(text, key=None):
    """Parses user-supplied JSON text and checks it against the value rules."""
    return assert_value(parse_json(text, key), key)


def decode_stored(text):
    """Decodes text the store itself wrote (already validated): no re-check, for the hot path."""
    return json.loads(text)


def parse_loose(text, key=None):
    """Like ``psmc set``: JSON when the text parses as JSON, otherwise the text itself as a string."""
    try:
        parsed = parse_json(text, key)
    except PsmcError as e:
        if e.code != "PSMC_PARSE":
            raise
        return assert_value(text, key)
    return assert_value(parsed, key)


# ---------------------------------------------------------------------------
# Types and equality


def is_number(v):
    return (type(v) is int or type(v) is float) or (isinstance(v, (int, float)) and not isinstance(v, bool))


def is_integer_number(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and v.is_integer()


def type_of(value):
    """The type name recorded for a (checked) value (§value.types)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def values_equal(a, b):
    """Deep equality of JSON values; object member order does not matter; 1 equals 1.0; True never equals 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)):
        return isinstance(b, (int, float)) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return False
        return all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        for k, x in a.items():
            if k not in b or not values_equal(x, b[k]):
                return False
        return True
    return False


def primitive_key(v):
    """A hashable key that tells equal primitives apart from the rest (None for arrays/objects)."""
    if v is None:
        return ("n",)
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("d", v)
    if isinstance(v, str):
        return ("s", v)
    return None


def deep_copy(v):
    """A copy of a JSON value (lists and dicts copied)."""
    if isinstance(v, dict):
        return {k: deep_copy(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [deep_copy(x) for x in v]
    return v
