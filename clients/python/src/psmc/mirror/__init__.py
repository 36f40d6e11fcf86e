"""The mirror codecs (spec/sections/mirror-format.md; TypeScript: src/mirror/codecs/): JSONC (the
default, ``config.json``), TOML (``config.toml``) and YAML (``config.yaml``), written in pure
standard-library Python. Pure: text in, text or values out.

    >>> from psmc.mirror import codec_for
    >>> codec = codec_for("toml")
    >>> text = codec.render([("display.units", "metric")])
    >>> codec.parse(text).values
    {'display.units': 'metric'}
    >>> codec.update(text, [("display.units", "imperial"), ("net.port", 8080)])

Each codec module (``psmc.mirror.json``, ``.toml``, ``.yaml``) has ``parse(text)`` →
:class:`ParsedMirror`, ``render(entries)`` → text and ``update(text, changes)`` → text; a change
is a ``(key, value)`` pair, with :data:`DELETE` as the value to remove the key. The codec modules
load on first use, so importing ``psmc`` or this package stays cheap.
"""
from .common import DELETE, HEADER_TEXT, MIRROR_FILES, MIRROR_VERSION, ParsedMirror

__all__ = ["DELETE", "HEADER_TEXT", "MIRROR_FILES", "MIRROR_VERSION", "ParsedMirror", "codec_for"]

_FORMATS = ("json", "toml", "yaml")


def codec_for(format):  # noqa: A002 (the spec's name)
    """The codec module of a mirror format (``"json"``, ``"toml"`` or ``"yaml"``). TypeError for
    any other name."""
    if format not in _FORMATS:
        raise TypeError('format must be "json", "toml" or "yaml", received %r' % (format,))
    import importlib

    return importlib.import_module("." + format, __name__)
