"""A violation (what is wrong with a value) and the PSMC_SCHEMA_VIOLATION error built from it."""
from ..errors import PsmcError
from .messages import pointer_segment, quote


class Violation(object):
    __slots__ = ("rpath", "keyword", "problem", "expected")

    def __init__(self, keyword, problem, expected):
        self.rpath = []  # path segments inside the value, innermost first
        self.keyword = keyword
        self.problem = problem
        self.expected = expected


def violation_path(v):
    """The JSON pointer of a violation inside the value (``""`` for the value itself)."""
    return "".join("/" + pointer_segment(s) for s in reversed(v.rpath))


def violation_error(key, v):
    path = violation_path(v)
    subject = "The value of key %s" % quote(key) if path == "" else "The value at %s of key %s" % (path, quote(key))
    return PsmcError(
        "PSMC_SCHEMA_VIOLATION",
        "%s %s." % (subject, v.problem),
        "Use %s." % v.expected,
        {"key": key, "path": path, "keyword": v.keyword},
    )
