# Fakes for the OTA tests on MicroPython: a node whose MQTT client records what it publishes,
# a temporary "flash" folder, signed test bundles (ota_vectors.json), and power loss.
import hashlib
import json
import os
import sys
from binascii import a2b_base64, b2a_base64, hexlify

import bootloader

_HERE = sys.path[0] if sys.path[0] else "."


def vectors():
    for folder in (_HERE, _HERE + "/tests", "firmware/tests"):
        try:
            with open(folder + "/ota_vectors.json") as f:
                return json.load(f)
        except OSError:
            pass
    raise OSError("ota_vectors.json not found")


class PowerLoss(BaseException):
    """The power goes: nothing after this point of the code runs."""


def fail_on(module, name, call=1):
    """Makes the ``call``-th call of ``module.name`` lose power before it does anything.
    Returns a function that puts the original back."""
    original = getattr(module, name)
    calls = [0]

    def failing(*args):
        calls[0] += 1
        if calls[0] == call:
            raise PowerLoss()
        return original(*args)

    setattr(module, name, failing)
    return lambda: setattr(module, name, original)


class _Os:
    """os, with one function losing power on its ``call``-th use."""

    def __init__(self, name, call):
        self._name = name
        self._left = call

    def __getattr__(self, attr):
        real = getattr(os, attr)
        if attr != self._name:
            return real

        def counted(*args):
            self._left -= 1
            if self._left == 0:
                raise PowerLoss()
            return real(*args)

        return counted


def fail_os(name, call, modules):
    """Like fail_on, for ``os.<name>`` as the ``modules`` see it (built-in modules are fixed)."""
    fake = _Os(name, call)
    for module in modules:
        module.os = fake
    return lambda: [setattr(module, "os", os) for module in modules]


_LAST_ROOT = []


def temp_root():
    """A new empty OTA folder; the previous one is deleted (one live "flash" at a time)."""
    for old in _LAST_ROOT:
        bootloader.remove_tree(old)
    base = (os.getenv("TMPDIR") or "/tmp") + "/ota-mp-" + hexlify(os.urandom(4)).decode()
    os.mkdir(base)
    _LAST_ROOT[:] = [base]
    return base + "/ota"


class Cfg:
    kind = "parking"
    apikey = "k"
    device_id = "d"
    ota_retry_s = 0.05

    def __init__(self, root, pubkey):
        self.ota_pubkey = pubkey
        self.buffer_file = root + ".buffer"


class Client:
    def __init__(self):
        self.connected = True
        self.inflight = {}
        self.max_inflight = 2
        self.sent = []

    def publish(self, topic, payload, qos=0, retain=False, token=None):
        self.sent.append((json.loads(payload), token))

    def disconnect(self):
        self.connected = False


class Buffer:
    saved = None

    def save(self, path):
        self.saved = path


class Node:
    """What the updater uses of node.Node; a new one is a reboot (state only from flash)."""

    def __init__(self, root, max_boots=3):
        v = vectors()
        self.cfg = Cfg(root, v["pubkey"])
        self.boot = bootloader.Boot(root, max_boots)
        self.client = Client()
        self.buffer = Buffer()

    def last(self):
        return self.client.sent[-1][0] if self.client.sent else None

    def states(self):
        return [body["state"] for body, _ in self.client.sent]


def start_message(name="good", update_id="u1"):
    b = vectors()["bundles"][name]
    return {"id": update_id, "manifest": b["manifest"], "sig": b["sig"]}


def file_data(f):
    return a2b_base64(vectors()["files"][f][1])


def chunk_message(f, o, update_id="u1", data=None, chunk=1024):
    raw = file_data(f)[o : o + chunk]
    sent = raw if data is None else data
    return {
        "id": update_id,
        "f": f,
        "o": o,
        "h": hexlify(hashlib.sha256(raw).digest()).decode(),
        "d": b2a_base64(sent).decode().strip(),
    }


def serve(updater, node, until="installed", limit=50):
    """Answers the node's requests until it reports ``until`` (or stops asking)."""
    for _ in range(limit):
        updater.poll()  # as the node loop does: verifying and installing happen here
        body = node.last()
        if body is None or body["state"] == until:
            return body
        if body["state"] != "downloading":
            return body
        updater.handle("otachunk", chunk_message(body["f"], body["o"], body["id"]))
    raise AssertionError("no end after %d chunks" % limit)
