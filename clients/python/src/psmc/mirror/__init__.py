"""The plaintext mirror (spec/sections/mirror-format.md and mirror-sync.md; TypeScript:
src/mirror/).

- The codecs, pure standard-library Python, text in and text or values out: JSONC (the default,
  ``config.json``), TOML (``config.toml``) and YAML (``config.yaml``).
- The sync engine (:mod:`psmc.mirror.engine`): detects hand edits, imports them with the 3-way
  merge, exports after commits, atomically (:mod:`psmc.mirror.atomic`).
- The ``imports/`` drop folder (:mod:`psmc.mirror.imports`).

    >>> from psmc.mirror import codec_for
    >>> codec = codec_for("toml")
    >>> text = codec.render([("display.units", "metric")])
    >>> codec.parse(text).values
    {'display.units': 'metric'}
    >>> codec.update(text, [("display.units", "imperial"), ("net.port", 8080)])

Each codec module (``psmc.mirror.json``, ``.toml``, ``.yaml``) has ``parse(text)`` →
:class:`ParsedMirror`, ``render(entries)`` → text and ``update(text, changes)`` → text; a change
is a ``(key, value)`` pair, with :data:`DELETE` as the value to remove the key. Everything here
loads on first use, so importing ``psmc`` or this package stays cheap: a ``get`` on a store whose
file did not change never loads a codec.
"""
from .files import HEADER_TEXT, MIRROR_FILES, MIRROR_VERSION

__all__ = ["DELETE", "HEADER_TEXT", "MIRROR_FILES", "MIRROR_VERSION", "ParsedMirror", "codec_for"]

_FORMATS = ("json", "toml", "yaml")


def codec_for(format):  # noqa: A002 (the spec's name)
    """The codec module of a mirror format (``"json"``, ``"toml"`` or ``"yaml"``). TypeError for
    any other name."""
    if format not in _FORMATS:
        raise TypeError('format must be "json", "toml" or "yaml", received %r' % (format,))
    import importlib

    return importlib.import_module("." + format, __name__)


def __getattr__(name):
    if name in ("DELETE", "ParsedMirror"):
        from . import common

        return getattr(common, name)
    raise AttributeError("module 'psmc.mirror' has no attribute %r" % name)
