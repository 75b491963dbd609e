"""Regular expressions that clients send (``idPattern``, ``q``'s ``~=``), matched safely.

Python's ``re`` backtracks: a pattern such as ``^(a+)+$`` against a few dozen
characters takes seconds, and on the API's event loop that freezes every tenant.
Client patterns go through RE2 instead (google-re2), which matches in time linear in
the text and bounds its memory; what RE2 cannot run (back-references, look-around)
is refused when the pattern arrives.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

MAX_PATTERN = 256
_MAX_MEMORY = 8 << 20  # RE2's budget per compiled pattern (bytes)


class PatternError(ValueError):
    """A client pattern RE2 cannot compile (or one too long)."""


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (cached); PatternError saying why if it cannot be used."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"a pattern may have at most {MAX_PATTERN} characters")
    if "\x00" in pattern:  # the store's text cannot hold it, so no id can match it
        raise PatternError("a pattern cannot hold a NUL character")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(f"unsupported regular expression ({reason})") from None


def pattern_matches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` (``re.search`` semantics), in linear time."""
    return compile_pattern(pattern).search(text) is not None
