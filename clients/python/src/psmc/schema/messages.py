"""How schema errors are worded, and the PSMC_SCHEMA_INVALID error every document check raises."""
from ..errors import PsmcError
from ..value import js_quote, number_to_string


def pointer_segment(s):
    """One JSON-pointer reference token (RFC 6901): ``~`` → ``~0``, ``/`` → ``~1``."""
    return s.replace("~", "~0").replace("/", "~1")


def quote(s):
    """``s`` as a JSON string, cut to 80 characters."""
    return js_quote(s[:80] + "\u2026" if len(s) > 80 else s)


def invalid(path, message, hint):
    """PSMC_SCHEMA_INVALID at ``path``, a JSON pointer into the document."""
    return PsmcError(
        "PSMC_SCHEMA_INVALID", "Schema error at %s: %s" % ("/" if path == "" else path, message), hint, {"path": path}
    )


def describe(v):
    """A short phrase for any input, used as "…, not <this>."."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, str):
        return "the string %s" % quote(v)
    if isinstance(v, (int, float)):
        return number_to_string(v)
    return type(v).__name__
