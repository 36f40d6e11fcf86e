"""The environment layer (§env.mapping, §env.reserved, §env.coerce; TypeScript: src/core/env.ts).
Pure: the environment is a parameter, never read here.

``display.units`` under prefix ``PSMC`` is fed by ``PSMC_DISPLAY__UNITS``: the
prefix, ``_``, the key upper-cased with ``.`` → ``__`` and ``-`` → ``_``.
"""
import math
import re

from .errors import PsmcError
from .keys import assert_key
from .value import assert_value, js_quote, parse_json, parse_loose

RESERVED_ENV_SUFFIXES = ("HOME", "DEBUG", "SECRET_KEY", "SOURCE", "STORE", "APP", "PROJECT")
DEFAULT_ENV_PREFIX = "PSMC"
RESERVED_ENV_NAMES = tuple("%s_%s" % (DEFAULT_ENV_PREFIX, s) for s in RESERVED_ENV_SUFFIXES)

_PREFIX_RE = re.compile(r"[A-Z][A-Z0-9_]*\Z")


def _assert_prefix(prefix):
    if not isinstance(prefix, str) or _PREFIX_RE.match(prefix) is None:
        raise TypeError("env prefix must match ^[A-Z][A-Z0-9_]*$, received %r" % (prefix,))


def _ascii_upper(s):
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in s) if not s.isascii() else s.upper()


def prefix_from_app(app):
    """The prefix for an app name: ASCII upper-cased, ``-`` → ``_``; TypeError unless usable."""
    if not isinstance(app, str):
        raise TypeError("app must be a string, received %s" % type(app).__name__)
    p = _ascii_upper(app).replace("-", "_")
    if _PREFIX_RE.match(p) is None:
        raise TypeError(
            "app name %r does not give a usable environment prefix (%r must match ^[A-Z][A-Z0-9_]*$)" % (app, p)
        )
    return p


def env_name(prefix, key):
    """The variable name for a legal ``key``."""
    _assert_prefix(prefix)
    assert_key(key)
    return "%s_%s" % (prefix, key.upper().replace(".", "__").replace("-", "_"))


def is_reserved_env_name(prefix, name):
    """True when ``name`` is one of psmc's own variables under ``prefix`` (``<P>_HOME`` …)."""
    if not name.startswith(prefix) or name[len(prefix) : len(prefix) + 1] != "_":
        return False
    return name[len(prefix) + 1 :] in RESERVED_ENV_SUFFIXES


def env_variable_for(prefix, key):
    """The variable that feeds ``key``, or None when that name is reserved."""
    name = env_name(prefix, key)
    return None if is_reserved_env_name(prefix, name) else name


def snapshot_env(env, prefix, case_insensitive=False):
    """The variables that can feed keys: ``<prefix>_…`` (at least one more character), minus reserved names."""
    _assert_prefix(prefix)
    out = {}
    start = prefix + "_"
    for raw_name, v in env.items():
        name = _ascii_upper(raw_name) if case_insensitive else raw_name
        if len(name) <= len(start) or not name.startswith(start) or is_reserved_env_name(prefix, name):
            continue
        if isinstance(v, str):
            out[name] = v
    return out


# ---------------------------------------------------------------------------
# Coercion (§env.coerce)

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")

_INTEGER_RE = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_TRIM = "\t\n\x0b\x0c\r "
_MAX_SAFE = 9007199254740991


def trim_ascii(s):
    """Removes surrounding tab, LF, VT, FF, CR and space only."""
    return s.strip(_TRIM)


def _ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


EXAMPLE = {
    "null": "null",
    "boolean": "true/false (also 1/0, yes/no, on/off)",
    "integer": "an integer such as 42",
    "number": "a number such as 1.5",
    "string": "any text",
    "array": 'a JSON array such as ["a","b"]',
    "object": 'a JSON object such as {"a":1}',
}


def _utf16_slice(s, units):
    out = []
    n = 0
    for c in s:
        w = 2 if ord(c) > 0xFFFF else 1
        if n + w > units:
            break
        out.append(c)
        n += w
    return "".join(out), n


def _shown(raw, secret):
    if secret:
        return "(a secret value)"
    cut, n = _utf16_slice(raw, 80)
    if len(cut) == len(raw):
        return js_quote(raw)
    return js_quote(cut) + "\u2026"


def _coerce_error(variable, raw, key, secret, problem, expected, extra=None, cause=None):
    details = {"key": key, "variable": variable}
    if extra:
        details.update(extra)
    return PsmcError(
        "PSMC_ENV_COERCE",
        "The environment variable %s=%s cannot be used for key %s: %s." % (variable, _shown(raw, secret), js_quote(key), problem),
        "Set %s to %s, or unset it." % (variable, expected),
        details,
        cause,
    )


class _NoValue(object):
    pass


_NONE = _NoValue()


def _value_ok(v):
    try:
        return assert_value(v)
    except PsmcError:
        return _NONE


def _parse_as(step, raw, allow):
    if step == "null":
        return None if _ascii_lower(trim_ascii(raw)) == "null" else _NONE
    if step == "boolean":
        w = _ascii_lower(trim_ascii(raw))
        return True if w in TRUE_WORDS else False if w in FALSE_WORDS else _NONE
    if step == "integer":
        w = trim_ascii(raw)
        if _INTEGER_RE.match(w) is None:
            return _NONE
        # Number(w) in ECMAScript: the nearest double. A safe integer is exact either way.
        n = int(w)
        return n if -_MAX_SAFE <= n <= _MAX_SAFE else _NONE
    if step == "number":
        w = trim_ascii(raw)
        if _NUMBER_RE.match(w) is None:
            return _NONE
        n = float(w)
        if not math.isfinite(n) or (n.is_integer() and not -_MAX_SAFE <= n <= _MAX_SAFE):
            return _NONE
        if n == 0:
            return 0
        return int(n) if n.is_integer() else n
    if step == "json":
        try:
            parsed = parse_json(raw)
        except PsmcError:
            return _NONE  # not JSON: this step does not apply
        is_arr = isinstance(parsed, list)
        is_obj = isinstance(parsed, dict)
        if not ((is_arr and "array" in allow) or (is_obj and "object" in allow)):
            return _NONE
        return _value_ok(parsed)
    return _value_ok(raw)  # string


_UNION_ORDER = ("null", "boolean", "integer", "number", "json", "string")


def _step_allowed(step, allow):
    return ("array" in allow or "object" in allow) if step == "json" else step in allow


def _type_problem(raw, types):
    w = trim_ascii(raw)
    if "integer" in types and _INTEGER_RE.match(w):
        return "it is an integer outside \u00b19007199254740991"
    if "number" in types and _NUMBER_RE.match(w):
        return "the number is not finite or is an integer outside \u00b19007199254740991"
    if w == "":
        return "it is empty, and %s %s" % (
            "the key expects" if len(types) == 1 else "the key expects one of",
            ", ".join(types),
        )

    def a(t):
        if t == "integer":
            return "an integer"
        if t in ("array", "object"):
            return "a JSON %s" % t
        if t == "null":
            return "null"
        return "a %s" % t

    return "it is not %s" % " or ".join(a(t) for t in types)


def coerce_env(raw, schema, var_name, key):
    """Turns a variable's text into the key's value (§env.coerce); raises PSMC_ENV_COERCE."""
    from .schema import SCHEMA_TYPES, check_for_key_schema

    secret = schema is not None and schema.get("secret") is True
    raw_type = None if schema is None else schema.get("type")
    if raw_type is None:
        try:
            value = parse_loose(raw, key)
        except PsmcError as e:
            raise _coerce_error(
                var_name,
                raw,
                key,
                secret,
                e.message[:-1] if e.message.endswith(".") else e.message,
                "a valid JSON value or plain text",
                {"keyword": "value"},
                e,
            )
        if schema is None:
            return value
        check = check_for_key_schema(schema)
        f = check(value)
        if f is None:
            return value
        if not isinstance(value, str) and ("enum" in schema or "const" in schema) and check(raw) is None:
            return raw
        raise _violation_to_coerce(var_name, raw, key, secret, f)
    types = [raw_type] if isinstance(raw_type, str) else list(raw_type)
    allow = set(t for t in types if t in SCHEMA_TYPES)
    value = _NONE
    for step in _UNION_ORDER:
        if not _step_allowed(step, allow):
            continue
        value = _parse_as(step, raw, allow)
        if value is not _NONE:
            break
    if value is _NONE:
        expected = ", or ".join(EXAMPLE[t] for t in types)
        raise _coerce_error(var_name, raw, key, secret, _type_problem(raw, types), expected, {"keyword": "type"})
    f = check_for_key_schema(schema)(value)
    if f is not None:
        raise _violation_to_coerce(var_name, raw, key, secret, f)
    return value


def _violation_to_coerce(var_name, raw, key, secret, f):
    from .schema import violation_path

    path = violation_path(f)
    subject = "the value" if path == "" else "the value at %s" % path
    return _coerce_error(
        var_name, raw, key, secret, "%s %s" % (subject, f.problem), f.expected, {"keyword": f.keyword, "path": path}
    )
