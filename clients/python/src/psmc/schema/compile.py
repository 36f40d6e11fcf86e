"""Compiles one key schema into a check function (§schema.enforce): one closure per keyword,
run in SUPPORTED_KEYWORDS order; the first violation wins."""
from ..value import member_order, primitive_key, stringify, type_of, values_equal, number_to_string
from .messages import quote
from .numbers import is_multiple_of
from .pattern import compile_pattern
from .violation import Violation

A_TYPE = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}


def _or_list(items):
    if len(items) <= 1:
        return items[0] if items else ""
    return "%s or %s" % (", ".join(items[:-1]), items[-1])


def _render(v, redact):
    if redact:
        return "(a secret value)"
    s = stringify(v)
    return s[:60] + "\u2026" if len(s) > 60 else s


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def matches_type(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return _is_num(v) and (isinstance(v, int) or v.is_integer())
    if t == "number":
        return _is_num(v)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, (list, tuple))
    if t == "object":
        return isinstance(v, dict)
    return False


def _none(v):
    return None


def compile_node(s, redact):
    """Compiles a parsed key schema (a dict) into ``check(value) -> Violation | None``."""
    checks = []

    def r(v):
        return _render(v, redact)

    if "type" in s:
        types = [s["type"]] if isinstance(s["type"], str) else list(s["type"])
        expected_t = _or_list([A_TYPE[t] for t in types])

        def c_type(v):
            for t in types:
                if matches_type(t, v):
                    return None
            return Violation("type", "is %s (%s), not %s" % (r(v), A_TYPE[type_of(v)], expected_t), expected_t)

        checks.append(c_type)
    if "const" in s:
        const = s["const"]

        def c_const(v):
            if values_equal(v, const):
                return None
            shown = _render(const, False)
            return Violation("const", "is %s, not the required value %s" % (r(v), shown), "exactly %s" % shown)

        checks.append(c_const)
    if "enum" in s:
        enum = s["enum"]
        prim = set()
        complex_ = []
        for e in enum:
            k = primitive_key(e)
            if k is None:
                complex_.append(e)
            else:
                prim.add(k)
        shown = [_render(e, False) for e in enum[:20]]
        expected_e = "one of %s%s" % (", ".join(shown), " (and %d more)" % (len(enum) - 20) if len(enum) > 20 else "")

        def c_enum(v):
            k = primitive_key(v)
            if (k in prim) if k is not None else any(values_equal(v, e) for e in complex_):
                return None
            return Violation("enum", "is %s, not one of the allowed values" % r(v), expected_e)

        checks.append(c_enum)

    def num(kw, ok, problem, expected):
        if kw not in s:
            return
        bound = s[kw]
        b = number_to_string(bound)

        def c_num(v):
            if not _is_num(v) or ok(v, bound):
                return None
            return Violation(kw, "is %s, %s %s" % (r(v), problem, b), "%s %s" % (expected, b))

        checks.append(c_num)

    num("minimum", lambda v, b: v >= b, "below the minimum", "a number of at least")
    num("maximum", lambda v, b: v <= b, "above the maximum", "a number of at most")
    num("exclusiveMinimum", lambda v, b: v > b, "not above the exclusive minimum", "a number greater than")
    num("exclusiveMaximum", lambda v, b: v < b, "not below the exclusive maximum", "a number less than")
    num("multipleOf", is_multiple_of, "not a multiple of", "a multiple of")

    if "minLength" in s:
        min_len = s["minLength"]

        def c_min_len(v):
            if not isinstance(v, str) or len(v) >= min_len:
                return None
            return Violation(
                "minLength",
                "is %s, %d characters long, shorter than the minimum length %d" % (r(v), len(v), min_len),
                "a string of at least %d characters" % min_len,
            )

        checks.append(c_min_len)
    if "maxLength" in s:
        max_len = s["maxLength"]

        def c_max_len(v):
            if not isinstance(v, str) or len(v) <= max_len:
                return None
            return Violation(
                "maxLength",
                "is %s, %d characters long, longer than the maximum length %d" % (r(v), len(v), max_len),
                "a string of at most %d characters" % max_len,
            )

        checks.append(c_max_len)
    if "pattern" in s:
        src = s["pattern"]
        rx = compile_pattern(src)

        def c_pattern(v):
            if not isinstance(v, str) or rx.search(v) is not None:
                return None
            return Violation(
                "pattern",
                "is %s, which does not match the pattern %s" % (r(v), src),
                "a string matching the pattern %s" % src,
            )

        checks.append(c_pattern)
    if "minItems" in s:
        min_items = s["minItems"]

        def c_min_items(v):
            if not isinstance(v, (list, tuple)) or len(v) >= min_items:
                return None
            return Violation(
                "minItems",
                "is an array of %d items, fewer than the minimum %d" % (len(v), min_items),
                "an array of at least %d items" % min_items,
            )

        checks.append(c_min_items)
    if "maxItems" in s:
        max_items = s["maxItems"]

        def c_max_items(v):
            if not isinstance(v, (list, tuple)) or len(v) <= max_items:
                return None
            return Violation(
                "maxItems",
                "is an array of %d items, more than the maximum %d" % (len(v), max_items),
                "an array of at most %d items" % max_items,
            )

        checks.append(c_max_items)
    if s.get("uniqueItems") is True:

        def c_unique(v):
            if not isinstance(v, (list, tuple)) or len(v) < 2:
                return None
            seen = {}
            complex_idx = []
            for i, item in enumerate(v):
                k = primitive_key(item)
                dup = None
                if k is not None:
                    dup = seen.get(k)
                    if dup is None:
                        seen[k] = i
                else:
                    for j in complex_idx:
                        if values_equal(v[j], item):
                            dup = j
                            break
                    if dup is None:
                        complex_idx.append(i)
                if dup is not None:
                    f = Violation("uniqueItems", "repeats item %d (%s)" % (dup, r(item)), "an array without duplicate items")
                    f.rpath.append(str(i))
                    return f
            return None

        checks.append(c_unique)
    if "items" in s:
        item_check = compile_node(s["items"], redact)

        def c_items(v):
            if not isinstance(v, (list, tuple)):
                return None
            for i, item in enumerate(v):
                f = item_check(item)
                if f is not None:
                    f.rpath.append(str(i))
                    return f
            return None

        checks.append(c_items)
    if s.get("required"):
        req = list(s["required"])

        def c_required(v):
            if not isinstance(v, dict):
                return None
            for m in req:
                if m not in v:
                    return Violation(
                        "required", "has no member %s, which is required" % quote(m), "an object with the member %s" % quote(m)
                    )
            return None

        checks.append(c_required)
    if "minProperties" in s:
        min_p = s["minProperties"]

        def c_min_p(v):
            if not isinstance(v, dict) or len(v) >= min_p:
                return None
            return Violation(
                "minProperties",
                "has %d members, fewer than the minimum %d" % (len(v), min_p),
                "an object with at least %d members" % min_p,
            )

        checks.append(c_min_p)
    if "maxProperties" in s:
        max_p = s["maxProperties"]

        def c_max_p(v):
            if not isinstance(v, dict) or len(v) <= max_p:
                return None
            return Violation(
                "maxProperties",
                "has %d members, more than the maximum %d" % (len(v), max_p),
                "an object with at most %d members" % max_p,
            )

        checks.append(c_max_p)
    if "properties" in s or "additionalProperties" in s:
        props = {}
        for name, sub in (s.get("properties") or {}).items():
            props[name] = compile_node(sub, redact)
        ap = s.get("additionalProperties")
        if ap is None or ap is True:
            extra = None
        elif ap is False:
            extra = False
        else:
            extra = compile_node(ap, redact)
        allowed = [quote(n) for n in props]
        only = "an object with no members" if not allowed else "an object with only the members %s" % _or_list(allowed)

        def c_props(v):
            if not isinstance(v, dict):
                return None
            for m in member_order(list(v)):
                check = props.get(m)
                f = None
                if check is not None:
                    f = check(v[m])
                elif extra is False:
                    f = Violation("additionalProperties", "is not an allowed member", only)
                elif extra is not None:
                    f = extra(v[m])
                if f is not None:
                    f.rpath.append(m)
                    return f
            return None

        checks.append(c_props)

    if not checks:
        return _none
    if len(checks) == 1:
        return checks[0]

    def run(v):
        for c in checks:
            f = c(v)
            if f is not None:
                return f
        return None

    return run


def check_for_key_schema(schema):
    """The compiled check of a parsed key schema (cached on the schema dict's identity)."""
    key = id(schema)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    c = compile_node(schema, schema.get("secret") is True)
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[key] = (schema, c)
    return c


_CACHE = {}
