# Heap probe of the updater, run by bench/firmware_footprint.py with a fixed heap to find
# the least free heap each step of an update succeeds in. The bench compiles the firmware,
# otakit and this module to .mpy first (as on a board: nothing is compiled on the node) and
# runs "import ota_heap; ota_heap.main(<mode>, <work dir>)". By hand, from source:
#   micropython firmware/tests/ota_heap.py <mode> <work dir>
# <work dir>/job.json: {"kind", "pubkey", "start": <ota command payload>, "chunk": <bytes per
# chunk>, "files": [[name, size], ...] in manifest order}; <work dir>/files/<name>: the
# bundle's files; <work dir>/ota: the node's OTA folder.
# Modes: base (what every mode holds), start (accept: signature check), load (after an
# accepted start, the updater loaded and asking for chunk 0, as node.py does a step later),
# chunk (one chunk message decoded, checked, written), finish (the last chunk, then verify
# and install);
# prepare-chunk and prepare-finish make the OTA folder the chunk and finish modes start from.
# With a ballast of N small blocks taken before the step, the step runs in what is left: the
# bench finds the largest N the step still succeeds with; "free" then is the step's peak.
import gc
import hashlib
import json
import sys
from binascii import b2a_base64, hexlify

if __name__ == "__main__":
    sys.path.insert(0, sys.path[0] + "/..")  # the firmware modules, as runner.py does

from otakit import Buffer, Client  # noqa: E402

import bootloader  # noqa: E402
import codec  # noqa: E402  (part of every node: in the base)


class _Cfg:
    apikey = "k"
    device_id = "d"
    ota_retry_s = 10

    def __init__(self, job, work):
        self.kind = job["kind"]
        self.ota_pubkey = job["pubkey"]
        self.buffer_file = work + "/buffer.dat"


class _Node:
    def __init__(self, job, work):
        self.cfg = _Cfg(job, work)
        self.boot = bootloader.Boot(work + "/ota")
        self.client = Client()
        self.buffer = Buffer()


def _chunk_payload(work, job, manifest_files, f, o):
    name = manifest_files[f][0]
    with open(work + "/files/" + name, "rb") as fh:
        fh.seek(o)
        raw = fh.read(job["chunk"])
    h = hexlify(hashlib.sha256(raw).digest()).decode()
    d = b2a_base64(raw).decode().strip()
    return ('{"otachunk":{"id":"u1","f":%d,"o":%d,"h":"%s","d":"%s"}}' % (f, o, h, d)).encode()


def _deliver(updater, payload):
    # What node.Node does with a command message: decode it, hand it to the updater.
    name, value = codec.decode_command(payload)
    updater.handle(name, value)


# A message is referenced only from a one-item list and the frame that takes it out: let go
# when that frame returns, as when the node's MQTT callback returns. (A stale copy in the
# frame of main(), which runs throughout, would keep it for the whole step; the node's loop
# holds none.)


def _start_payload(job):
    # As received: the MQTT payload, compact JSON as the platform sends it.
    return [json.dumps(job["start"], separators=(",", ":")).encode()]


def _received(box, ballast):
    """The ballast, and the start message kept as node.py keeps it when it is received: a
    copy of the raw message (the MQTT client's buffer is let go) in a list."""
    weight = _ballast(ballast)
    return weight, [bytes(memoryview(box.pop()))]


def _deliver_box(updater, box):
    _deliver(updater, box.pop())


def _serve(updater, node, work, job, stop_before_last):
    files = job["files"]
    while True:
        body = node.client.sent[-1][0]
        if body["state"] != "downloading":
            return
        f, o = body["f"], body["o"]
        last = f == len(files) - 1 and o + job["chunk"] >= files[f][1]
        if stop_before_last and last:
            return
        _deliver(updater, _chunk_payload(work, job, files, f, o))


def _heap():
    gc.collect()
    return gc.mem_alloc()


def _ballast(n):
    """``n`` small blocks that fill the heap, so the step has only what is left."""
    weight = [None] * n
    for i in range(n):
        weight[i] = bytearray(240)
    gc.collect()
    print("free", gc.mem_free())
    return weight


def _accept(node, box):
    # As node.py does at the step after the start came: the received message is gone, the
    # updater is not loaded; it is loaded after this returns.
    import ota_start

    assert ota_start.accept(node, box), node.client.sent
    del sys.modules["ota_start"]


def _load_updater(node):
    import ota

    updater = ota.Updater(node)
    updater.on_connect()
    return updater


def main(mode, work, ballast=0):
    with open(work + "/job.json") as f:
        job = json.load(f)
    node = _Node(job, work)
    base = _heap()
    print("heap", base)
    if mode == "base":
        return
    if mode == "load":
        _accept(node, _start_payload(job))
        print("residue", _heap() - base)  # what accepting left behind (module names...)
        print("payload", 0)
        weight = _ballast(ballast)
        _load_updater(node)
    elif mode == "start":
        box = _start_payload(job)
        print("payload", len(box[0]))
        weight, box = _received(box, ballast)
        _accept(node, box)
    elif mode in ("prepare-chunk", "prepare-finish"):
        weight = None
        _accept(node, _start_payload(job))
        updater = _load_updater(node)
        if mode == "prepare-finish":
            _serve(updater, node, work, job, True)
    else:
        import ota

        updater = ota.Updater(node)  # resumes the prepared download
        updater.on_connect()
        body = node.client.sent[-1][0]
        box = [_chunk_payload(work, job, job["files"], body["f"], body["o"])]
        node.client.sent = []
        print("held", _heap() - base - len(box[0]))
        print("payload", len(box[0]))
        weight = _ballast(ballast)
        _deliver_box(updater, box)
        updater.poll()  # the node loop: verify and install after the last chunk
        want = "installed" if mode == "finish" else "downloading"
        assert node.client.sent[-1][0]["state"] == want, node.client.sent
    del weight
    if node.client.sent:  # accepting a start sends nothing: the loaded updater asks
        print("state", node.client.sent[-1][0]["state"])
    print("held", _heap() - base)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
