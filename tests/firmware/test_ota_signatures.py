"""The node's Ed25519 verifier (firmware/ed25519.py with sha512.py, run by MicroPython) against
signatures made by the ``cryptography`` package: random manifests signed with random keys are
accepted; any change to the manifest, the signature or the key is rejected."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.helpers.firmware import FIRMWARE, micropython
from tests.helpers.ota_bundles import public_hex

VERIFY = """
import sys, json
from binascii import unhexlify
sys.path.insert(0, {firmware!r})
from ed25519 import verify
from sha512 import digest
with open({cases!r}) as f:
    cases = json.load(f)
out = []
for pub, msg, sig in cases:
    out.append(verify(unhexlify(pub), unhexlify(msg), unhexlify(sig)))
digests = [digest((unhexlify(msg),)).hex() for _, msg, _ in cases[:20]]
print(json.dumps([out, digests]))
"""


def _manifest(rng: random.Random) -> bytes:
    files = [
        [f"mod_{i}.mpy", rng.randrange(1, 60000), rng.randbytes(32).hex()]
        for i in range(rng.randrange(1, 33))
    ]
    m = {"v": 1, "node": "air", "version": f"1.{rng.randrange(99)}.0", "min_boot": 1}
    m |= {"chunk": 1024, "files": files}
    return json.dumps(m, sort_keys=True, separators=(",", ":")).encode()


def _flip(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def test_the_micropython_verifier_agrees_with_cryptography(tmp_path: Path) -> None:
    rng = random.Random(22)
    cases: list[tuple[str, str, str]] = []
    expected: list[bool] = []
    for _ in range(12):
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        pub = bytes.fromhex(public_hex(key))
        manifest = _manifest(rng)
        sig = key.sign(manifest)
        other = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        variants = [
            (pub, manifest, sig, True),
            (pub, _flip(manifest, rng), sig, False),
            (pub, manifest, _flip(sig[:32], rng) + sig[32:], False),
            (pub, manifest, sig[:32] + _flip(sig[32:], rng), False),
            (pub, manifest, other.sign(manifest), False),
            (pub, manifest + b" ", sig, False),
        ]
        for p, m, s, good in variants:
            cases.append((p.hex(), m.hex(), s.hex()))
            expected.append(good)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    script = tmp_path / "verify.py"
    script.write_text(VERIFY.format(firmware=str(FIRMWARE), cases=str(tmp_path / "cases.json")))
    result = subprocess.run(
        [micropython(), str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts, digests = json.loads(result.stdout)
    assert verdicts == expected
    assert sum(expected) == 12
    assert digests == [hashlib.sha512(bytes.fromhex(m)).hexdigest() for _, m, _ in cases[:20]]
