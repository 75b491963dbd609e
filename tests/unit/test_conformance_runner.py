"""scripts/conformance.py: the section it writes is the one its ratchet reads back."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def runner() -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("conformance", SCRIPTS / "conformance.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def test_the_written_count_is_read_back_and_every_failure_gets_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conformance = runner()
    doc = tmp_path / "conformance.md"
    doc.write_text("# Conformance\n\nintro\n")
    monkeypatch.setattr(conformance, "DOC", doc)
    rows = [
        ("ContextInformation/X", "001_01 001_01_01 Create", True, ""),
        ("ContextInformation/X", "001_01 001_01_02 Invalid", False, "400 != 201"),
        ("ContextInformation/MqttNotification", "058_01 058_01_01 Mqtt", False, "timeout"),
    ]
    conformance.write_section("core", conformance.section("core", rows, "abc1234"))
    assert conformance.committed_passes("core") == 1
    assert conformance.committed_passes("all") is None
    text = doc.read_text()
    assert text.startswith("# Conformance\n\nintro\n")
    assert "001_01_02" in text
    assert "mosquitto" in text  # the MQTT test's reason
    conformance.write_section("core", conformance.section("core", rows[:1], "def5678"))
    assert doc.read_text().count("BEGIN run.sh core") == 1  # replaced, not appended
