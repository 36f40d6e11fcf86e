"""The Store's ``explain()``: every layer's candidate for a key, which one won and why (spec/SPEC.md
§layers; TypeScript: ``Store.explain`` in src/store/store.ts). Kept apart from the reads and writes
of :mod:`psmc.store`; :class:`psmc.Store` inherits it."""
from .env import env_name, is_reserved_env_name
from .keys import assert_key
from .resolved import MISSING, Explanation, LayerCandidate, _copy_out
from .shared import SharedStore
from .value import assert_value, deep_copy

_MISS = SharedStore._MISS


class ExplainMethods(object):
    """Mixed into :class:`psmc.store.Store`."""

    __slots__ = ()

    def explain(self, key, default=MISSING):
        """Every layer's candidate for ``key``, which one won, and why. Never raises for a bad
        environment variable: it is reported as that layer's error."""
        self._ensure_open()
        assert_key(key)
        layers = []
        o = self._overrides.get(key, _MISS)
        layers.append(
            LayerCandidate("override", False, "process override")
            if o is _MISS
            else LayerCandidate("override", True, "process override", value=_copy_out(o))
        )
        if self._env_prefix is False:
            layers.append(LayerCandidate("env", False, "environment layer turned off"))
        else:
            variable = env_name(self._env_prefix, key)
            if is_reserved_env_name(self._env_prefix, variable):
                layers.append(LayerCandidate("env", False, "%s (reserved by psmc, not read as a value)" % variable))
            else:
                e = self._env(key)
                if e is None:
                    layers.append(LayerCandidate("env", False, variable))
                elif e.error is not None:
                    layers.append(
                        LayerCandidate(
                            "env",
                            False,
                            variable,
                            error={"code": e.error.code, "message": e.error.message, "hint": e.error.hint},
                        )
                    )
                else:
                    layers.append(LayerCandidate("env", True, variable, value=_copy_out(e.value), source="env:" + variable))
        for layer in ("project", "user"):
            slot = next((s for s in self._slots if s.layer == layer), None)
            if slot is None:
                layers.append(LayerCandidate(layer, False, "no project store" if layer == "project" else "no user store"))
                continue
            entry = self._from_slot(slot, key)
            if entry is None:
                layers.append(LayerCandidate(layer, False, slot.dir))
            else:
                layers.append(
                    LayerCandidate(
                        layer,
                        True,
                        slot.dir,
                        value=_copy_out(entry.value),
                        revision=entry.revision,
                        source=entry.source,
                        updated_at=entry.updated_at,
                    )
                )
        d = self._defaults.get(key, _MISS)
        schema = self._schema() if d is _MISS else None
        if d is not _MISS:
            layers.append(LayerCandidate("default", True, "shipped default", value=_copy_out(d)))
        elif schema is not None and schema.has_default(key):
            layers.append(LayerCandidate("default", True, "schema default", value=_copy_out(schema.default_for(key))))
        else:
            layers.append(LayerCandidate("default", False, "no default"))
        if default is MISSING:
            layers.append(LayerCandidate("caller", False, "no caller's default"))
        else:
            layers.append(LayerCandidate("caller", True, "caller's default", value=deep_copy(assert_value(default, key))))

        # A bad env value fails the read unless an override (the only higher layer) wins anyway.
        override = layers[0] if layers[0].present else None
        env_error = None if override is not None else next(l for l in layers if l.layer == "env").error
        winner = None if env_error is not None else next((l for l in layers if l.present), None)
        from .layers import explain_reason

        reason = explain_reason(key, layers)
        if env_error is not None:
            reason = "%s A read of this key fails until it is fixed. %s" % (env_error["message"], env_error["hint"])
        if winner is None:
            return Explanation(key, None, False, "env" if env_error is not None else None, 0, None, None, layers, reason)
        return Explanation(
            key,
            winner.value,
            True,
            winner.layer,
            winner.revision if winner.revision is not None else 0,
            winner.source if winner.source is not None else winner.origin,
            winner.updated_at,
            layers,
            reason,
        )
