"""The ``q`` filters evaluated in Python over one entity's values (for subscriptions).

Same meaning as their SQL translation in ``knowledge.query.filters``: a comparison
with a number looks at numeric values, one with a string at text values; a
missing attribute makes every comparison but ``!=`` false.
"""

from __future__ import annotations

from collections.abc import Mapping

from knowledge.query.filters import Comparison, Filter, Scalar, ValueRange
from support.user_regex import pattern_matches

Values = Mapping[str, float | str]


def _typed(value: float | str | None, sample: Scalar) -> float | str | None:
    """The value as the comparison's type, or None when it has the other type."""
    if value is None:
        return None
    if isinstance(sample, float):
        return float(value) if isinstance(value, int | float) else None
    return value if isinstance(value, str) else None


def _order(op: str, left: float | str, right: Scalar) -> bool:
    if isinstance(left, float) != isinstance(right, float):
        return False
    # Same type by the check above; mypy cannot see it.
    a, b = left, right
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,  # type: ignore[operator]
        "<=": a <= b,  # type: ignore[operator]
        ">": a > b,  # type: ignore[operator]
        ">=": a >= b,  # type: ignore[operator]
    }[op]


def _comparison(c: Comparison, values: Values) -> bool:
    raw = values.get(c.attr)
    if c.op == "exists":
        return raw is not None
    if c.op in ("~=", "!~="):
        found = isinstance(raw, str) and pattern_matches(str(c.value), raw)
        return found if c.op == "~=" else not found
    value = c.value
    if isinstance(value, ValueRange):
        typed = _typed(raw, value.low)
        inside = (
            typed is not None and _order(">=", typed, value.low) and _order("<=", typed, value.high)
        )
        return not inside if c.op == "!=" else inside
    if isinstance(value, tuple):
        typed = _typed(raw, value[0])
        member = typed is not None and typed in value
        return not member if c.op == "!=" else member
    assert value is not None
    typed = _typed(raw, value)
    return typed is not None and _order(c.op, typed, value)


def matches(f: Filter, values: Values) -> bool:
    """Whether an entity with these attribute values passes the filter."""
    if isinstance(f, Comparison):
        return _comparison(f, values)
    results = (matches(term, values) for term in f.terms)
    return all(results) if f.op == "and" else any(results)
