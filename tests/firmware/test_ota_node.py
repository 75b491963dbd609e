"""Firmware updates on the node alone: the unix-port node against a real mosquitto, with a
small client playing the platform's side of the OTA protocol (docs/firmware.md, "OTA on the
node"). Power loss is SIGKILL and a restart of the process with the same files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from support.mosquitto import MosquittoBroker
from tests.helpers.firmware import FIRMWARE, power_cycle, running_node, stop_node
from tests.helpers.fleet import APIKEY
from tests.helpers.nodes import site
from tests.helpers.ota_bundles import Bundle, OtaServer, build_bundle, public_hex
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUN_S = 90  # the node's own run time: an upper bound, tests stop it when done


@pytest.fixture
def mosquitto(private_mosquitto: MosquittoBroker) -> MosquittoBroker:
    """The nodes leave retained status messages behind: each test gets its own broker."""
    return private_mosquitto


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def bundle(key: Ed25519PrivateKey) -> Bundle:
    return build_bundle(key, node="parking", version="1.4.0", native_arch="host")


def node_site(port: int, device_id: str, key: Ed25519PrivateKey, **extra: Any) -> dict[str, Any]:
    return site(
        "parking",
        port,
        device_id=device_id,
        park_calibration_samples=3,
        ota_pubkey=public_hex(key),
        ota_retry_s=1,
        **extra,
    )


def running(workdir: Path, node_site: dict[str, Any]) -> Iterator[list[subprocess.Popen[str]]]:
    return running_node(workdir, node_site, RUN_S)


def requests(platform: OtaServer, since: int = 0) -> list[tuple[int, int]]:
    """The (f, o) the node asked for, in order (repeats included)."""
    return [(b["f"], b["o"]) for b in platform.seen[since:] if b.get("state") == "downloading"]


def boot_state(workdir: Path) -> dict[str, Any]:
    return dict(json.loads((workdir / "ota" / "boot.json").read_text()))


def test_an_update_is_downloaded_installed_and_confirmed_while_the_node_keeps_measuring(
    mosquitto: MosquittoBroker, key: Ed25519PrivateKey, bundle: Bundle, tmp_path: Path
) -> None:
    with (
        running(tmp_path, node_site(mosquitto.port, "ota-e2e", key, interval_s=1)) as procs,
        OtaServer(mosquitto.port, APIKEY, "ota-e2e", bundle, delay_s=0.1) as platform,
    ):
        platform.wait_measure()
        platform.start()
        assert platform.wait_for("downloading") == {
            "id": "u1",
            "state": "downloading",
            "f": 0,
            "o": 0,
        }
        assert platform.wait_for("installed")["version"] == "1.4.0"
        assert platform.wait_for("confirmed") == {
            "id": "u1",
            "state": "confirmed",
            "version": "1.4.0",
        }
        # The confirmation is delivered (PUBACK) and then forgotten: not re-sent at each boot.
        eventually(lambda: boot_state(tmp_path).get("report") is None)
        output = stop_node(procs)
    chunks = sum(-(-len(data) // bundle.chunk) for _, data in bundle.files)
    asked = requests(platform)
    assert asked == sorted(asked)  # never back to a chunk it had (a late one may be re-asked)
    assert len(set(asked)) == len(platform.served) == chunks
    assert "failed" not in platform.states()
    # The new modules (config.mpy says 1.4.0) really ran, from the app folder, after a reset.
    assert "boot parking ota-e2e fw 0.1.0 reset: power-on" in output
    assert "boot parking ota-e2e fw 1.4.0 reset: ota" in output
    state = boot_state(tmp_path)
    assert (state["active"], state["version"], state["trial"]) == ("a", "1.4.0", "")
    names = {p.name for p in (tmp_path / "ota" / "a").iterdir()}
    assert {name for name, _ in bundle.files} <= names
    # It kept measuring: readings arrived while it was downloading (~4 s at 0.1 s a chunk).
    assert platform.measures.get("downloading", 0) >= 2, platform.measures


def test_a_corrupted_chunk_is_asked_for_again_and_three_in_a_row_fail_the_update(
    mosquitto: MosquittoBroker, key: Ed25519PrivateKey, bundle: Bundle, tmp_path: Path
) -> None:
    # File 1, offset 0 arrives corrupted once; the node asks for it again and carries on.
    with (
        running(tmp_path / "once", node_site(mosquitto.port, "ota-bad1", key)) as procs,
        OtaServer(
            mosquitto.port, APIKEY, "ota-bad1", bundle, corrupt=lambda *fon: fon == (1, 0, 0)
        ) as platform,
    ):
        platform.wait_measure()
        platform.start()
        platform.wait_for("confirmed")
        stop_node(procs)
    asked = requests(platform)
    assert asked.count((1, 0)) >= 2  # asked again after the corrupted one
    assert asked == sorted(asked)
    # Always corrupted: the third failure of the same chunk ends the update, nothing changes.
    with (
        running(tmp_path / "always", node_site(mosquitto.port, "ota-bad3", key)) as procs,
        OtaServer(
            mosquitto.port, APIKEY, "ota-bad3", bundle, corrupt=lambda f, o, n: f == 2
        ) as platform,
    ):
        platform.wait_measure()
        platform.start()
        assert platform.wait_for("failed")["reason"] == "chunk_hash"
        platform.wait_measure()  # still running the factory firmware
        output = stop_node(procs)
    assert platform.served[(2, 0)] >= 3  # (a retry may have been answered too)
    assert max(requests(platform)) == (2, 0)
    assert "reset:" not in output.replace("reset: power-on", "")
    assert not (tmp_path / "always" / "ota" / "boot.json").exists()
    assert not (tmp_path / "always" / "ota" / "a" / "_pos.json").exists()


@pytest.mark.parametrize(
    ("case", "reason"),
    [("other key", "bad_signature"), ("air bundle", "wrong_node"), ("boot 2", "min_boot")],
)
def test_a_bundle_the_node_must_not_install_is_refused_before_any_download(
    mosquitto: MosquittoBroker,
    key: Ed25519PrivateKey,
    bundle: Bundle,
    tmp_path: Path,
    case: str,
    reason: str,
) -> None:
    refused = {
        "other key": lambda: build_bundle(
            Ed25519PrivateKey.generate(), node="parking", version="6.6.6", native_arch="host"
        ),
        "air bundle": lambda: build_bundle(key, node="air", version="1.4.0", native_arch="host"),
        "boot 2": lambda: build_bundle(
            key, node="parking", version="1.4.0", min_boot=2, native_arch="host"
        ),
    }[case]()
    device = "ota-" + reason.replace("_", "")
    with (
        running(tmp_path, node_site(mosquitto.port, device, key)) as procs,
        OtaServer(mosquitto.port, APIKEY, device, refused) as platform,
    ):
        platform.wait_measure()
        platform.start()
        assert platform.wait_for("failed") == {"id": "u1", "state": "failed", "reason": reason}
        # The same node still takes a good bundle afterwards.
        platform.bundle = bundle
        platform.update_id = "u2"
        platform.start()
        assert platform.wait_for("confirmed")["id"] == "u2"
        stop_node(procs)
    assert platform.served  # only u2's chunks: u1 was never downloaded
    assert platform.states()[0] == "failed"


def test_power_loss_mid_download_resumes_from_the_last_verified_chunk(
    mosquitto: MosquittoBroker, key: Ed25519PrivateKey, bundle: Bundle, tmp_path: Path
) -> None:
    with (
        running(tmp_path, node_site(mosquitto.port, "ota-kill-dl", key)) as procs,
        OtaServer(mosquitto.port, APIKEY, "ota-kill-dl", bundle) as platform,
    ):
        platform.wait_measure()
        platform.start()
        eventually(lambda: len(platform.served) >= 12)
        platform.serve = False  # the link "stalls": the node waits for its next chunk
        served = len(platform.served)
        wanted = platform.wait_for("downloading")
        while len(platform.served) != served or (wanted["f"], wanted["o"]) in platform.served:
            served, wanted = len(platform.served), platform.wait_for("downloading")
        mark = len(platform.seen)
        _, procs[0] = power_cycle(procs[0], tmp_path, RUN_S)
        platform.serve = True
        assert platform.wait_for("confirmed")["version"] == "1.4.0"
        output = stop_node(procs)
    assert (wanted["f"], wanted["o"]) != (0, 0)
    after = requests(platform, mark)
    assert after[0] == (wanted["f"], wanted["o"]), after[:3]
    assert min(after) == after[0], "a chunk verified before the kill was asked for again"
    assert "ota: resuming u1" in output
    assert "boot parking ota-kill-dl fw 1.4.0" in output


@pytest.mark.parametrize("kill_at", ["verifying", "installed"])
def test_power_loss_mid_install_recovers_into_the_new_version(
    mosquitto: MosquittoBroker,
    key: Ed25519PrivateKey,
    bundle: Bundle,
    tmp_path: Path,
    kill_at: str,
) -> None:
    device = f"ota-kill-{kill_at}"
    with (
        running(tmp_path, node_site(mosquitto.port, device, key)) as procs,
        OtaServer(mosquitto.port, APIKEY, device, bundle) as platform,
    ):
        platform.wait_measure()
        platform.start()
        platform.wait_for(kill_at)
        _, procs[0] = power_cycle(procs[0], tmp_path, RUN_S)
        assert platform.wait_for("confirmed")["version"] == "1.4.0"
        output = stop_node(procs)
    assert "boot parking " + device + " fw 1.4.0" in output
    state = boot_state(tmp_path)
    assert (state["active"], state["version"], state["trial"]) == ("a", "1.4.0", "")


def test_a_new_version_that_crashes_at_start_up_is_rolled_back_by_the_node(
    mosquitto: MosquittoBroker, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    broken = build_bundle(
        key,
        node="parking",
        version="2.0.0",
        sources={"app_parking.py": "raise ImportError('a broken build')\n"},
        native_arch="host",
    )
    with (
        running(tmp_path, node_site(mosquitto.port, "ota-crash", key, ota_max_boots=2)) as procs,
        OtaServer(mosquitto.port, APIKEY, "ota-crash", broken) as platform,
    ):
        platform.wait_measure()
        platform.start()
        platform.wait_for("installed")
        report = platform.wait_for("rolled_back")
        platform.wait_measure()
        eventually(lambda: boot_state(tmp_path).get("report") is None)
        output = stop_node(procs)
    assert report == {
        "id": "u1",
        "state": "rolled_back",
        "version": "0.1.0",
        "failed_version": "2.0.0",
        "reason": "crash",
    }
    assert output.count("ImportError: a broken build") == 2  # ota_max_boots tries
    assert output.splitlines().count("reset: crash") == 2
    assert "boot parking ota-crash fw 0.1.0 reset: crash" in output
    state = boot_state(tmp_path)
    assert (state["active"], state["trial"]) == ("", "")
    assert not (tmp_path / "ota" / "a").exists()


def test_a_new_version_that_never_connects_is_rolled_back_after_its_boots(
    mosquitto: MosquittoBroker, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    mqtt_source = (FIRMWARE / "mqtt.py").read_text()
    offline = build_bundle(
        key,
        node="parking",
        version="3.0.0",
        sources={
            "mqtt.py": mqtt_source
            + "\n\ndef _no_link(self, clean=True, timeout_s=5):\n"
            + '    raise OSError("this build cannot connect")\n\n\n'
            + "MQTTClient.connect = _no_link\n"
        },
        native_arch="host",
    )
    site = node_site(mosquitto.port, "ota-offline", key, ota_max_boots=2, ota_confirm_s=3)
    with (
        running(tmp_path, site) as procs,
        OtaServer(mosquitto.port, APIKEY, "ota-offline", offline) as platform,
    ):
        platform.wait_measure()
        platform.start()
        platform.wait_for("installed")
        report = platform.wait_for("rolled_back")
        output = stop_node(procs)
    assert (report["failed_version"], report["reason"]) == ("3.0.0", "not_confirmed")
    assert output.count("this build cannot connect") >= 2
    assert output.splitlines().count("reset: not_confirmed") == 2  # ota_max_boots
    assert "boot parking ota-offline fw 0.1.0 reset: not_confirmed" in output
