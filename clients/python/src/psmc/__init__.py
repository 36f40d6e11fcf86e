"""psmc — Plaintext, Stable, Mutable Config: the Python client (standard library only).

    >>> import psmc
    >>> with psmc.open_store(app="plantctl") as store:
    ...     store.set("display.units", "metric")
    ...     store.get("display.units")

Importing ``psmc`` is cheap: the store (and sqlite3) load on first use.
Normative behaviour: spec/SPEC.md; the TypeScript implementation is the reference.
"""
from .errors import ERROR_CODES, PsmcError

__version__ = "0.1.0"
SPEC_VERSION = "1.1.0"

_LAZY = {
    "open_store": "store",
    "Store": "store",
    "MISSING": "store",
    "Resolved": "store",
    "Explanation": "store",
    "ChangeRecord": "change",
    "Commit": "change",
    "Entry": "change",
    "SCHEMA_HISTORY_KEY": "change",
    "Watch": "watch",
}

__all__ = ["ERROR_CODES", "PsmcError", "SPEC_VERSION"] + sorted(_LAZY)


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError("module 'psmc' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module("." + mod, __name__), name)
    globals()[name] = value
    return value
