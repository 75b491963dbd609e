"""A development certificate authority and a server certificate, made with openssl.

For development and tests only: production brokers get certificates from the
city's PKI or ACME. Keys are written with mode 0600.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    tool = shutil.which("openssl")
    if tool is None:
        raise ConfigurationError("openssl is not installed (Debian package openssl)")
    result = subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ConfigurationError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def make_dev_ca(
    directory: Path,
    hostnames: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
) -> TlsFiles:
    """Creates ca.crt/ca.key and server.crt/server.key valid for the given names."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=ciudad development CA",
        cwd=directory,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        f"/CN={hostnames[0]}",
        cwd=directory,
    )
    names = [f"DNS:{h}" for h in hostnames] + [f"IP:{ip}" for ip in ips]
    (directory / "server.ext").write_text(f"subjectAltName={','.join(names)}\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "825",
        "-extfile",
        "server.ext",
        cwd=directory,
    )
    for key in ("ca.key", "server.key"):
        (directory / key).chmod(0o600)
    return TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
