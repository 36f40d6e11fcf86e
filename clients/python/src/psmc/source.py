"""Sources: who made a change (spec/SPEC.md §source; TypeScript: assertSource in src/core/engine.ts)."""
from .errors import PsmcError

MAX_SOURCE_LENGTH = 128


def _has_control(s):
    for c in s:
        o = ord(c)
        if o <= 0x1F or 0x7F <= o <= 0x9F:
            return True
    return False


def assert_source(source):
    """Raises PSMC_USAGE unless ``source`` is 1–128 code points, well-formed, without control characters."""
    if type(source) is str and source.isascii() and 0 < len(source) <= MAX_SOURCE_LENGTH and source.isprintable():
        return source
    ok = isinstance(source, str) and 0 < len(source) <= MAX_SOURCE_LENGTH and not _has_control(source)
    if ok and not source.isascii():
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            ok = False
    if not ok:
        from .value import js_quote

        shown = js_quote(source) if isinstance(source, str) else repr(source)
        raise PsmcError(
            "PSMC_USAGE",
            "The source %s is not usable." % shown,
            "A source is 1\u2013%d printable characters naming the writer, e.g. cli, gui, http:deploy-bot." % MAX_SOURCE_LENGTH,
        )
    return source
