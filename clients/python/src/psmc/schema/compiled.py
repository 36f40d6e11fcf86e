"""The compiled document (§schema.keys, §schema.enforce, §schema.default): one check per entry,
lookup of the entry governing a key (exact first, then the most specific pattern)."""
from ..errors import PsmcError
from .compile import check_for_key_schema
from .document import parse_schema_document
from .key_pattern import parse_key_name, pattern_sort_key
from .messages import quote
from .violation import Violation, violation_error

_MATCH_CACHE_LIMIT = 4096


class _Entry(object):
    __slots__ = ("name", "schema", "check")

    def __init__(self, name, schema, check):
        self.name = name
        self.schema = schema
        self.check = check


class CompiledSchema(object):
    """A parsed (PSMC_SCHEMA_INVALID) and compiled schema document."""

    def __init__(self, doc, parsed=False):
        self.document = doc if parsed else parse_schema_document(doc)
        self.additional_keys = self.document.get("additionalKeys") is not False
        self._exact = {}
        patterns = []
        for name, schema in self.document["keys"].items():
            entry = _Entry(name, schema, check_for_key_schema(schema))
            pattern = parse_key_name(name, "/keys/" + name)
            if pattern is None:
                self._exact[name] = entry
            else:
                patterns.append((pattern, entry))
        patterns.sort(key=lambda pe: pattern_sort_key(pe[0]))
        self._patterns = patterns
        self._match_cache = {}

    def _lookup(self, key):
        exact = self._exact.get(key)
        if exact is not None or not self._patterns:
            return exact
        if key in self._match_cache:
            return self._match_cache[key]
        segs = key.split(".")
        found = None
        for p, entry in self._patterns:
            if len(p.segments) != len(segs):
                continue
            if all(ps == "*" or ps == s for ps, s in zip(p.segments, segs)):
                found = entry
                break
        if len(self._match_cache) >= _MATCH_CACHE_LIMIT:
            self._match_cache.clear()
        self._match_cache[key] = found
        return found

    def schema_for(self, key):
        """The key schema governing ``key`` (exact entry, else the most specific pattern), or None."""
        e = self._lookup(key)
        return None if e is None else e.schema

    def entry_for(self, key):
        e = self._lookup(key)
        return None if e is None else e.name

    def is_known(self, key):
        return self._lookup(key) is not None

    def keys(self):
        """The exact (non-pattern) keys of the document, in document order."""
        return list(self._exact)

    def patterns(self):
        """The pattern entries, most specific first."""
        return [p.pattern for p, _ in self._patterns]

    def has_default(self, key):
        e = self._lookup(key)
        return e is not None and "default" in e.schema

    def default_for(self, key):
        """The schema's ``default`` for ``key`` (None when absent: check :meth:`has_default`)."""
        e = self._lookup(key)
        return None if e is None else e.schema.get("default")

    def check(self, key, value):
        """The first violation of ``key``'s schema by ``value``, or None. Never raises."""
        e = self._lookup(key)
        if e is None:
            return None if self.additional_keys else Violation("additionalKeys", "is not declared", "a declared key")
        return e.check(value)

    def validate(self, key, value):
        """Raises PSMC_SCHEMA_VIOLATION unless ``value`` is acceptable for ``key``."""
        e = self._lookup(key)
        if e is None:
            if self.additional_keys:
                return
            first = key.split(".")[0]
            near = [k for k in self.keys() if k.split(".")[0] == first][:5]
            raise PsmcError(
                "PSMC_SCHEMA_VIOLATION",
                "The key %s is not declared in the schema, and the schema does not allow other keys "
                "(additionalKeys is false)." % quote(key),
                "Check the spelling of the key%s, or declare it in the schema's \"keys\"."
                % (" (declared keys nearby: %s)" % ", ".join(near) if near else ""),
                {"key": key, "path": "", "keyword": "additionalKeys"},
            )
        f = e.check(value)
        if f is not None:
            raise violation_error(key, f)


def compile_schema(doc):
    """Parses and compiles a schema document (PSMC_SCHEMA_INVALID when it is not valid)."""
    return CompiledSchema(doc)
