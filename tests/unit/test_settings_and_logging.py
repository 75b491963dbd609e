"""Settings come from CIUDAD_* variables, validate at start and never leak secrets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from support import Settings
from support.logging import JsonFormatter, TextFormatter


def test_defaults_bind_to_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = Settings()
    assert settings.api_host == "127.0.0.1"
    assert settings.mqtt_host == "127.0.0.1"
    assert settings.provisioning_file is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIUDAD_MQTT_PORT", "1884")
    monkeypatch.setenv("CIUDAD_DATA_DIR", "/srv/ciudad")
    settings = Settings()
    assert settings.mqtt_port == 1884
    assert settings.embedded_db_dir == Path("/srv/ciudad/pg")


def test_invalid_values_fail_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIUDAD_MQTT_PORT", "70000")
    with pytest.raises(ValidationError, match="mqtt_port"):
        Settings()


def test_late_readings_must_fit_in_raw_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIUDAD_RETENTION_RAW_DAYS", "7")
    with pytest.raises(ValidationError, match="CIUDAD_MAX_PAST_AGE_S"):
        Settings()
    monkeypatch.setenv("CIUDAD_MAX_PAST_AGE_S", str(6 * 86400))
    assert Settings().retention_raw_days == 7


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", "postgresql://u:hunter2@db/x")
    monkeypatch.setenv("CIUDAD_MQTT_PASSWORD", "hunter2")
    settings = Settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
    assert settings.database_url is not None
    assert "hunter2" in settings.database_url.get_secret_value()


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": "batch stored", "levelname": "INFO", "name": "gw"})
    record.__dict__.update(extra)
    return record


def test_json_log_lines_carry_extra_fields() -> None:
    event = json.loads(JsonFormatter().format(_record(readings=12)))
    assert event["msg"] == "batch stored"
    assert event["readings"] == 12
    assert event["level"] == "INFO"


def test_text_log_lines_carry_extra_fields() -> None:
    assert TextFormatter().format(_record(readings=12)).endswith("batch stored readings=12")
