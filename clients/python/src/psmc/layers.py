"""Layering (spec/SPEC.md §layers.order, §layers.explain; TypeScript: src/core/layers.ts). Pure.

Highest first: override > env > project > user > default > caller.
"""
from .value import js_quote

LAYER_ORDER = ("override", "env", "project", "user", "default", "caller")

LAYER_TEXT = {
    "override": "a process override (a CLI flag or code)",
    "env": "an environment variable",
    "project": "the project store",
    "user": "the user store",
    "default": "a default",
    "caller": "the caller's default",
}


def explain_reason(key, candidates):
    """One sentence: which layer won, from where, and what it beat."""
    winner = next((c for c in candidates if c.present), None)
    if winner is None:
        return (
            "No layer has a value for %s: it is not set in any store, environment variable, override or default."
            % js_quote(key)
        )
    beaten = [LAYER_TEXT[c.layer] for c in candidates if c.present and c is not winner]
    beat = "" if not beaten else ", which outranks %s" % " and ".join(beaten)
    return "The value comes from %s (%s)%s." % (LAYER_TEXT[winner.layer], winner.origin, beat)
