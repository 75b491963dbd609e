# Accepting a firmware update (docs/firmware.md, "OTA on the node"): the start message's
# signature first, then (ota_manifest.py) the manifest and the download recorded on flash.
# Accepting a start is the heap peak of an update, so node.py runs it after the MQTT message
# that carried it is freed, with nothing else of the updater loaded; each part is loaded only
# for its turn (sha512, ed25519, ota_manifest), and the manifest waits on flash meanwhile
# (``<ota_dir>/_manifest.tmp``, deleted after): it is never whole on the heap, nor is the
# start message once its manifest is there.
import json
import os
from binascii import a2b_base64, unhexlify

import codec


def _field(msg, key):
    """The string ``key`` of the start: an item of a decoded one (a dict), or ``"key":"..."``
    in the raw message node.py keeps (ids and base64 hold no quote or backslash), as a view."""
    if isinstance(msg, dict):
        value = msg.get(key)
        return value if isinstance(value, str) else None
    i = msg.find(b'"' + key.encode() + b'":"')
    j = msg.find(b'"', i + len(key) + 4)
    return memoryview(msg)[i + len(key) + 4 : j] if 0 <= i < j else None


def _update_id(box):
    # Its own frame, so that no stale reference to the message outlives it.
    value = _field(box[0], "id")
    return value if value is None or isinstance(value, str) else str(value, "utf-8")


def _park(path, box):
    """The signature, once the manifest is decoded to flash at ``path`` a piece at a time;
    None if the start has no valid base64 for them. Takes the message out of ``box``."""
    msg = box.pop()
    try:
        sig = a2b_base64(_field(msg, "sig"))
        text = _field(msg, "manifest")
        with open(path, "wb") as f:
            for i in range(0, len(text), 512):
                f.write(a2b_base64(text[i : i + 512]))
    except (ValueError, TypeError):
        return None
    return sig


def _signed_bytes(sig, key, path):
    # What Ed25519 hashes: R, the public key, then the manifest read back from flash.
    yield sig[:32]
    yield key
    buf = bytearray(128)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return
            yield memoryview(buf)[:n]


def _signature_ok(path, cfg, sig):
    try:
        key = unhexlify(getattr(cfg, "ota_pubkey", ""))
    except (ValueError, TypeError):
        return False
    # Each loaded for its part of the check only, and let go after: never both at once.
    import sys

    import sha512

    h = sha512.digest(_signed_bytes(sig, key, path))
    del sha512, sys.modules["sha512"]
    import ed25519

    try:
        return ed25519.verify_hashed(key, h, sig)
    finally:
        del sys.modules["ed25519"]


def _report(node, update_id, reason):
    print("ota: failed", reason)
    cfg = node.cfg
    client = node.client
    if client.connected:
        qos = 1 if len(client.inflight) < client.max_inflight else 0
        body = {"id": update_id, "state": "failed", "reason": reason}
        client.publish(codec.ota_topic(cfg.apikey, cfg.device_id), json.dumps(body), qos=qos)


def accept(node, box):
    """True if the update in ``box`` is accepted and recorded in the free app folder;
    otherwise reports why (state "failed") and returns False. ``box``: a list holding the
    start, the "ota" command's value or the raw message (bytes); emptied here, so that the
    message is let go as soon as its manifest is on flash."""
    boot = node.boot
    update_id = _update_id(box)
    path = boot.root + "/_manifest.tmp"
    try:
        if update_id is None:
            reason = "bad_request"
        elif boot.free_slot() is None:
            reason = "busy"
        else:
            reason = _checked(path, node, update_id, box)
    finally:
        box.clear()
        try:
            os.remove(path)
        except OSError:
            pass  # never written
    if reason:
        _report(node, update_id or "", reason)
        return False
    return True


def _checked(path, node, update_id, box):
    try:
        os.mkdir(node.boot.root)
    except OSError:
        pass  # already there
    try:
        sig = _park(path, box)
        if sig is None:
            return "bad_request"
        if not _signature_ok(path, node.cfg, sig):
            return "bad_signature"
        import sys

        import ota_manifest

        try:
            return ota_manifest.record(node.boot, update_id, path, node.cfg.kind)
        finally:
            del sys.modules["ota_manifest"]
    except OSError as exc:  # the file system (full, or failing), not the link
        print("ota: flash error", exc)
        return "no_space"
