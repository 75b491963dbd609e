"""Settings errors that name the variable and the fix, and `ciudad config check`."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from pydantic import SecretStr, ValidationError

from services import ServiceTables
from support import CiudadError, Settings
from support.net import is_loopback

# What deploy/ciudad.env.example and similar templates put where a real value belongs.
PLACEHOLDER = re.compile(r"change[_ -]?me|replace[_ -]?me", re.IGNORECASE)


def describe_errors(exc: ValidationError) -> str:
    """One line per problem: the environment variable, what is wrong, what was given."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if field:
            given = error.get("input")
            shown = "" if isinstance(given, dict) else f" (got {str(given)[:60]!r})"
            lines.append(f"  CIUDAD_{field.upper()}: {message}{shown}")
        else:
            lines.append(f"  {message}")
    return "\n".join(lines)


def load_settings(env_file: Path | None = None) -> Settings:
    if env_file is None:
        return Settings()
    if not env_file.is_file():
        raise FileNotFoundError(f"no settings file {env_file}")
    return Settings(_env_file=env_file)


def warnings(settings: Settings) -> list[str]:
    """Valid settings a production deployment should still think twice about."""
    found = []
    if settings.database_url is None:
        found.append("CIUDAD_DATABASE_URL unset: the embedded PostgreSQL under data_dir is used")
    if settings.api_auth == "off":
        found.append("CIUDAD_API_AUTH=off: the API is open to anyone on this host")
    if not is_loopback(settings.api_host):
        found.append(f"CIUDAD_API_HOST={settings.api_host}: the API listens beyond this host")
    if settings.spool_max_bytes == 0:
        found.append("CIUDAD_SPOOL_MAX_BYTES=0: no spool; a database outage backs up into MQTT")
    if settings.mqtt_username and settings.mqtt_password is None:
        found.append("CIUDAD_MQTT_USERNAME set without CIUDAD_MQTT_PASSWORD")
    found += _clear_passwords(settings)
    return found


def _clear_passwords(settings: Settings) -> list[str]:
    """Broker passwords that would cross a network unencrypted."""
    links = (
        ("MQTT", settings.mqtt_host, settings.mqtt_password, settings.mqtt_tls),
        ("LORAWAN_MQTT", settings.lorawan_mqtt_host, settings.lorawan_mqtt_password,
         settings.lorawan_mqtt_tls),
    )  # fmt: skip
    return [
        f"CIUDAD_{name}_PASSWORD goes to {host} in clear: set CIUDAD_{name}_TLS=true"
        for name, host, password, tls in links
        if host and password is not None and not tls and not is_loopback(host)
    ]


def unreadable_files(settings: Settings) -> list[str]:
    """CA files named in the settings that cannot be read (TLS would fail at start)."""
    named = (("MQTT_CA_FILE", settings.mqtt_ca_file),
             ("LORAWAN_MQTT_CA_FILE", settings.lorawan_mqtt_ca_file))  # fmt: skip
    return [
        f"CIUDAD_{name}: cannot read {path}"
        for name, path in named
        if path is not None and not (path.is_file() and os.access(path, os.R_OK))
    ]


def report(settings: Settings) -> str:
    """The effective settings, secrets masked, then the warnings."""
    lines = ["settings are valid:"]
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = "********" if isinstance(value, SecretStr) else value
        lines.append(f"  CIUDAD_{name.upper()}={'' if shown is None else shown}")
    lines += [f"warning: {w}" for w in warnings(settings)]
    return "\n".join(lines)


def placeholders(settings: Settings) -> list[str]:
    """The variables whose value (secrets included) still holds a template's placeholder."""
    found = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if value is not None and PLACEHOLDER.search(text):
            found.append(f"CIUDAD_{name.upper()}")
    return found


def check_config(settings: Settings) -> int:
    """`ciudad config check`: 2 when a setting is unusable, else the report and 0."""
    if unset := placeholders(settings):
        # Names only: the value of a secret is not printed, even a placeholder one.
        lines = "".join(f"\n  {name}: still a placeholder (CHANGE_ME); set the real value"
                        for name in unset)  # fmt: skip
        print(f"ciudad: settings not filled in:{lines}", file=sys.stderr)
        return 2
    if unreadable := unreadable_files(settings):
        print("ciudad: " + "; ".join(unreadable), file=sys.stderr)
        return 2
    try:
        tables = ServiceTables.load(settings)
    except CiudadError as exc:
        print(f"ciudad: {exc}", file=sys.stderr)
        return 2
    print(report(settings))
    print(f"alert rules: {len(tables.rules)} ({settings.alert_rules_file or 'built-in'})")
    objectives = settings.noise_objectives_file or "built-in, RD 1367/2007"
    print(f"noise objectives: {len(tables.noise_objectives)} areas ({objectives})")
    return 0
