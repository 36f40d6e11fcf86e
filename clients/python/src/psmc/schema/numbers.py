"""Exact measures: string length in code points, and ``multipleOf`` on exact decimals."""
import math

from ..value import number_to_string


def code_point_length(s):
    """Unicode code points of a well-formed string (Python counts code points already)."""
    return len(s)


def _decimal(x):
    """``abs(x)`` as ``(m, e)`` with ``m × 10^e``, from the shortest round-trip decimal form."""
    s = number_to_string(abs(x))
    mant, _, exp_part = s.partition("e")
    int_part, _, frac = mant.partition(".")
    e = (int(exp_part) if exp_part else 0) - len(frac)
    return int(int_part + frac), e


def _is_int(x):
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def is_multiple_of(v, d):
    """True when ``v`` is an integer multiple of ``d`` (> 0), computed on exact decimals."""
    if v == 0:
        return True
    if _is_int(v) and _is_int(d):
        return math.fmod(float(v), float(d)) == 0
    am, ae = _decimal(v)
    bm, be = _decimal(d)
    e = min(ae, be)
    am *= 10 ** (ae - e)
    bm *= 10 ** (be - e)
    return am % bm == 0
