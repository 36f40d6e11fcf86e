"""Parsing a schema document (§schema.document, §schema.subset): checks the whole document and
returns a normalised copy, or raises PSMC_SCHEMA_INVALID with a JSON-pointer path."""
import math
import re

from ..errors import PsmcError
from ..value import assert_value, deep_copy, number_to_string
from .compile import compile_node
from .key_pattern import parse_key_name
from .messages import describe, invalid, pointer_segment, quote
from .pattern import check_pattern_subset, to_python_regex
from .types import DOCUMENT_MEMBERS, SCHEMA_TYPES, SUPPORTED_KEYWORDS
from .violation import violation_path

_KEYWORDS = frozenset(SUPPORTED_KEYWORDS)
_SUPPORTED_HINT = "Supported keywords: %s." % ", ".join(SUPPORTED_KEYWORDS)


def _well_formed(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_value_at(v, path):
    try:
        return deep_copy(assert_value(v))
    except PsmcError as e:
        inner = e.details.get("path") if isinstance(e.details.get("path"), str) else ""
        raise invalid(path + inner, "not a valid psmc value: %s" % e.message, e.hint)


def _expect_number(v, path, kw):
    if not _is_num(v) or (isinstance(v, float) and not math.isfinite(v)):
        raise invalid(path, '"%s" must be a finite number, not %s.' % (kw, describe(v)), 'Write e.g. "%s": 0.' % kw)
    return 0 if v == 0 else v


def _expect_count(v, path, kw):
    ok = _is_num(v) and (isinstance(v, int) or v.is_integer()) and 0 <= v <= 9007199254740991
    if not ok:
        raise invalid(path, '"%s" must be a non-negative integer, not %s.' % (kw, describe(v)), 'Write e.g. "%s": 1.' % kw)
    return int(v)


def _expect_bool(v, path, kw):
    if not isinstance(v, bool):
        raise invalid(
            path, '"%s" must be true or false, not %s.' % (kw, describe(v)), 'Write "%s": true or "%s": false.' % (kw, kw)
        )
    return v


def _expect_string(v, path, kw):
    if not isinstance(v, str) or not _well_formed(v):
        raise invalid(path, '"%s" must be a string, not %s.' % (kw, describe(v)), 'Write "%s" as a JSON string.' % kw)
    return v


def _check_member_name(name, path):
    if not isinstance(name, str):
        raise invalid(path, "a member name must be a string.", "Use strings as member names.")
    if name == "__proto__":
        raise invalid(
            path, 'the member name "__proto__" is refused anywhere in a schema.', 'Rename or remove the "__proto__" member.'
        )
    if not _well_formed(name):
        raise invalid(path, "a member name holds a lone UTF-16 surrogate.", "Use well-formed Unicode in member names.")


def _parse_type(v, path):
    hint = "Use one of %s, or a non-empty array of them." % ", ".join('"%s"' % t for t in SCHEMA_TYPES)

    def one(t, p):
        if isinstance(t, str) and t in SCHEMA_TYPES:
            return t
        raise invalid(p, "%s is not a type name." % describe(t), hint)

    if isinstance(v, (list, tuple)):
        if not v:
            raise invalid(path, '"type" is an empty array.', hint)
        out = []
        for i, t in enumerate(v):
            n = one(t, "%s/%d" % (path, i))
            if n in out:
                raise invalid("%s/%d" % (path, i), 'the type "%s" is listed twice.' % n, "List each type once.")
            out.append(n)
        return out
    return one(v, path)


def _parse_node(raw, path):
    if not isinstance(raw, dict):
        raise invalid(
            path,
            "a schema must be a JSON object, not %s." % describe(raw),
            'Write a schema such as {"type": "string"}; boolean schemas are not supported.',
        )
    out = {}
    for kw in raw:
        p = "%s/%s" % (path, pointer_segment(kw) if isinstance(kw, str) else kw)
        _check_member_name(kw, p)
        if kw not in _KEYWORDS:
            raise invalid(p, "the keyword %s is not supported." % quote(kw), _SUPPORTED_HINT)
        v = raw[kw]
        if kw == "type":
            parsed = _parse_type(v, p)
        elif kw == "enum":
            if not isinstance(v, (list, tuple)) or not v:
                raise invalid(
                    p, '"enum" must be a non-empty array, not %s.' % describe(v), 'Write e.g. "enum": ["metric", "imperial"].'
                )
            parsed = [_json_value_at(x, "%s/%d" % (p, i)) for i, x in enumerate(v)]
        elif kw in ("const", "default"):
            parsed = _json_value_at(v, p)
        elif kw == "examples":
            if not isinstance(v, (list, tuple)):
                raise invalid(p, '"examples" must be an array, not %s.' % describe(v), 'Write e.g. "examples": ["metric"].')
            parsed = [_json_value_at(x, "%s/%d" % (p, i)) for i, x in enumerate(v)]
        elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            parsed = _expect_number(v, p, kw)
        elif kw == "multipleOf":
            parsed = _expect_number(v, p, kw)
            if parsed <= 0:
                raise invalid(
                    p, '"multipleOf" must be greater than 0, not %s.' % number_to_string(parsed), 'Write e.g. "multipleOf": 0.5.'
                )
        elif kw in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
            parsed = _expect_count(v, p, kw)
        elif kw in ("uniqueItems", "deprecated", "readOnly", "secret"):
            parsed = _expect_bool(v, p, kw)
        elif kw in ("title", "description"):
            parsed = _expect_string(v, p, kw)
        elif kw == "pattern":
            s = _expect_string(v, p, kw)
            problem = check_pattern_subset(s)
            if problem is not None:
                raise invalid(
                    p,
                    "the pattern %s is outside the portable regex subset: %s." % (quote(s), problem),
                    "Patterns may use literals, \".\", classes [...] and [^...], \\d \\w \\s \\D \\W \\S, escaped syntax "
                    "characters, ^ $, groups ( ) and (?: ), | and the quantifiers * + ? {n} {n,} {n,m}.",
                )
            try:
                re.compile(to_python_regex(s))
            except (re.error, RecursionError, OverflowError) as e:
                raise invalid(p, "the pattern %s does not compile: %s." % (quote(s), e), "Fix the regular expression.")
            parsed = s
        elif kw == "items":
            if isinstance(v, (list, tuple)):
                raise invalid(
                    p,
                    '"items" must be one schema for every item; tuple forms (an array of schemas) are not supported.',
                    'Write e.g. "items": {"type": "string"}.',
                )
            parsed = _parse_node(v, p)
        elif kw == "additionalProperties":
            parsed = v if isinstance(v, bool) else _parse_node(v, p)
        elif kw == "properties":
            if not isinstance(v, dict):
                raise invalid(
                    p,
                    '"properties" must be an object of schemas, not %s.' % describe(v),
                    'Write e.g. "properties": {"name": {"type": "string"}}.',
                )
            props = {}
            for name in v:
                pp = "%s/%s" % (p, pointer_segment(name) if isinstance(name, str) else name)
                _check_member_name(name, pp)
                props[name] = _parse_node(v[name], pp)
            parsed = props
        elif kw == "required":
            if not isinstance(v, (list, tuple)):
                raise invalid(
                    p, '"required" must be an array of member names, not %s.' % describe(v), 'Write e.g. "required": ["name"].'
                )
            names = []
            for i, n in enumerate(v):
                np_ = "%s/%d" % (p, i)
                if not isinstance(n, str):
                    raise invalid(
                        np_, "a required member name must be a string, not %s." % describe(n), "List member names as strings."
                    )
                _check_member_name(n, np_)
                if n in names:
                    raise invalid(np_, "the member %s is listed twice." % quote(n), "List each required member once.")
                names.append(n)
            parsed = names
        else:  # unreachable: _KEYWORDS and this chain list the same keywords
            raise invalid(p, "the keyword %s is not supported." % quote(kw), _SUPPORTED_HINT)
        out[kw] = parsed
    if "default" in out:
        violation = compile_node(out, False)(out["default"])
        if violation is not None:
            inner = violation_path(violation)
            raise invalid(
                "%s/default%s" % (path, inner),
                "the default %s%s." % ("" if inner == "" else "(at %s) " % inner, violation.problem),
                "Make the default %s, or change the schema." % violation.expected,
            )
    return out


def parse_schema_document(doc):
    """Validates a schema document; returns a new, normalised copy (dicts and lists).

    Raises PSMC_SCHEMA_INVALID with ``details["path"]`` a JSON pointer into ``doc``.
    """
    if not isinstance(doc, dict):
        raise invalid(
            "",
            "a schema document must be a JSON object, not %s." % describe(doc),
            'Write {"version": 1, "keys": {"display.units": {"type": "string"}}}.',
        )
    for m in doc:
        p = "/%s" % (pointer_segment(m) if isinstance(m, str) else m)
        _check_member_name(m, p)
        if m not in DOCUMENT_MEMBERS:
            raise invalid(
                p,
                "the document member %s is not supported." % quote(m),
                'A schema document has only "version", "keys" and "additionalKeys".',
            )
    out = {}
    if "version" in doc:
        v = doc["version"]
        if isinstance(v, bool) or not _is_num(v) or v != 1:
            raise invalid("/version", '"version" must be 1, not %s.' % describe(v), 'Write "version": 1, or leave it out.')
        out["version"] = 1
    if "keys" not in doc:
        raise invalid("/keys", 'the document has no "keys" member.', 'Add "keys": {} with one schema per key.')
    keys = doc["keys"]
    if not isinstance(keys, dict):
        raise invalid(
            "/keys", '"keys" must be an object, not %s.' % describe(keys), 'Write "keys": {"display.units": {"type": "string"}}.'
        )
    out_keys = {}
    for name in keys:
        p = "/keys/%s" % (pointer_segment(name) if isinstance(name, str) else name)
        _check_member_name(name, p)
        parse_key_name(name, p)
        out_keys[name] = _parse_node(keys[name], p)
    out["keys"] = out_keys
    if "additionalKeys" in doc:
        out["additionalKeys"] = _expect_bool(doc["additionalKeys"], "/additionalKeys", "additionalKeys")
    return out
