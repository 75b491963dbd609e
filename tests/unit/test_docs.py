"""The documentation tells the truth about settings and commands."""

from __future__ import annotations

from pathlib import Path

from ciudad.runners import openapi_document
from support import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"`CIUDAD_{n.upper()}`" not in text]
    assert missing == []


def test_readme_opens_with_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line for line in first_block.splitlines()[1:] if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["./dev.sh demo", "./dev.sh test"]
    assert "./dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_committed_openapi_document_matches_the_api() -> None:
    """Clients generate code from docs/openapi.json: it must be the API as built."""
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(Settings()), (
        "docs/openapi.json is stale: run `.venv/bin/ciudad openapi` and commit it"
    )
