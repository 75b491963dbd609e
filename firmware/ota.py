# Firmware updates over the air, the node's side of docs/firmware.md "OTA on the node" (the
# protocol both sides share). The node pulls one chunk at a time on its command topic, checks
# it, writes it into the free app folder and records its progress on flash, so a reset
# resumes from the last verified chunk. Nothing is switched before the signature, the node
# kind, the bootloader version and every file's sha256 are checked; main.py switches at boot.
import hashlib
import json
import os
import time
from binascii import a2b_base64, hexlify

import codec
from bootloader import Reset, read_json, remove_tree, write_json

_CHUNK_TRIES = 3  # the same chunk failing its hash this often ends the update


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


class Updater:
    """One update at a time. In the download folder, written once the signed manifest is
    accepted: ``_sha.bin`` each file's sha256 (32 bytes each, in manifest order), ``_ota.json``
    the update's id, version, chunk size and [name, size] of each file; then ``_pos.json``
    the next chunk wanted (f, o), the failures of that chunk (bad) and the files already
    downloaded twice (redo). Small files, so a resume parses no manifest."""

    def __init__(self, node):
        cfg = node.cfg
        self.node = node
        self.boot = node.boot
        self.topic = codec.ota_topic(cfg.apikey, cfg.device_id)
        self.retry_ms = int(getattr(cfg, "ota_retry_s", 10) * 1000)
        # Empty while no download is under way.
        self.job = {}
        self.files = []
        self.chunk = 0
        self.pos = {}
        self.folder = ""
        self._due = None  # when to send the request (or pending report) again
        self._reboot_at = None
        self._verify = False  # all chunks written: verify and install at the next poll
        self._resume()

    # ---- flash state --------------------------------------------------------------------
    def _resume(self):
        if not self.boot.has_download():
            return
        self.folder = self.boot.folder(self.boot.free_slot())
        job = read_json(self.folder + "/_ota.json")
        pos = read_json(self.folder + "/_pos.json")
        if job is None or pos is None:
            self._drop()
            return
        self._load(job, pos)
        print("ota: resuming", job["id"], "at file", pos["f"], "offset", pos["o"])

    def _load(self, job, pos):
        self.job = {"id": job["id"], "version": job["version"]}
        self.pos = pos
        self.files = job["files"]
        self.chunk = job["chunk"]

    def _save_pos(self):
        write_json(self.folder + "/_pos.json", self.pos)

    def _drop(self):
        if self.folder:
            try:
                os.remove(self.folder + "/_pos.json")  # first: no longer a download
            except OSError:
                pass
            remove_tree(self.folder)
        self.job, self.files, self.pos, self.folder = {}, [], {}, ""
        self._due = None

    # ---- messages out -------------------------------------------------------------------
    def _send(self, body, token=None):
        client = self.node.client
        if not client.connected:
            return
        qos = 1 if len(client.inflight) < client.max_inflight else 0
        client.publish(self.topic, json.dumps(body).encode(), qos=qos, token=token)

    def _request(self):
        self._due = time.ticks_add(time.ticks_ms(), self.retry_ms)
        pos = self.pos
        self._send({"id": self.job["id"], "state": "downloading", "f": pos["f"], "o": pos["o"]})

    def _fail(self, update_id, reason):
        if self.job and self.job["id"] == update_id:
            self._drop()
        print("ota: failed", reason)
        self._send({"id": update_id, "state": "failed", "reason": reason})

    def _send_report(self):
        report = self.boot.report
        if report is None:
            return
        body = dict(report)
        if body["state"] == "rolled_back":
            from config import FIRMWARE_VERSION

            body["version"] = self.boot.version or FIRMWARE_VERSION
        self._due = time.ticks_add(time.ticks_ms(), self.retry_ms)
        self._send(body, token="ota-report")

    # ---- node hooks ---------------------------------------------------------------------
    def on_connect(self):
        if self.job:
            self._advance()  # asks for the next chunk, or verifies if all were written
        else:
            self._send_report()

    def acked(self, token):
        if token == "ota-report":
            self.boot.clear_report()
            self._due = None
        elif token == "ota-installed":
            self._reboot_at = time.ticks_ms()

    def confirm(self):
        """The version on trial connected and published: keep it (main.py's boot state)."""
        if self.boot.confirm():
            print("ota: confirmed", self.boot.version)
            self._send_report()

    def poll(self):
        if self._verify:
            # Here, not in the last chunk's handler: that chunk's buffers are freed by now.
            self._verify = False
            self._finish()
        now = time.ticks_ms()
        if self._reboot_at is not None and time.ticks_diff(now, self._reboot_at) >= 0:
            self._reboot()
        if self._due is not None and time.ticks_diff(now, self._due) >= 0:
            if self.job:
                self._request()  # the chunk (or the platform) is late: ask again
            else:
                self._send_report()

    def _reboot(self):
        node = self.node
        node.buffer.save(node.cfg.buffer_file)
        node.client.disconnect()
        raise Reset("ota")

    # ---- messages in --------------------------------------------------------------------
    def handle(self, name, msg):
        update_id = msg.get("id") if isinstance(msg, dict) else None
        try:
            self._handle(name, update_id, msg)
        except OSError as exc:  # the file system (full, or failing), not the link
            print("ota: flash error", exc)
            self._fail(update_id, "no_space")

    def _handle(self, name, update_id, msg):
        if not isinstance(update_id, str):
            self._send({"id": "", "state": "failed", "reason": "bad_request"})
        elif name == "ota":
            self._start(update_id, msg)
        elif name == "otachunk":
            if self.job and self.job["id"] == update_id:
                self._chunk(msg)
        elif name == "otaabort" and self.job and self.job["id"] == update_id:
            self._fail(update_id, "aborted")

    def _start(self, update_id, msg):
        if self.job:
            if self.job["id"] == update_id:
                self._request()  # the platform repeated the start: carry on where we are
            else:
                self._send({"id": update_id, "state": "failed", "reason": "busy"})
            return
        if accept(self.node, msg):
            self._resume()
            self._advance()

    def _chunk(self, msg):
        pos = self.pos
        at = (msg.get("f"), msg.get("o"))
        if at != (pos["f"], pos["o"]):
            # One already written (an answer to a repeated request) is dropped quietly: asking
            # again for each would double the traffic from then on. Any other: ask again.
            if not (
                isinstance(at[0], int) and isinstance(at[1], int) and at < (pos["f"], pos["o"])
            ):
                self._request()
            return
        name, size = self.files[pos["f"]]
        try:
            data = a2b_base64(msg["d"])
        except (KeyError, ValueError, TypeError):
            data = b""
        digest = hexlify(hashlib.sha256(data).digest()).decode()
        if len(data) != min(self.chunk, size - pos["o"]) or digest != msg.get("h"):
            pos["bad"] += 1
            if pos["bad"] >= _CHUNK_TRIES:
                self._fail(self.job["id"], "chunk_hash")
                return
            self._save_pos()
            self._request()
            return
        try:
            self._write(name, pos["o"], data)
        except OSError:
            self._fail(self.job["id"], "no_space")
            return
        pos["o"] += len(data)
        pos["bad"] = 0
        self._advance()

    def _write(self, name, offset, data):
        path = self.folder + "/" + name
        # Rewriting at the recorded offset makes a chunk written before a power loss (but not
        # yet recorded in _pos.json) harmless: it is simply written again.
        with open(path, "r+b" if offset else "wb") as f:
            if offset:
                f.seek(offset)
            f.write(data)

    def _advance(self):
        """Moves past finished (and empty) files, records the position, asks for the next."""
        pos = self.pos
        while pos["f"] < len(self.files) and pos["o"] >= self.files[pos["f"]][1]:
            if self.files[pos["f"]][1] == 0:
                self._write(self.files[pos["f"]][0], 0, b"")
            # A file fetched again after a hash mismatch: the others are already verified.
            pos["f"] = len(self.files) if pos["f"] in pos["redo"] else pos["f"] + 1
            pos["o"] = 0
        self._save_pos()
        if pos["f"] < len(self.files):
            self._request()
        else:
            self._verify = True

    def _first_bad_file(self):
        """Index of the first file whose size or sha256 on flash is not the manifest's."""
        buf = bytearray(512)
        with open(self.folder + "/_sha.bin", "rb") as shas:
            for index, (name, size) in enumerate(self.files):
                want = shas.read(32)
                path = self.folder + "/" + name
                try:
                    if os.stat(path)[6] != size or file_sha256(path, buf) != want:
                        return index
                except OSError:
                    return index
        return None

    def _finish(self):
        update_id = self.job["id"]
        self._send({"id": update_id, "state": "verifying"})
        index = self._first_bad_file()
        if index is not None:
            if index in self.pos["redo"]:
                self._fail(update_id, "hash_mismatch")
                return
            self.pos["redo"].append(index)  # once more from offset 0, then give up
            self.pos["f"], self.pos["o"] = index, 0
            self._save_pos()
            self._request()
            return
        version = self.job["version"]
        self.boot.install(self.boot.free_slot(), version, update_id)
        try:
            os.remove(self.folder + "/_pos.json")
        except OSError:
            pass
        self.job, self.files, self.pos = {}, [], {}
        self._due = None
        print("ota: installed", version)
        self._send({"id": update_id, "state": "installed", "version": version}, "ota-installed")
        # Reboot once the platform has the news (PUBACK), or after ota_retry_s without it.
        self._reboot_at = time.ticks_add(time.ticks_ms(), self.retry_ms)


def accept(node, msg):
    """ota_start.accept for a start that reaches a loaded updater (node.py calls that one
    itself while the updater is not loaded, to keep the signature check's heap peak low)."""
    import sys

    import ota_start

    try:
        return ota_start.accept(node, msg)
    finally:
        del sys.modules["ota_start"]
