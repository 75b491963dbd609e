"""`ciudad config check` and start-up errors that name the setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ciudad.cli import main

DEPLOY_ENV = Path(__file__).resolve().parents[2] / "deploy" / "ciudad.env.example"


def test_a_wrong_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIUDAD_MQTT_PORT", "70000")
    assert main(["config", "check"]) == 2
    assert "CIUDAD_MQTT_PORT: Input should be less than or equal to 65535 (got '70000')" in (
        capsys.readouterr().err
    )
    monkeypatch.delenv("CIUDAD_MQTT_PORT")
    monkeypatch.setenv("CIUDAD_RETENTION_RAW_DAYS", "7")
    assert main(["gateway"]) == 2  # every command refuses to start
    assert "lower CIUDAD_MAX_PAST_AGE_S or raise CIUDAD_RETENTION_RAW_DAYS" in (
        capsys.readouterr().err
    )


def test_the_alert_rules_file_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["config", "check"]) == 0
    assert "alert rules: 7 (built-in)" in capsys.readouterr().out
    rules = tmp_path / "rules.json"
    rules.write_text('[{"name": "no2", "entity_type": "AirQualityObserved"}]')
    monkeypatch.setenv("CIUDAD_ALERT_RULES_FILE", str(rules))
    assert main(["config", "check"]) == 2
    error = capsys.readouterr().err
    assert f"alert rules file {rules}" in error
    assert "attribute" in error  # a missing field, named


def test_the_deployment_example_is_refused_until_filled_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 16, item 10: the example's CHANGE_ME values passed the check."""
    assert main(["config", "check", "--env-file", str(DEPLOY_ENV)]) == 2
    error = capsys.readouterr().err
    assert "CIUDAD_DATABASE_URL: still a placeholder" in error
    assert "CIUDAD_MQTT_PASSWORD: still a placeholder" in error
    assert "ciudad:CHANGE_ME@" not in error  # a secret's value is never printed
    filled = tmp_path / "ciudad.env"
    filled.write_text(DEPLOY_ENV.read_text().replace("CHANGE_ME", "s3cret-Xq9"))
    assert main(["config", "check", "--env-file", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "CIUDAD_API_AUTH=keys" in out
    assert "CIUDAD_MQTT_PASSWORD=********" in out
    assert "s3cret" not in out  # the DSN and password are secrets


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CIUDAD_MQTT_PASSWORD", "changeme"),
        ("CIUDAD_DATABASE_URL", "postgresql://ciudad:change-me@db/ciudad"),
        ("CIUDAD_MQTT_USERNAME", "REPLACE_ME"),
    ],
)
def test_a_placeholder_fails_the_check_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["config", "check"]) == 2
    error = capsys.readouterr().err
    assert f"{variable}: still a placeholder" in error
    assert value not in error


def test_warnings_for_valid_but_risky_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIUDAD_API_AUTH", "off")
    monkeypatch.setenv("CIUDAD_SPOOL_MAX_BYTES", "0")
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "warning: CIUDAD_API_AUTH=off" in out
    assert "warning: CIUDAD_SPOOL_MAX_BYTES=0" in out
    assert main(["config", "check", "--env-file", "/nonexistent.env"]) == 2


def test_a_broker_password_sent_in_clear_is_a_warning_and_a_missing_ca_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("CIUDAD_LORAWAN_MQTT_HOST", "lns.example.org")
    monkeypatch.setenv("CIUDAD_LORAWAN_MQTT_PASSWORD", "s3cret-for-the-lns")
    monkeypatch.setenv("CIUDAD_MQTT_PASSWORD", "s3cret-for-loopback")
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: CIUDAD_LORAWAN_MQTT_PASSWORD goes to lns.example.org in clear: "
        "set CIUDAD_LORAWAN_MQTT_TLS=true"
    ) in out
    assert "CIUDAD_MQTT_PASSWORD goes to" not in out, "the gateway's broker is on loopback"
    assert "s3cret" not in out
    monkeypatch.setenv("CIUDAD_LORAWAN_MQTT_TLS", "true")
    monkeypatch.setenv("CIUDAD_LORAWAN_MQTT_CA_FILE", str(tmp_path / "missing.crt"))
    assert main(["config", "check"]) == 2
    assert f"CIUDAD_LORAWAN_MQTT_CA_FILE: cannot read {tmp_path / 'missing.crt'}" in (
        capsys.readouterr().err
    )
    (tmp_path / "missing.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    assert main(["config", "check"]) == 0
    assert "in clear" not in capsys.readouterr().out
