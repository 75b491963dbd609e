"""The NGSI-LD ``q`` query language (ETSI GS CIM 009 §4.9) -> knowledge-layer filters.

Supported: ``attr`` (exists), ``attr==value`` and ``!=``, ``<``, ``<=``, ``>``, ``>=``,
``~=``/``!~=`` (regular expression), ranges ``attr==10..20``, lists ``attr=="a","b"``,
``;`` (and), ``|`` (or) and parentheses.  Strings are quoted; numbers are not.
Attribute names may be IRIs (what a request's JSON-LD context expands its terms to).
Attribute paths (``a.b``, ``a[b]``) are not supported and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from interoperability.deps import BadRequestError
from knowledge import Comparison, Filter, Logical, Operator, Scalar, ValueRange
from support.user_regex import PatternError, compile_pattern

# A name, or the IRI a JSON-LD context expands one to (https://example.org/terms#name).
_ATTR = re.compile(r"[A-Za-z_@][A-Za-z0-9_:\-]*(?://[A-Za-z0-9_\-.:/#%~]*[A-Za-z0-9_\-/#%~])?")
_OPERATORS: tuple[Operator, ...] = ("==", "!=", ">=", "<=", "!~=", "~=", ">", "<")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_BARE = re.compile(r"[^;|()\",]+?(?=\.\.|[;|(),]|$)")
MAX_LENGTH = 2000
MAX_NESTING = 16  # parentheses; the parser recurses once per level


@dataclass
class _Parser:
    text: str
    at: int = 0
    depth: int = 0
    attribute_spans: list[tuple[int, int]] = field(default_factory=list)

    def fail(self, what: str) -> BadRequestError:
        return BadRequestError(f"q: {what} at position {self.at} of {self.text[:100]!r}")

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.at)

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.at += len(token)
            return True
        return False

    def parse(self) -> Filter:
        result = self.or_expr()
        if self.at != len(self.text):
            raise self.fail("unexpected text")
        return result

    def or_expr(self) -> Filter:
        terms = [self.and_expr()]
        while self.take("|"):
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else Logical("or", tuple(terms))

    def and_expr(self) -> Filter:
        terms = [self.term()]
        while self.take(";"):
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Logical("and", tuple(terms))

    def term(self) -> Filter:
        if self.take("("):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.fail(f"parentheses nested deeper than {MAX_NESTING}")
            inner = self.or_expr()
            if not self.take(")"):
                raise self.fail("missing )")
            self.depth -= 1
            return inner
        match = _ATTR.match(self.text, self.at)
        if not match:
            raise self.fail("expected an attribute name")
        self.attribute_spans.append(match.span())
        self.at = match.end()
        attr = match.group()
        op = next((o for o in _OPERATORS if self.peek(o)), None)
        if op is None:
            return Comparison(attr, "exists")
        self.at += len(op)
        if op in ("~=", "!~="):
            pattern = self.scalar()
            if not isinstance(pattern, str):
                raise self.fail("a pattern must be a quoted string")
            _check_regex(pattern, self)
            return Comparison(attr, op, pattern)
        return Comparison(attr, op, self.value(op))

    def value(self, op: Operator) -> Scalar | tuple[Scalar, ...] | ValueRange:
        first = self.scalar()
        if self.take(".."):
            return ValueRange(first, self.scalar())
        if self.peek(","):
            items = [first]
            while self.take(","):
                items.append(self.scalar())
            if op not in ("==", "!="):
                raise self.fail("lists only go with == and !=")
            return tuple(items)
        return first

    def scalar(self) -> Scalar:
        quoted = _STRING.match(self.text, self.at)
        if quoted:
            self.at = quoted.end()
            return re.sub(r"\\(.)", r"\1", quoted.group(1))
        bare = _BARE.match(self.text, self.at)
        if not bare or not bare.group().strip():
            raise self.fail("expected a value")
        self.at = bare.end()
        try:
            return float(bare.group())
        except ValueError:
            return bare.group()  # a date-time or an unquoted keyword


def _check_regex(pattern: str, parser: _Parser) -> None:
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        raise parser.fail(str(exc)) from None


def parse_q(text: str) -> Filter:
    if not text or len(text) > MAX_LENGTH:
        raise BadRequestError(f"q must be 1-{MAX_LENGTH} characters")
    return _Parser(text).parse()


def rename_attributes(text: str, rename: Callable[[str], str]) -> str:
    """``q`` with every attribute name passed through ``rename`` (for JSON-LD terms); a
    malformed ``q`` comes back unchanged for the query to refuse."""
    parser = _Parser(text)
    try:
        parser.parse()
    except BadRequestError:
        return text
    out, last = [], 0
    for start, end in parser.attribute_spans:
        out += [text[last:start], rename(text[start:end])]
        last = end
    return "".join([*out, text[last:]])
