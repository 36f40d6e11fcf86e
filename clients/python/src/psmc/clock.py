"""The hybrid logical clock (spec/SPEC.md §clock.format, §clock.next; TypeScript: src/core/clock.ts). Pure.

A timestamp is ``(ms, counter)``: wall milliseconds since the Unix epoch (UTC)
and a tie-breaking counter 0–9999. Its text form sorts in time order:
``2026-11-26T03:55:55.123Z-0000``.
"""
import math
import re
import time

from .errors import PsmcError

MAX_COUNTER = 9999
MIN_MS = -62167219200000  # 0000-01-01T00:00:00.000Z
MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z



class Hlc(tuple):
    """A timestamp ``(ms, counter)``."""

    __slots__ = ()

    def __new__(cls, ms, counter):
        return tuple.__new__(cls, (ms, counter))

    @property
    def ms(self):
        return self[0]

    @property
    def counter(self):
        return self[1]

    def __repr__(self):
        return "Hlc(ms=%r, counter=%r)" % self


HLC_ZERO = Hlc(0, 0)

# ASCII digits only ([0-9], not \d, which matches other scripts' digits in Python); \Z, not $.
_HLC_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z-([0-9]{4})\Z")


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def _days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def iso_utc(ms):
    """``new Date(ms).toISOString()`` for years 0000–9999."""
    ms = int(ms)
    days, rem = divmod(ms, 86400000)
    y, mo, d = _civil_from_days(days)
    h, rem = divmod(rem, 3600000)
    mi, rem = divmod(rem, 60000)
    s, milli = divmod(rem, 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, mo, d, h, mi, s, milli)


def format_hlc(t):
    """The text form, e.g. ``2026-11-26T03:55:55.123Z-0000``."""
    return "%s-%04d" % (iso_utc(t[0]), t[1])


def _parse_error(text):
    from .value import js_quote

    return PsmcError(
        "PSMC_PARSE",
        "%s is not a psmc clock value." % (js_quote(text) if isinstance(text, str) else repr(text),),
        "Clock values look like 2026-11-26T03:55:55.123Z-0000 (UTC time with milliseconds, then a 4-digit counter).",
    )


def parse_hlc(text):
    """Parses the text form; raises PSMC_PARSE on anything else (impossible dates included)."""
    m = _HLC_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise _parse_error(text)
    y, mo, d, h, mi, s, milli, counter = map(int, m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo) and h <= 23 and mi <= 59 and s <= 59):
        raise _parse_error(text)
    ms = ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + milli
    return Hlc(ms, counter)


def compare_hlc(a, b):
    """Negative, zero or positive as ``a`` is before, equal to or after ``b``."""
    return a[0] - b[0] if a[0] != b[0] else a[1] - b[1]


def next_hlc(last, wall_ms):
    """The timestamp to issue after ``last`` with the wall clock reading ``wall_ms``."""
    wall = min(max(math.floor(wall_ms), MIN_MS), MAX_MS)
    if wall > last[0]:
        return Hlc(wall, 0)
    if last[1] < MAX_COUNTER:
        return Hlc(last[0], last[1] + 1)
    if last[0] >= MAX_MS:
        raise PsmcError(
            "PSMC_CORRUPT",
            "The store clock has reached %s, the last time psmc can write." % format_hlc(last),
            "A wall clock set to year 9999 poisoned the store clock. Export the values and import them into a new store.",
        )
    return Hlc(last[0] + 1, 0)


def system_clock():
    """The system wall clock, in ms since the epoch."""
    return time.time_ns() // 1000000
