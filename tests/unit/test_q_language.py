"""The NGSI-LD q language parser: what it accepts, how it groups, what it refuses."""

from __future__ import annotations

import pytest

from interoperability import BadRequestError
from interoperability.entities.q_language import parse_q
from knowledge.query.filters import Comparison, Logical, ValueRange


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LAeq>65", Comparison("LAeq", ">", 65.0)),
        ('status=="occupied"', Comparison("status", "==", "occupied")),
        ("status", Comparison("status", "exists")),
        ("LAeq==50..60", Comparison("LAeq", "==", ValueRange(50.0, 60.0))),
        ('status!="free","closed"', Comparison("status", "!=", ("free", "closed"))),
        ('name~="^Calle.*"', Comparison("name", "~=", "^Calle.*")),
        ('name=="a \\"quoted\\" b"', Comparison("name", "==", 'a "quoted" b')),
        (
            "dateObserved>2026-11-21T10:00:00Z",
            Comparison("dateObserved", ">", "2026-11-21T10:00:00Z"),
        ),
        (
            "a>1;b<2|c",
            Logical(
                "or",
                (
                    Logical("and", (Comparison("a", ">", 1.0), Comparison("b", "<", 2.0))),
                    Comparison("c", "exists"),
                ),
            ),
        ),
        (
            "a>1;(b<2|c)",
            Logical(
                "and",
                (
                    Comparison("a", ">", 1.0),
                    Logical("or", (Comparison("b", "<", 2.0), Comparison("c", "exists"))),
                ),
            ),
        ),
    ],
)
def test_accepted_queries(text: str, expected: object) -> None:
    assert parse_q(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", ">5", "a>", "a>1;", "(a>1", "a>1)", 'a~="("', "a<1,2", "a.b>1", "x" * 2001, "a==,"],
)
def test_refused_queries_say_where(text: str) -> None:
    with pytest.raises(BadRequestError, match="q"):
        parse_q(text)
