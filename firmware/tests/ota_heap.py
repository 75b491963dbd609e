# Heap probe of the updater, run by bench/firmware_footprint.py with a fixed heap to find
# the least free heap each step of an update succeeds in. The bench compiles the firmware,
# otakit and this module to .mpy first (as on a board: nothing is compiled on the node) and
# runs "import ota_heap; ota_heap.main(<mode>, <work dir>)". By hand, from source:
#   micropython firmware/tests/ota_heap.py <mode> <work dir>
# <work dir>/job.json: {"kind", "pubkey", "start": <ota command payload>, "chunk": <bytes per
# chunk>}; <work dir>/files/<name>: the bundle's files; <work dir>/ota: the node's OTA folder.
# Modes: base (what every mode holds), start (accept: signature check), chunk (one chunk
# message decoded, checked, written), finish (the last chunk, then verify and install);
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


def _serve(updater, node, work, job, stop_before_last):
    files = updater.files
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


def _accept(node, start):
    # As node.py does: the start is accepted before the updater is loaded, which is loaded
    # at the next step of the node loop, once the message is gone.
    name, value = codec.decode_command(start)
    import ota_start

    assert ota_start.accept(node, value), node.client.sent
    del sys.modules["ota_start"]


def _load_updater(node):
    import ota

    updater = ota.Updater(node)
    updater.on_connect()
    return updater


def main(mode, work, ballast=0):
    with open(work + "/job.json") as f:
        job = json.load(f)
    start = json.dumps(job.pop("start")).encode()  # as received: the MQTT payload
    node = _Node(job, work)
    base = _heap()
    print("heap", base)
    if mode == "base":
        return
    if mode in ("start", "prepare-chunk", "prepare-finish"):
        print("payload", len(start))
        weight = _ballast(ballast)
        _accept(node, start)
        del start
        updater = _load_updater(node)
        if mode == "prepare-finish":
            _serve(updater, node, work, job, True)
    else:
        import ota

        updater = ota.Updater(node)  # resumes the prepared download
        updater.on_connect()
        body = node.client.sent[-1][0]
        payload = _chunk_payload(work, job, updater.files, body["f"], body["o"])
        node.client.sent = []
        print("held", _heap() - base - len(payload))
        print("payload", len(payload))
        weight = _ballast(ballast)
        _deliver(updater, payload)
        del payload
        updater.poll()  # the node loop: verify and install after the last chunk
        want = "installed" if mode == "finish" else "downloading"
        assert node.client.sent[-1][0]["state"] == want, node.client.sent
    del weight
    print("state", node.client.sent[-1][0]["state"])
    print("held", _heap() - base)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
