"""API keys per scope for tests of an API with keys on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    read: str
    write: str
    admin: str
    ponferrada_admin: str


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
