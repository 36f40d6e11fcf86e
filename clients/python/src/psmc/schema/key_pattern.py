"""Key names in a schema's ``keys``: exact keys or ``*`` patterns, and their precedence (§schema.keys)."""
from ..keys import MAX_KEY_LENGTH, MAX_KEY_SEGMENTS, is_reserved_segment, is_valid_key, key_error
from .messages import invalid, quote


class ParsedPattern(object):
    __slots__ = ("pattern", "segments", "stars")

    def __init__(self, pattern, segments, stars):
        self.pattern = pattern
        self.segments = segments
        self.stars = stars


def parse_key_name(name, path):
    """None for an exact key, a :class:`ParsedPattern` for a pattern; PSMC_SCHEMA_INVALID otherwise."""
    if "*" not in name:
        if not is_valid_key(name):
            e = key_error(name)
            raise invalid(path, "the key %s is not a legal key: %s" % (quote(name), e.message), e.hint)
        return None
    segments = name.split(".")
    stars = []
    for i, s in enumerate(segments):
        if s == "*":
            stars.append(i)
        elif "*" in s:
            raise invalid(
                path,
                'in the key pattern %s, "*" must be a whole segment (found %s).' % (quote(name), quote(s)),
                'Write e.g. sensors.*.max; a "*" matches exactly one segment.',
            )
        elif is_reserved_segment(s):
            raise invalid(
                path, "the key pattern %s uses the reserved segment %s." % (quote(name), quote(s)), "Rename the segment."
            )
    probe = ".".join("x" if s == "*" else s for s in segments)
    if not is_valid_key(probe):
        e = key_error(probe)
        if len(segments) > MAX_KEY_SEGMENTS or len(name) > MAX_KEY_LENGTH:
            why = e.message
        else:
            why = 'a segment is empty or not letters and digits joined by single "_" or "-".'
        raise invalid(
            path,
            "the key pattern %s is not legal: %s" % (quote(name), why),
            'A pattern is a legal key in which some whole segments are "*".',
        )
    return ParsedPattern(name, segments, stars)


def pattern_sort_key(p):
    """Most specific first: fewer stars, then later star positions, then the text."""
    return (len(p.stars), tuple(-s for s in p.stars), p.pattern)
