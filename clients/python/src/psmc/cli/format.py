"""Human output: values on one line, aligned tables, short times, pretty JSON (src/cli/format.ts)."""
import re

from ..value import stringify


def json_text(value, indent=None):
    """``JSON.stringify(value[, null, indent])`` of plain data (dicts/lists/str/numbers/None)."""
    return stringify(value, indent)


def inline_value(value, max_len=60, absent=False):
    """A value as one line of JSON cut to ``max_len`` with ``…``; ``(unset)`` when absent."""
    if absent:
        return "(unset)"
    text = stringify(value)
    return text[: max_len - 1] + "\u2026" if len(text) > max_len else text


def plain_value(value):
    """A value as ``get`` prints it: a string raw, anything else as JSON."""
    return value if isinstance(value, str) else stringify(value)


_TIME_RE = re.compile(r"^([0-9]{4}-[0-9][0-9]-[0-9][0-9])T([0-9][0-9]:[0-9][0-9]:[0-9][0-9])")


def short_time(hlc):
    """``2026-11-26T04:03:25.146Z-0003`` → ``2026-11-26 04:03:25``."""
    if hlc is None:
        return ""
    m = _TIME_RE.match(hlc)
    return hlc if m is None else "%s %s" % (m.group(1), m.group(2))


def table(header, rows):
    """Rows as aligned columns two spaces apart; the last column is not padded."""
    widths = [max([len(h)] + [len(r[i]) if i < len(r) else 0 for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c if i == len(cells) - 1 else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    return [line(header)] + [line(r) for r in rows]
