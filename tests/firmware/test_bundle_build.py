"""`ciudad firmware keygen` and `build`: the modules a node kind runs, compiled and signed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from acquisition import BundleError, decode_bundle, encode_bundle, public_key
from ciudad.cli import main
from ciudad.firmware_build import build_bundle, node_modules, read_key, write_key
from support import ConfigurationError
from tests.helpers.firmware import FIRMWARE


@pytest.mark.parametrize(
    ("kind", "app"),
    [("noise", "app_noise"), ("air", "app_air"), ("parking", "app_parking"),
     ("streetlight", "app_light")],
)  # fmt: skip
def test_a_bundle_holds_the_kinds_app_and_never_the_bootloader(kind: str, app: str) -> None:
    modules = node_modules(FIRMWARE, kind)
    assert app in modules
    assert {"node", "config", "mqtt", "codec"} <= set(modules)
    assert not {"main", "node_secrets", "node_secrets_example"} & set(modules)
    others = {"app_noise", "app_air", "app_parking", "app_light"} - {app}
    assert not others & set(modules), "another kind's app"
    if (FIRMWARE / "bootloader.py").exists():
        assert "bootloader" not in modules  # main.py's own, never replaced over the air


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "ota.key"
    assert main(["firmware", "keygen", "--out", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert public_key(read_key(key)).hex() in capsys.readouterr().out
    assert main(["firmware", "keygen", "--out", str(key)]) == 1
    key.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        read_key(key)


def test_build_compiles_signs_and_sets_the_version(tmp_path: Path) -> None:
    seed = write_key(tmp_path / "k")
    out = tmp_path / "noise.bundle"
    code = main(
        ["firmware", "build", "--node", "noise", "--version", "2.0.1", "--key",
         str(tmp_path / "k"), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    bundle = decode_bundle(out.read_bytes())
    assert bundle.pubkey == public_key(seed)
    manifest = json.loads(bundle.manifest_bytes)
    assert (manifest["node"], manifest["version"], manifest["min_boot"]) == ("noise", "2.0.1", 1)
    names = [f[0] for f in manifest["files"]]
    assert names == [f"{m}.mpy" for m in node_modules(FIRMWARE, "noise")]
    config = bundle.contents[names.index("config.mpy")]
    assert config[:1] == b"M"  # a compiled module
    assert b"2.0.1" in config


def test_a_host_build_runs_on_the_unix_port_and_a_broken_tree_is_refused(tmp_path: Path) -> None:
    seed = os.urandom(32)
    bundle = build_bundle(FIRMWARE, "air", "3.0.0", seed, arch="host")
    assert decode_bundle(encode_bundle(bundle)) == bundle
    broken = tmp_path / "fw"
    broken.mkdir()
    for src in FIRMWARE.glob("*.py"):
        (broken / src.name).write_text(src.read_text())
    (broken / "app_air.py").write_text("def (:\n")
    with pytest.raises(ConfigurationError, match=r"app_air\.py does not compile"):
        build_bundle(broken, "air", "3.0.1", seed)
    with pytest.raises(BundleError):
        build_bundle(FIRMWARE, "air", "bad version!", seed)
