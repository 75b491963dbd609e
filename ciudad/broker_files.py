"""``ciudad broker-config``: the whole mosquitto configuration, from the device registry.

Writes into one directory: ``mosquitto.conf`` (listeners, persistence, queue
limits, log), ``passwd`` (the devices' users), ``gateway.passwd`` (the gateway's
user), ``acl`` and, with ``--tls``, a development CA and server certificate in
``tls/``. Files are replaced atomically, so a SIGHUP never reads half a file.
Run as root, the secret files are handed to the user mosquitto runs as: mosquitto
2.0 drops root before it reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import tempfile
from pathlib import Path

from acquisition import (
    ACL,
    CONFIG,
    DEVICE_PASSWORDS,
    GATEWAY_PASSWORDS,
    BrokerLayout,
    Credential,
    DeviceRegistry,
    acl_file,
    mosquitto_conf,
    mosquitto_password_hash,
    password_file,
)
from support import ConfigurationError, Settings
from support.tls import TlsFiles, make_dev_ca


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port")
    return port


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, required=True, help="directory for the files")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="devices' TLS listener; makes a development CA unless OUTPUT/tls has one",
    )
    parser.add_argument("--tls-port", type=_port, default=8883, help="default 8883")
    parser.add_argument(
        "--plain-port", type=_port, help="devices' plain-text listener (trials only; default none)"
    )
    parser.add_argument(
        "--device-host", help="address the devices' listeners bind to (default: every interface)"
    )
    parser.add_argument(
        "--gateway-port", type=_port, help="the gateway's 127.0.0.1 listener (CIUDAD_MQTT_PORT)"
    )
    parser.add_argument("--persistence-dir", type=Path, default=Path("/var/lib/mosquitto"))
    parser.add_argument("--log-file", type=Path, default=Path("/var/log/mosquitto/mosquitto.log"))
    parser.add_argument(
        "--user", default="mosquitto", help="whom mosquitto runs as when started as root"
    )


def existing_or_dev_ca(directory: Path) -> TlsFiles:
    """The certificates already in ``directory`` (devices trust that CA), else a new dev CA."""
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    if all(p.exists() for p in (files.ca_cert, files.server_cert, files.server_key)):
        return files
    return make_dev_ca(directory)


def layout_from_args(args: argparse.Namespace, settings: Settings) -> BrokerLayout:
    output = args.output.resolve()
    layout = BrokerLayout(
        directory=output,
        gateway_port=args.gateway_port or settings.mqtt_port,
        tls=existing_or_dev_ca(output / "tls") if args.tls else None,
        tls_port=args.tls_port,
        plain_port=args.plain_port,
        device_host=args.device_host,
        persistence_dir=args.persistence_dir.resolve(),
        log_file=args.log_file.resolve(),
        user=args.user or None,
    )
    if problems := layout.problems():
        raise ConfigurationError("; ".join(problems))
    return layout


def _owner(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) to give secrets to, when we are root and mosquitto will not be."""
    if os.geteuid() != 0 or not user or user == "root":
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ConfigurationError(
            f"user {user!r} does not exist here: mosquitto could not read its password "
            "files; install mosquitto first or give --user"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _replace(path: Path, text: str, secret: bool, owner: tuple[int, int] | None) -> None:
    """Writes ``text`` next to ``path`` and renames it over: readers see old or new."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(name, 0o600 if secret else 0o644)
        if secret and owner is not None:
            os.chown(name, *owner)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def write_broker_files(
    layout: BrokerLayout, credentials: list[Credential], gateway_user: str, gateway_hash: str
) -> str:
    """Writes every file of ``layout``; returns a summary for the operator."""
    out = layout.directory
    out.mkdir(parents=True, exist_ok=True)
    owner = _owner(layout.user)
    _replace(out / DEVICE_PASSWORDS, password_file(credentials, {}), True, owner)
    _replace(out / GATEWAY_PASSWORDS, password_file([], {gateway_user: gateway_hash}), True, owner)
    _replace(out / ACL, acl_file(credentials, gateway_user), False, owner)
    _replace(out / CONFIG, mosquitto_conf(layout), False, owner)
    written = f"{DEVICE_PASSWORDS} ({len(credentials)} devices), {GATEWAY_PASSWORDS} and {ACL}"
    lines = [f"wrote {out / CONFIG}, {written}"]
    if layout.tls is not None:
        if owner is not None:
            os.chown(layout.tls.server_key, *owner)
        lines.append(f"devices' CA {layout.tls.ca_cert} (give it to devices)")
    lines.append(
        f"run `mosquitto -c {out / CONFIG}`; after a registry change run this again and "
        "send mosquitto SIGHUP (a listener change needs a restart)"
    )
    return "\n".join(lines)


async def run_broker_config(
    registry: DeviceRegistry, settings: Settings, args: argparse.Namespace
) -> None:
    if not settings.mqtt_username or settings.mqtt_password is None:
        raise ConfigurationError(
            "set CIUDAD_MQTT_USERNAME and CIUDAD_MQTT_PASSWORD: the gateway's broker user"
        )
    gateway_hash = mosquitto_password_hash(settings.mqtt_password.get_secret_value())
    layout = await asyncio.to_thread(layout_from_args, args, settings)
    credentials = await registry.credentials()
    print(
        await asyncio.to_thread(
            write_broker_files, layout, credentials, settings.mqtt_username, gateway_hash
        )
    )
