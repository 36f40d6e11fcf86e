"""The JSON export/import document (spec/SPEC.md §export; TypeScript: src/store/export.ts).

Export: ``{"format":"psmc-export","version":1,"revision":N,"entries":{key:{value,type,revision,updatedAt,source}},"schema"?}``.
Import accepts that document, or a flat object of dotted key → value.
"""
from .errors import PsmcError
from .keys import assert_key
from .value import assert_value, js_quote, member_order, stringify

EXPORT_FORMAT = "psmc-export"
EXPORT_VERSION = 1


def _import_error(message, file, key=None):
    details = {}
    if file is not None:
        details["file"] = file
    if key is not None:
        details["key"] = key
    return PsmcError(
        "PSMC_PARSE",
        "%s: %s" % ("The import document" if file is None else file, message),
        'Give an export document ({"format":"psmc-export","version":1,"entries":{\u2026}}) or a flat object of dotted '
        'key \u2192 value, e.g. {"display.units": "metric"}.',
        details,
    )


def _is_integral(v):
    return isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, float) and v.is_integer())


def parse_export(doc, file=None):
    """The checked key → value pairs of an import document (a dict, in document order)."""
    if not isinstance(doc, dict):
        what = "an array" if isinstance(doc, (list, tuple)) else "null" if doc is None else type(doc).__name__
        raise _import_error("expected a JSON object, found %s." % what, file)
    out = {}
    if doc.get("format") == EXPORT_FORMAT:
        version = doc.get("version")
        if not _is_integral(version) or version < 1:
            shown = "undefined" if "version" not in doc else stringify(version) if _json_like(version) else repr(version)
            raise _import_error('"version" must be a whole number \u2265 1, found %s.' % shown, file)
        if version != EXPORT_VERSION:
            raise PsmcError(
                "PSMC_FORMAT_TOO_NEW",
                "%s has export version %s; this psmc reads version 1."
                % ("The import document" if file is None else file, stringify(version)),
                "Export it again with this psmc version, or upgrade psmc.",
            )
        entries = doc.get("entries")
        if not isinstance(entries, dict):
            raise _import_error('"entries" must be an object.', file)
        for key in member_order(list(entries)):
            e = entries[key]
            assert_key(key)
            if not isinstance(e, dict) or "value" not in e:
                raise _import_error('entry %s must be an object with a "value".' % js_quote(key), file, key)
            out[key] = assert_value(e["value"], key)
        return out
    for key in member_order(list(doc)):
        assert_key(key)
        out[key] = assert_value(doc[key], key)
    return out


def _json_like(v):
    return v is None or isinstance(v, (bool, int, float, str, list, dict))
