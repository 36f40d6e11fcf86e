"""What reads return: :class:`Resolved` (a value and where it came from), :class:`Explanation`
with one :class:`LayerCandidate` per layer, and :data:`MISSING` (TypeScript: the result types of
src/store/options.ts)."""
from .value import deep_copy


class _Missing(object):
    __slots__ = ()

    def __repr__(self):
        return "psmc.MISSING"

    def __bool__(self):
        return False


#: Pass ``default=MISSING`` to :meth:`Store.get` to receive MISSING (instead of None) when no
#: layer has the key, telling "absent" from a stored JSON null.
MISSING = _Missing()


class Resolved(object):
    """The resolved value of a key and where it came from."""

    __slots__ = ("key", "value", "found", "layer", "revision", "source", "updated_at")

    def __init__(self, key, value, found, layer, revision, source, updated_at):
        self.key = key
        self.value = value
        self.found = found
        self.layer = layer
        self.revision = revision
        self.source = source
        self.updated_at = updated_at

    def to_json(self):
        """As TypeScript's ``JSON.stringify`` shows it (members without a value left out)."""
        out = {"key": self.key}
        if self.found:
            out["value"] = self.value
        out["found"] = self.found
        if self.layer is not None:
            out["layer"] = self.layer
        out["revision"] = self.revision
        if self.source is not None:
            out["source"] = self.source
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        return out

    def __repr__(self):
        return "Resolved(%r, value=%r, layer=%r, revision=%r)" % (self.key, self.value, self.layer, self.revision)


class LayerCandidate(object):
    __slots__ = ("layer", "present", "value", "origin", "revision", "source", "updated_at", "error")

    def __init__(self, layer, present, origin, value=None, revision=None, source=None, updated_at=None, error=None):
        self.layer = layer
        self.present = present
        self.value = value
        self.origin = origin
        self.revision = revision
        self.source = source
        self.updated_at = updated_at
        self.error = error  # {"code", "message", "hint"} when the layer has something unusable

    def to_json(self):
        out = {"layer": self.layer, "present": self.present}
        if self.present:
            out["value"] = self.value
        out["origin"] = self.origin
        if self.revision is not None:
            out["revision"] = self.revision
        if self.source is not None:
            out["source"] = self.source
        if self.updated_at is not None:
            out["updatedAt"] = self.updated_at
        if self.error is not None:
            out["error"] = self.error
        return out


class Explanation(Resolved):
    __slots__ = ("layers", "reason")

    def __init__(self, key, value, found, layer, revision, source, updated_at, layers, reason):
        Resolved.__init__(self, key, value, found, layer, revision, source, updated_at)
        self.layers = layers
        self.reason = reason

    def to_json(self):
        out = Resolved.to_json(self)
        out["layers"] = [l.to_json() for l in self.layers]
        out["reason"] = self.reason
        return out


def _copy_out(v):
    return deep_copy(v) if isinstance(v, (dict, list)) else v
