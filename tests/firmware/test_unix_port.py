"""The firmware's own tests, run inside the real MicroPython unix port."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.firmware import FIRMWARE, micropython

MODULES = sorted(p.stem for p in (FIRMWARE / "tests").glob("test_*.py"))


def test_there_are_firmware_test_modules() -> None:
    assert {"test_codec", "test_acoustics", "test_sensors"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_passes_on_micropython(module: str) -> None:
    result = subprocess.run(
        [micropython(), str(FIRMWARE / "tests" / "runner.py"), module],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout
