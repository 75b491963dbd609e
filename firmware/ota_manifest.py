# The signed manifest of an update being accepted (docs/firmware.md, "OTA on the node"):
# checked (node kind, bootloader version, file names, the space they need), then the download
# recorded on flash for ota.Updater. Loaded by ota_start.py once the signature is good and
# ed25519 is let go, and let go after. The manifest is read from where ota_start.py parked it
# on flash, each file's entry on its own: neither its bytes nor its parsed form (three times
# the room) are ever whole on the heap.
import json
import os
from binascii import unhexlify

from micropython import const

from bootloader import BOOT_VERSION, remove_tree, write_json

_MAX_FILES = const(32)
_KEEP_FREE = const(8192)  # bytes of flash left free after the download (buffer file, state)


def valid_name(name):
    """Flat ``[a-z0-9_]+.(mpy|py|json)`` not starting with "_" (the updater's own files)."""
    if not isinstance(name, str) or name[:1] in ("", "_") or len(name) > 40:
        return False
    stem, dot, ext = name.rpartition(".")
    if not dot or ext not in ("mpy", "py", "json"):
        return False
    if stem in ("main", "bootloader", "boot"):  # the bootloader is never replaced
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


def _layout(path):
    """(header, start, end) of the canonical manifest in the file ``path``: the header is the
    manifest with its file list replaced by 0, and the list's entries ``[...],...,[...]``
    are the file's bytes [start, end). Only its first and last bytes are read."""
    size = os.stat(path)[6]
    t = max(0, size - 256)
    with open(path, "rb") as f:
        head = f.read(64)  # '{"chunk":N,"files":[[': the keys are sorted
        f.seek(t)
        tail = f.read(size - t)  # ']],"min_boot":N,"node":...,"version":...}'
    i = head.index(b'"files":[[') + 8
    j = tail.rindex(b"]]") + 1
    return json.loads(head[:i] + b"0" + tail[j + 1 :]), i + 1, t + j


def _entries(path, start, end):
    """Each [name, size, sha256 hex] of the file list, read and parsed one at a time (small
    reads: the heap may be fragmented by then). An entry holds no brackets and is shorter
    than 160 bytes, or it fails to parse (ValueError)."""
    with open(path, "rb") as f:
        while start < end:
            f.seek(start)
            buf = f.read(min(160, end - start))
            k = buf.index(b"]") + 1
            yield json.loads(buf[buf.index(b"[") : k])
            start += k + 1  # past the "]" and the ","


def check_manifest(path, kind):
    """(header, None) if this node can install the signed manifest in the file ``path``, else
    (None, the reason). The header is the manifest with "files" the number of files, and
    "bytes" their total size."""
    try:
        h, start, end = _layout(path)
        n = size = 0
        for entry in _entries(path, start, end):
            if not _valid_entry(entry):
                return None, "bad_request"
            n += 1
            size += entry[1]
    except ValueError:
        return None, "bad_request"
    if not isinstance(h, dict) or h.get("v") != 1 or not isinstance(h.get("version"), str):
        return None, "bad_request"
    chunk = h.get("chunk")
    if not 0 < n <= _MAX_FILES or not isinstance(chunk, int) or not 0 < chunk <= 4096:
        return None, "bad_request"
    if h.get("node") != kind:
        return None, "wrong_node"
    if h.get("min_boot", 1) > BOOT_VERSION:
        return None, "min_boot"
    h["files"], h["bytes"] = n, size
    h["start"], h["end"] = start, end
    return h, None


def _free_bytes(path):
    try:
        st = os.statvfs(path)
    except OSError:
        return 1 << 30  # unknown: a write fails later and reports no_space
    return st[0] * st[4]


def record(boot, update_id, path, kind):
    """Checks the manifest in the file ``path`` (signature already good) and records the
    download in the free app folder. None if done, else the reason it is refused."""
    h, reason = check_manifest(path, kind)
    if reason:
        return reason
    folder = boot.folder(boot.free_slot())
    try:
        reason = _record(folder, boot.root, update_id, path, h)
    except OSError as exc:  # the file system (full, or failing), not the link
        print("ota: flash error", exc)
        reason = "no_space"
    if reason:
        remove_tree(folder)
    else:
        print("ota: accepted", update_id, h["version"])
    return reason


def _record(folder, root, update_id, path, h):
    """Records the download on flash; "no_space" if its files would not fit. ``_files.txt``: a
    line "<sha256 hex> <size> <name>" for each file, in manifest order."""
    remove_tree(folder)  # an old version or a dropped download: its space counts as free
    for made in (root, folder):
        try:
            os.mkdir(made)
        except OSError:
            pass  # already there
    if h["bytes"] + _KEEP_FREE > _free_bytes(folder):
        return "no_space"
    with open(folder + "/_files.txt", "w") as f:
        for entry in _entries(path, h["start"], h["end"]):
            f.write("%s %d %s\n" % (entry[2], entry[1], entry[0]))
    job = {"id": update_id, "version": h["version"], "chunk": h["chunk"], "n": h["files"]}
    write_json(folder + "/_ota.json", job)
    # Last: its presence is what makes this folder a download to resume.
    write_json(folder + "/_pos.json", {"f": 0, "o": 0, "bad": 0, "redo": []})
    return None
