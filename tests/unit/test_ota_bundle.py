"""Firmware bundles and OTA protocol messages: what is signed, what a reader refuses."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from acquisition import BundleError, DeviceState, decode_bundle, encode_bundle, sign_bundle
from acquisition.ota.bundle import MAX_BUNDLE_BYTES, parse_manifest, verify_signature
from acquisition.ota.protocol import chunk_payload, parse_report, start_payload
from acquisition.ota.rollouts import staged_share
from support import PayloadError

SEED = bytes(range(32))
FILES = [("node.mpy", b"N" * 2500), ("app_noise.mpy", b"A" * 1024), ("empty.json", b"")]


def _bundle(**changes: object) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        encode_bundle(sign_bundle(SEED, "noise", "1.4.0", FILES))
    )
    document.update(changes)
    return document


def _read(document: dict[str, object]) -> None:
    decode_bundle(json.dumps(document).encode())


def test_a_bundle_round_trips_and_its_manifest_is_the_canonical_protocol_bytes() -> None:
    bundle = sign_bundle(SEED, "noise", "1.4.0", FILES, min_boot=1)
    again = decode_bundle(encode_bundle(bundle))
    assert again == bundle
    manifest = json.loads(bundle.manifest_bytes)
    assert manifest == {
        "v": 1,
        "node": "noise",
        "version": "1.4.0",
        "min_boot": 1,
        "chunk": 1024,
        "files": [[n, len(c), hashlib.sha256(c).hexdigest()] for n, c in FILES],
    }
    assert (
        bundle.manifest_bytes
        == json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    )
    verify_signature(bundle.pubkey, bundle.manifest_bytes, bundle.signature)


def test_chunks_cover_each_file_exactly_and_refuse_other_offsets() -> None:
    bundle = sign_bundle(SEED, "noise", "1.4.0", FILES)
    assert [len(bundle.chunk(0, o)) for o in (0, 1024, 2048)] == [1024, 1024, 452]
    assert bundle.chunk(2, 0) == b""  # an empty file is one empty chunk
    for f, o in ((0, 3072), (0, 100), (3, 0), (-1, 0), (1, 1024)):
        with pytest.raises(BundleError):
            bundle.chunk(f, o)
    assert bundle.progress(1, 0) == pytest.approx(2500 / 3524)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "zip"}, "not a ciudad-ota/1 bundle"),
        ({"sig": base64.b64encode(bytes(64)).decode()}, "signature does not verify"),
        ({"pubkey": hashlib.sha256(b"other").hexdigest()}, "signature does not verify"),
        ({"files": ["!!"]}, "do not match its manifest"),
        ({"manifest": "not base64!"}, "not valid base64"),
    ],
)
def test_a_damaged_bundle_is_refused_with_the_reason(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(BundleError, match=message):
        _read(_bundle(**change))


def test_a_file_that_does_not_match_its_hash_is_refused() -> None:
    document = _bundle()
    files = list(document["files"])  # type: ignore[call-overload]
    files[1] = base64.b64encode(b"B" * 1024).decode()
    with pytest.raises(BundleError, match=r"app_noise\.mpy does not match"):
        _read(document | {"files": files})


@pytest.mark.parametrize(
    "manifest",
    [
        {"v": 2},
        {"node": "toaster"},
        {"files": [["../main.py", 1, "0" * 64]]},
        {"files": [["main.py", 1, "0" * 64]]},
        {"files": [["bootloader.mpy", 1, "0" * 64]]},
        {"files": [["_pos.json", 1, "0" * 64]]},
        {"files": [["a.mpy", 1, "0" * 64], ["a.mpy", 1, "0" * 64]]},
        {"files": [["a.mpy", MAX_BUNDLE_BYTES + 1, "0" * 64]]},
        {"files": [[f"f{i}.mpy", 1, "0" * 64] for i in range(33)]},
        {"chunk": 10},
        {"min_boot": "1"},
        {"extra": 1},
    ],
)
def test_manifests_outside_protocol_v1_are_refused(manifest: dict[str, object]) -> None:
    body = {
        "v": 1, "node": "air", "version": "1.0", "min_boot": 1, "chunk": 1024,
        "files": [["a.mpy", 1, "0" * 64]],
    } | manifest  # fmt: skip
    with pytest.raises(BundleError):
        parse_manifest(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def test_a_manifest_that_is_not_canonical_is_refused() -> None:
    body = {"v": 1, "node": "air", "version": "1.0", "min_boot": 1, "chunk": 1024,
            "files": [["a.mpy", 1, "0" * 64]]}  # fmt: skip
    with pytest.raises(BundleError, match="canonical"):
        parse_manifest(json.dumps(body).encode())  # spaces after separators


def test_start_and_chunk_commands_carry_what_the_node_checks() -> None:
    bundle = sign_bundle(SEED, "noise", "1.4.0", FILES)
    start = json.loads(start_payload("abc123", bundle))["ota"]
    assert base64.b64decode(start["manifest"]) == bundle.manifest_bytes
    assert base64.b64decode(start["sig"]) == bundle.signature
    chunk = json.loads(chunk_payload("abc123", 0, 1024, bundle.chunk(0, 1024)))["otachunk"]
    assert (chunk["f"], chunk["o"]) == (0, 1024)
    data = base64.b64decode(chunk["d"])
    assert hashlib.sha256(data).hexdigest() == chunk["h"]
    assert data == FILES[0][1][1024:2048]


def test_node_reports_are_parsed_and_bad_ones_refused() -> None:
    topic = "/json/leon-sensors/noise-001/ota"
    report = parse_report(topic, b'{"id": "abc123", "state": "downloading", "f": 1, "o": 2048}')
    assert (report.device_id, report.state, report.file_index, report.offset) == (
        "noise-001", DeviceState.DOWNLOADING, 1, 2048,
    )  # fmt: skip
    failed = parse_report(topic, b'{"id": "abc123", "state": "failed", "reason": "wrong_node"}')
    assert (failed.state, failed.reason) == (DeviceState.FAILED, "wrong_node")
    for payload in (
        b"[]",
        b'{"id": "abc123", "state": "pending"}',
        b'{"id": "abc123", "state": "downloading", "f": "1", "o": 0}',
        b'{"state": "confirmed"}',
        b"{" + b" " * 2000 + b"}",
    ):
        with pytest.raises(PayloadError):
            parse_report(topic, payload)
    with pytest.raises(PayloadError):
        parse_report("/json/leon-sensors/noise-001/attrs", b'{"id": "a", "state": "confirmed"}')


def test_a_staged_share_rounds_up_and_is_stable_for_its_salt() -> None:
    group = [f"noise-{i:03}" for i in range(20)]
    first = staged_share(group, 10, "u1")
    assert len(first) == 2
    assert staged_share(group, 10, "u1") == first
    assert len(staged_share(group, 1, "u1")) == 1  # at least one device
    assert len(staged_share(group, 100, "u1")) == 20
    assert len({tuple(staged_share(group, 10, f"u{i}")) for i in range(10)}) > 1
