# Accepting a firmware update (docs/firmware.md, "OTA on the node"): the start message's
# signature, node kind, bootloader version, file names and the space they need are checked,
# then the download is recorded on flash for ota.Updater. Loaded only for a start and let go
# after it, with ed25519: the signature check is the heap peak of an update, so the rest of
# the updater is not loaded yet when it runs.
import json
import os
from binascii import a2b_base64, unhexlify

import codec
from bootloader import BOOT_VERSION, remove_tree, write_json

_MAX_FILES = 32
_KEEP_FREE = 8192  # bytes of flash left free after the download (the buffer file, state)
_EXTENSIONS = (".mpy", ".py", ".json")
_RESERVED = ("main", "bootloader", "boot")  # the bootloader is never replaced


def valid_name(name):
    """Flat ``[a-z0-9_]+.(mpy|py|json)`` not starting with "_" (the updater's own files)."""
    if not isinstance(name, str) or name[:1] in ("", "_") or len(name) > 40:
        return False
    stem, dot, ext = name.rpartition(".")
    if not dot or "." + ext not in _EXTENSIONS or stem in _RESERVED:
        return False
    return all(c == "_" or "a" <= c <= "z" or "0" <= c <= "9" for c in stem)


def _valid_entry(entry):
    if not isinstance(entry, list) or len(entry) != 3 or not valid_name(entry[0]):
        return False
    if not isinstance(entry[1], int) or entry[1] < 0 or not isinstance(entry[2], str):
        return False
    try:
        return len(unhexlify(entry[2])) == 32
    except ValueError:
        return False


def check_manifest(m, kind):
    """The reason a signed manifest cannot be installed on this node, or None."""
    if not isinstance(m, dict) or m.get("v") != 1 or not isinstance(m.get("version"), str):
        return "bad_request"
    files = m.get("files")
    chunk = m.get("chunk")
    if not isinstance(files, list) or not 0 < len(files) <= _MAX_FILES:
        return "bad_request"
    if not isinstance(chunk, int) or not 0 < chunk <= 4096:
        return "bad_request"
    if not all(_valid_entry(entry) for entry in files):
        return "bad_request"
    if m.get("node") != kind:
        return "wrong_node"
    if m.get("min_boot", 1) > BOOT_VERSION:
        return "min_boot"
    return None


def signature_ok(pubkey_hex, manifest, sig):
    import sys

    try:
        key = unhexlify(pubkey_hex)
    except (ValueError, TypeError):
        return False
    import ed25519  # loaded only to verify, and let go after: no steady-state heap

    try:
        return ed25519.verify(key, manifest, sig)
    finally:
        del sys.modules["ed25519"]


def _free_bytes(path):
    try:
        st = os.statvfs(path)
    except OSError:
        return 1 << 30  # unknown: a write fails later and reports no_space
    return st[0] * st[4]


def _report(node, update_id, reason):
    print("ota: failed", reason)
    cfg = node.cfg
    client = node.client
    if client.connected:
        qos = 1 if len(client.inflight) < client.max_inflight else 0
        body = {"id": update_id, "state": "failed", "reason": reason}
        client.publish(codec.ota_topic(cfg.apikey, cfg.device_id), json.dumps(body), qos=qos)


def _decode(msg):
    # Popped: the base64 text is let go as soon as it is decoded (less heap at the peak).
    try:
        return a2b_base64(msg.pop("manifest")), a2b_base64(msg.pop("sig"))
    except (KeyError, ValueError, TypeError):
        return None, None


def accept(node, msg):
    """True if the update ``msg`` (the "ota" command's value) is accepted and recorded in the
    free app folder; otherwise reports why (state "failed") and returns False."""
    boot = node.boot
    update_id = msg["id"]
    m, reason = _checked(node, msg)
    if reason is None:
        folder = boot.folder(boot.free_slot())
        try:
            reason = _record(folder, boot.root, update_id, m)
        except OSError as exc:  # the file system (full, or failing), not the link
            print("ota: flash error", exc)
            reason = "no_space"
        if reason:
            remove_tree(folder)
    if reason:
        _report(node, update_id, reason)
        return False
    print("ota: accepted", update_id, m["version"])
    return True


def _checked(node, msg):
    """(manifest, None) for a start this node may install, or (None, the reason not)."""
    if node.boot.free_slot() is None:  # a new version is on trial and not yet confirmed
        return None, "busy"
    manifest, sig = _decode(msg)
    if manifest is None:
        return None, "bad_request"
    # The signature first, before the manifest is parsed: less heap at the peak.
    if not signature_ok(getattr(node.cfg, "ota_pubkey", ""), manifest, sig):
        return None, "bad_signature"
    try:
        m = json.loads(manifest)
    except ValueError:
        return None, "bad_request"
    return m, check_manifest(m, node.cfg.kind)


def _record(folder, root, update_id, m):
    """Records the download on flash; "no_space" if its files would not fit."""
    remove_tree(folder)  # an old version or a dropped download: its space counts as free
    for path in (root, folder):
        try:
            os.mkdir(path)
        except OSError:
            pass  # already there
    files = [entry[:2] for entry in m["files"]]
    if sum(size for _, size in files) + _KEEP_FREE > _free_bytes(folder):
        return "no_space"
    with open(folder + "/_sha.bin", "wb") as f:
        for entry in m["files"]:
            f.write(unhexlify(entry[2]))
    write_json(
        folder + "/_ota.json",
        {"id": update_id, "version": m["version"], "chunk": m["chunk"], "files": files},
    )
    # Last: its presence is what makes this folder a download to resume.
    write_json(folder + "/_pos.json", {"f": 0, "o": 0, "bad": 0, "redo": []})
    return None
