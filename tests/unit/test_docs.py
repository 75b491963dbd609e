"""The documentation tells the truth about settings and commands."""

from __future__ import annotations

import re
import subprocess
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


# Built from parts so that this file does not name what it looks for.
OUTSIDE_FOLDERS = ("../" + "shared", "shared" + "/data")
# The one file allowed to name them: the optional runner of the external NGSI-LD
# conformance suite, which takes the suite's path as an argument.
# The conformance ratchet runs the ETSI suite from beside the checkout when it is there.
OPTIONAL_RUNNERS = {"scripts/conformance.sh", ".ci/run"}


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listing.split("\0") if name]


def test_nothing_reads_folders_outside_the_checkout() -> None:
    """A clone has no sibling folders: code, tests, scripts and docs use what it carries."""
    naming, files = [], tracked_files()
    assert len(files) > 100, "git ls-files found too little to check"
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        if relative in OPTIONAL_RUNNERS or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        naming += [f"{relative}: {n}" for n in OUTSIDE_FOLDERS if n in text]
    assert naming == []


def test_the_threat_model_names_tests_that_exist() -> None:
    """Each control in docs/security.md names its regression test: those must exist."""
    text = (ROOT / "docs" / "security.md").read_text()
    named = re.findall(r"`((?:tests/[\w/]+/)?test_\w+\.py)(?:::(\w+))?", text)
    assert len(named) >= 20
    files = {p.name: p for p in (ROOT / "tests").rglob("test_*.py")}
    missing = []
    for path, test in named:
        source = ROOT / path if "/" in path else files.get(path)
        if source is None or not source.is_file():
            missing.append(path)
        elif test and f"def {test}(" not in source.read_text():
            missing.append(f"{path}::{test}")
    assert missing == []
