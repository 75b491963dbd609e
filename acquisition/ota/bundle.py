"""Firmware release bundles: the signed manifest, its files, and their file format (pure).

The manifest is protocol v1 (docs/firmware.md, "Updates over the air"): canonical JSON
bytes, signed with Ed25519. A bundle file is one JSON object (it travels through the
API's JSON door as it is):

    {"format": "ciudad-ota/1", "pubkey": "<64 hex>", "manifest": "<base64 manifest bytes>",
     "sig": "<base64 signature>", "files": ["<base64 file>", ...]}   # manifest order

Reading a bundle checks everything a node will check (shape, names, sizes, sha256, the
signature against the key that signed it) so a damaged or hand-edited file is refused
here, with a reason, instead of failing on a lamp post. Whether that key is the one a
node trusts is the node's decision (its ``ota_pubkey``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from support import ConfigurationError

FORMAT = "ciudad-ota/1"
NODE_KINDS = ("noise", "air", "parking", "streetlight")
MAX_FILES = 32
# An ESP32 with 4 MB flash keeps its MicroPython filesystem in ~2 MB, and a node holds the
# active, the staged and the previous app at once: 512 KB of app is already generous.
MAX_BUNDLE_BYTES = 512 * 1024
MAX_BUNDLE_FILE_BYTES = MAX_BUNDLE_BYTES * 4 // 3 + 64 * 1024  # base64 plus the envelope
DEFAULT_CHUNK = 1024
# Flat names; "_" starts the node's own bookkeeping files, and the bootloader's modules are
# never replaced over the air (firmware/ota.py refuses the same).
_FILE_NAME = re.compile(r"^(?!(main|bootloader|boot)\.)[a-z0-9][a-z0-9_]{0,34}\.(mpy|py|json)$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class BundleError(ConfigurationError):
    """A bundle (or a manifest) that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    node: str
    version: str
    min_boot: int
    chunk: int
    files: tuple[FileEntry, ...]

    def canonical(self) -> bytes:
        """The exact bytes that are signed and sent to the node."""
        body = {
            "v": 1,
            "node": self.node,
            "version": self.version,
            "min_boot": self.min_boot,
            "chunk": self.chunk,
            "files": [[f.name, f.size, f.sha256] for f in self.files],
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Bundle:
    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    pubkey: bytes
    contents: tuple[bytes, ...]  # one per manifest file, same order

    @property
    def sha256(self) -> str:
        """Identifies the release: the digest of the signed manifest."""
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def chunk(self, file_index: int, offset: int) -> bytes:
        """The raw chunk a node asks for; BundleError when (file, offset) is not one."""
        if not 0 <= file_index < len(self.contents):
            raise BundleError(f"no file {file_index} in the bundle")
        size = len(self.contents[file_index])
        step = self.manifest.chunk
        if offset < 0 or offset % step or (offset >= size and not offset == size == 0):
            raise BundleError(f"offset {offset} is not a chunk of file {file_index}")
        return self.contents[file_index][offset : offset + step]

    def progress(self, file_index: int, offset: int) -> float:
        """Share of the bundle's bytes before chunk (file_index, offset), 0..1."""
        done = sum(f.size for f in self.manifest.files[:file_index]) + offset
        return min(1.0, done / self.manifest.total_bytes) if self.manifest.total_bytes else 1.0


def parse_manifest(data: bytes) -> Manifest:
    """Protocol v1 manifest bytes -> Manifest; refuses non-canonical or invalid ones."""
    try:
        body = json.loads(data)
    except ValueError:
        raise BundleError("the manifest is not JSON") from None
    if not isinstance(body, dict) or body.get("v") != 1:
        raise BundleError("the manifest is not a protocol v1 object")
    if set(body) != {"v", "node", "version", "min_boot", "chunk", "files"}:
        raise BundleError("the manifest has missing or unknown keys")
    manifest = Manifest(
        node=_one_of(body["node"], NODE_KINDS, "node"),
        version=_matching(body["version"], _VERSION, "version"),
        min_boot=_int_in(body["min_boot"], 1, 1000, "min_boot"),
        chunk=_int_in(body["chunk"], 128, 4096, "chunk"),
        files=_file_entries(body["files"]),
    )
    if manifest.canonical() != data:
        raise BundleError("the manifest bytes are not canonical JSON")
    return manifest


def _one_of(value: Any, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise BundleError(f"{what} must be one of {', '.join(choices)}")
    return str(value)


def _matching(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise BundleError(f"{what} {value!r:.40} is not valid")
    return value


def _int_in(value: Any, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise BundleError(f"{what} must be an integer in {low}..{high}")
    return value


def _file_entries(value: Any) -> tuple[FileEntry, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FILES:
        raise BundleError(f"files must list 1 to {MAX_FILES} files")
    entries = []
    for item in value:
        if not isinstance(item, list) or len(item) != 3:
            raise BundleError("each file is [name, size, sha256]")
        name = _matching(item[0], _FILE_NAME, "file name")
        size = _int_in(item[1], 0, MAX_BUNDLE_BYTES, f"size of {name}")
        entries.append(FileEntry(name, size, _matching(item[2], _HEX64, f"sha256 of {name}")))
    if len({e.name for e in entries}) != len(entries):
        raise BundleError("a file name appears twice")
    if sum(e.size for e in entries) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the files exceed {MAX_BUNDLE_BYTES} bytes")
    return tuple(entries)


def sign_bundle(
    seed: bytes, node: str, version: str, files: list[tuple[str, bytes]], min_boot: int = 1
) -> Bundle:
    """Builds and signs a bundle from (name, content) pairs in install order."""
    if len(seed) != 32:
        raise BundleError("an Ed25519 private key is a 32-byte seed")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    entries = tuple(FileEntry(n, len(c), hashlib.sha256(c).hexdigest()) for n, c in files)
    manifest_bytes = Manifest(node, version, min_boot, DEFAULT_CHUNK, entries).canonical()
    manifest = parse_manifest(manifest_bytes)  # the same checks a reader applies
    pubkey = key.public_key().public_bytes_raw()
    signature = key.sign(manifest_bytes)
    return Bundle(manifest, manifest_bytes, signature, pubkey, tuple(c for _, c in files))


def public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def encode_bundle(bundle: Bundle) -> bytes:
    """The bundle file's bytes."""
    document = {
        "format": FORMAT,
        "pubkey": bundle.pubkey.hex(),
        "manifest": base64.b64encode(bundle.manifest_bytes).decode(),
        "sig": base64.b64encode(bundle.signature).decode(),
        "files": [base64.b64encode(c).decode() for c in bundle.contents],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def decode_bundle(data: bytes) -> Bundle:
    """A bundle file's bytes -> a verified Bundle; BundleError names what is wrong."""
    if len(data) > MAX_BUNDLE_FILE_BYTES:
        raise BundleError(f"the bundle file is over {MAX_BUNDLE_FILE_BYTES} bytes")
    try:
        document = json.loads(data)
    except ValueError:
        raise BundleError("the bundle file is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BundleError(f"not a {FORMAT} bundle")
    pubkey = bytes.fromhex(_matching(document.get("pubkey"), _HEX64, "pubkey"))
    manifest_bytes = _b64(document.get("manifest"), "manifest")
    manifest = parse_manifest(manifest_bytes)
    signature = _b64(document.get("sig"), "sig")
    raw = document.get("files")
    if not isinstance(raw, list) or len(raw) != len(manifest.files):
        raise BundleError("the bundle's files do not match its manifest")
    contents = tuple(_b64(c, e.name) for c, e in zip(raw, manifest.files, strict=True))
    for entry, content in zip(manifest.files, contents, strict=True):
        if len(content) != entry.size or hashlib.sha256(content).hexdigest() != entry.sha256:
            raise BundleError(f"{entry.name} does not match its size or sha256 in the manifest")
    verify_signature(pubkey, manifest_bytes, signature)
    return Bundle(manifest, manifest_bytes, signature, pubkey, contents)


def verify_signature(pubkey: bytes, manifest_bytes: bytes, signature: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(pubkey).verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError):
        raise BundleError("the manifest's signature does not verify") from None


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise BundleError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{what} is not valid base64") from None
