"""Tables a city configures as JSON files (alert rules, noise objectives)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from support import ConfigurationError

T = TypeVar("T")


def load_json_table(path: Path, adapter: TypeAdapter[T], what: str) -> T:
    """The file's JSON validated by ``adapter``; ConfigurationError naming the file and the
    fault otherwise."""
    try:
        return adapter.validate_python(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ConfigurationError(f"{what} file {path}: {exc}") from exc
