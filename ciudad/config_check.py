"""Settings errors that name the variable and the fix, and `ciudad config check`."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, ValidationError

from support import Settings
from support.net import is_loopback


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
    return found


def report(settings: Settings) -> str:
    """The effective settings, secrets masked, then the warnings."""
    lines = ["settings are valid:"]
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = "********" if isinstance(value, SecretStr) else value
        lines.append(f"  CIUDAD_{name.upper()}={'' if shown is None else shown}")
    lines += [f"warning: {w}" for w in warnings(settings)]
    return "\n".join(lines)
