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

from micropython import const

import codec
from bootloader import Reset, read_json, remove_tree, write_json

_CHUNK_TRIES = const(3)  # the same chunk failing its hash this often ends the update


def _write(path, offset, data):
    # Rewriting at the recorded offset makes a chunk written before a power loss (but not
    # yet recorded in _pos.json) harmless: it is simply written again.
    with open(path, "r+b" if offset else "wb") as f:
        if offset:
            f.seek(offset)
        f.write(data)


class Updater:
    """One update at a time. In the download folder, written once the signed manifest is
    accepted (ota_start.py): ``_files.txt`` a line "<sha256 hex> <size> <name>" for each file
    in manifest order, ``_ota.json`` the update's id, version, chunk size and number of files
    (n); then ``_pos.json`` the next chunk wanted (f, o), the failures of that chunk (bad) and
    the files already downloaded twice (redo). Only the file being downloaded is held in RAM
    (read from ``_files.txt`` when the download reaches it): a resume parses no manifest."""

    def __init__(self, node):
        cfg = node.cfg
        self.node = node
        self.boot = node.boot
        self.topic = codec.ota_topic(cfg.apikey, cfg.device_id)
        self.retry_ms = int(getattr(cfg, "ota_retry_s", 10) * 1000)
        # Empty while no download is under way.
        self.job = {}
        self.pos = {}
        self.folder = ""
        self._file = None  # (index, name, size) of the file at pos["f"]
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
        self.job, self.pos = job, pos
        print("ota: resuming", job["id"], "at file", pos["f"], "offset", pos["o"])

    def _current(self):
        """(name, size) of the file at the position, read from ``_files.txt`` once a file."""
        f = self.pos["f"]
        if self._file is None or self._file[0] != f:
            with open(self.folder + "/_files.txt") as lines:
                for _ in range(f + 1):
                    line = lines.readline()
            _, size, name = line.split()
            self._file = (f, name, int(size))
        return self._file[1], self._file[2]

    def _save_pos(self):
        write_json(self.folder + "/_pos.json", self.pos)

    def _drop(self):
        if self.folder:
            try:
                os.remove(self.folder + "/_pos.json")  # first: no longer a download
            except OSError:
                pass
            remove_tree(self.folder)
        self.job, self.pos, self.folder, self._file = {}, {}, "", None
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

    def idle(self):
        """Nothing under way, to report or to reset for: node.py then lets the updater go."""
        if self.job or self._verify or self._due is not None or self._reboot_at is not None:
            return False
        return self.boot.report is None

    def poll(self):
        if self._verify:
            # Here, not in the last chunk's handler: that chunk's buffers are freed by now.
            self._verify = False
            import sys

            import ota_finish  # loaded to verify and install only, and let go after

            try:
                ota_finish.finish(self)
            finally:
                del sys.modules["ota_finish"]
        now = time.ticks_ms()
        if self._reboot_at is not None and time.ticks_diff(now, self._reboot_at) >= 0:
            node = self.node
            node.buffer.save(node.cfg.buffer_file)
            node.client.disconnect()
            raise Reset("ota")
        if self._due is not None and time.ticks_diff(now, self._due) >= 0:
            if self.job:
                self._request()  # the chunk (or the platform) is late: ask again
            else:
                self._send_report()

    # ---- messages in --------------------------------------------------------------------
    def handle(self, name, msg):
        update_id = msg.get("id") if isinstance(msg, dict) else None
        ours = self.job and self.job["id"] == update_id
        try:
            if not isinstance(update_id, str):
                self._send({"id": "", "state": "failed", "reason": "bad_request"})
            elif name == "ota" and self.job:  # repeated (carry on where we are), or another
                if ours:
                    self._request()
                else:
                    self._send({"id": update_id, "state": "failed", "reason": "busy"})
            elif name == "ota" and accept(self.node, msg):
                self._resume()
                self._advance()
            elif name == "otachunk" and ours:
                self._chunk(msg)
            elif name == "otaabort" and ours:
                self._fail(update_id, "aborted")
        except OSError as exc:  # the file system (full, or failing), not the link
            print("ota: flash error", exc)
            self._fail(update_id, "no_space")

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
        name, size = self._current()
        try:
            data = a2b_base64(msg["d"])
        except (KeyError, ValueError, TypeError):
            data = b""
        digest = hexlify(hashlib.sha256(data).digest()).decode()
        if len(data) != min(self.job["chunk"], size - pos["o"]) or digest != msg.get("h"):
            pos["bad"] += 1
            if pos["bad"] >= _CHUNK_TRIES:
                self._fail(self.job["id"], "chunk_hash")
                return
            self._save_pos()
            self._request()
            return
        try:
            _write(self.folder + "/" + name, pos["o"], data)
        except OSError:
            self._fail(self.job["id"], "no_space")
            return
        pos["o"] += len(data)
        pos["bad"] = 0
        self._advance()

    def _advance(self):
        """Moves past finished (and empty) files, records the position, asks for the next."""
        pos = self.pos
        n = self.job["n"]
        while pos["f"] < n:
            name, size = self._current()
            if pos["o"] < size:
                break
            if size == 0:
                _write(self.folder + "/" + name, 0, b"")
            # A file fetched again after a hash mismatch: the others are already verified.
            pos["f"] = n if pos["f"] in pos["redo"] else pos["f"] + 1
            pos["o"] = 0
        self._save_pos()
        if pos["f"] < n:
            self._request()
        else:
            self._verify = True


def accept(node, msg):
    """ota_start.accept for a start that reaches a loaded updater (node.py calls that one
    itself while the updater is not loaded, to keep the signature check's heap peak low)."""
    import sys

    import ota_start

    try:
        return ota_start.accept(node, [msg])
    finally:
        del sys.modules["ota_start"]
