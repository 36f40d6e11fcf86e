"""Snapshot names (spec/sections/snapshots.md §snapshot.names; TypeScript: src/snapshot/names.ts).
Pure: no I/O.

A snapshot is the file ``<store>/snapshots/<name>.json``, so a name is also a file name: it is
checked against an allowlist, never against a denylist. 1–64 characters of ``[A-Za-z0-9._-]``,
starting with a letter or digit, with no ``..``, not ending in ``.json``, and not ``current``
(which ``diff`` uses for the live store). A name cannot hold a path separator, start with a dot,
or be ``.``/``..``, so it cannot leave the snapshots directory.

The same check runs on every name that comes from outside: the caller's argument (PSMC_USAGE), a
file name found on disk, and the ``name`` member of a snapshot file (PSMC_PARSE).
"""
import re

from ..errors import PsmcError
from ..keys import utf16_len
from ..value import js_quote

MAX_NAME_LENGTH = 64

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_NAME_CHAR_RE = re.compile(r"[A-Za-z0-9._-]\Z")

#: Names that mean something else where a snapshot name is expected. Compared case-insensitively.
RESERVED_NAMES = frozenset(["current"])

_NAME_HINT = (
    "A snapshot name is 1\u201364 of A\u2013Z a\u2013z 0\u20139 . _ -, starting with a letter or digit, "
    'without "..", not ending in .json, e.g. before-upgrade or 2026-11-26.'
)


def _js_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object"


def _js_lower(s):
    # Only ASCII names get past the allowlist, so ASCII lowering is JavaScript's toLowerCase here.
    return s.lower()


def name_problem(name):
    """Why ``name`` is not a usable snapshot name, or None when it is."""
    if not isinstance(name, str):
        return "a snapshot name must be a string, not %s" % ("null" if name is None else _js_type(name))
    if name == "":
        return "a snapshot name cannot be empty"
    n = utf16_len(name)
    if n > MAX_NAME_LENGTH:
        return "it is %d characters long; the limit is %d" % (n, MAX_NAME_LENGTH)
    if "/" in name or "\\" in name:
        return "it holds a path separator"
    if name.startswith("."):
        return "it starts with a dot"
    if _NAME_RE.match(name) is None:
        bad = next((c for c in name if _NAME_CHAR_RE.match(c) is None), None)
        if bad is None:
            return "it must start with a letter or a digit"
        return 'it holds %s, which is not one of A\u2013Z, a\u2013z, 0\u20139, ".", "_", "-"' % js_quote(bad)
    if ".." in name:
        return 'it holds ".."'
    if _js_lower(name).endswith(".json"):
        return 'it ends in ".json" (the file name adds that)'
    if _js_lower(name) in RESERVED_NAMES:
        return '"%s" is reserved (diff uses it for the live store)' % name
    return None


def is_valid_snapshot_name(name):
    """True when ``name`` is a usable snapshot name."""
    return name_problem(name) is None


def _shown(name):
    if not isinstance(name, str):
        if name is None:
            return "null"
        if isinstance(name, bool):
            return "true" if name else "false"
        return str(name)
    return js_quote(name[:80] + "\u2026" if len(name) > 80 else name)


def assert_snapshot_name(name):
    """Raises PSMC_USAGE unless ``name`` (given by a caller) is a usable snapshot name; returns it."""
    problem = name_problem(name)
    if problem is not None:
        raise PsmcError("PSMC_USAGE", "%s cannot be a snapshot name: %s." % (_shown(name), problem), _NAME_HINT)
    return name


def assert_stored_name(name, where):
    """Raises PSMC_PARSE unless ``name``, read from a file, is a usable snapshot name. ``where``
    names the file for the message."""
    problem = name_problem(name)
    if problem is not None:
        raise PsmcError(
            "PSMC_PARSE",
            "%s: the snapshot name %s is not usable: %s." % (where, _shown(name), problem),
            'The file was not written by psmc or was edited by hand. Fix its "name" member (it must match '
            "the file name), or delete the file.",
            {"file": where},
        )
    return name


def file_name_of(name):
    """The file name of a snapshot: ``<name>.json``."""
    return name + ".json"


def name_of_file(file_name):
    """The snapshot name of a file name in the snapshots directory, or None when the file is not a snapshot."""
    if not file_name.endswith(".json") or file_name.startswith("."):
        return None
    return file_name[: -len(".json")]


def unique_name(base, taken):
    """The first of ``base``, ``base-2``, ``base-3`` … that is not taken (compared case-insensitively)."""
    lower = set(_js_lower(n) for n in taken)
    if _js_lower(base) not in lower:
        return base
    i = 2
    while True:
        suffix = "-%d" % i
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if _js_lower(candidate) not in lower:
            return candidate
        i += 1
