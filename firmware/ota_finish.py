# The end of a download (docs/firmware.md, "OTA on the node"): every file's size and sha256
# on flash checked against the signed manifest's, then the switch (the boot state's trial
# folder). Loaded by ota.Updater for this only and let go after: not held between chunks.
import hashlib
import os
import time
from binascii import unhexlify


def file_sha256(path, buf):
    """The file's sha256 digest (32 bytes), read through ``buf``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(memoryview(buf)[:n])
    return h.digest()


def _first_bad_file(u):
    """Index of the first file whose size or sha256 on flash is not the manifest's."""
    buf = bytearray(512)
    with open(u.folder + "/_files.txt") as lines:
        for index in range(u.job["n"]):
            try:
                sha, size, name = lines.readline().split()
                path = u.folder + "/" + name
                if os.stat(path)[6] != int(size) or file_sha256(path, buf) != unhexlify(sha):
                    return index
            except (OSError, ValueError):
                return index
    return None


def finish(u):
    """Verifies the downloaded files of the updater ``u`` (ota.Updater) and installs them, or
    asks for a file that differs once more, or gives up (hash_mismatch)."""
    update_id = u.job["id"]
    u._send({"id": update_id, "state": "verifying"})
    index = _first_bad_file(u)
    if index is not None:
        if index in u.pos["redo"]:
            u._fail(update_id, "hash_mismatch")
            return
        u.pos["redo"].append(index)  # once more from offset 0, then give up
        u.pos["f"], u.pos["o"] = index, 0
        u._save_pos()
        u._request()
        return
    version = u.job["version"]
    u.boot.install(u.boot.free_slot(), version, update_id)
    try:
        os.remove(u.folder + "/_pos.json")
    except OSError:
        pass
    u.job, u.pos, u._file = {}, {}, None
    u._due = None
    print("ota: installed", version)
    u._send({"id": update_id, "state": "installed", "version": version}, "ota-installed")
    # Reboot once the platform has the news (PUBACK), or after ota_retry_s without it.
    u._reboot_at = time.ticks_add(time.ticks_ms(), u.retry_ms)
