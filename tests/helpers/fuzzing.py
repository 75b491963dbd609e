"""How many cases the decoder fuzz tests generate: a few hundred in the test command,
``CIUDAD_FUZZ_EXAMPLES=100000`` for a dedicated run (docs/reliability.md)."""

from __future__ import annotations

import os


def fuzz_examples(default: int) -> int:
    return int(os.environ.get("CIUDAD_FUZZ_EXAMPLES", default))
