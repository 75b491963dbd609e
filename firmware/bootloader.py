# The bootloader's state (with main.py, the part OTA never replaces): which app folder runs,
# boot counting of a new version on trial, switch, confirm and rollback. All of it is one small
# JSON file on flash written by "write a temporary file, then rename", so power loss at any
# point leaves either the old state or the new one (docs/firmware.md, "OTA on the node").
import json
import os

BOOT_VERSION = 1  # the interface apps rely on; a bundle's manifest names its "min_boot"
SLOTS = ("a", "b")  # app folders under the OTA directory; the factory modules need none
_STATE = "boot.json"


class Reset(BaseException):
    """Raised by the app to reset the node: main.py resets the chip (board) or boots again.
    A BaseException, so the node loop's "keep serving" handler does not swallow it."""


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def remove_tree(path):
    """Deletes a folder and its files (flat: app folders hold no subfolders); no error if gone."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        try:
            os.remove(path + "/" + name)
        except OSError:
            remove_tree(path + "/" + name)
    try:
        os.rmdir(path)
    except OSError:
        pass


def write_json(path, value):
    """Writes ``value`` as JSON so that a reader sees the old file or the new one, never half."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    try:
        os.rename(tmp, path)
    except OSError:
        os.remove(path)  # a file system whose rename does not replace: read_json covers the gap
        os.rename(tmp, path)


def read_json(path):
    for candidate in (path, path + ".tmp"):
        try:
            with open(candidate) as f:
                return json.load(f)
        except (OSError, ValueError):
            pass
    return None


class Boot:
    """The boot state in ``<root>/boot.json``:

    active: folder of the confirmed app ("" = the factory modules), version: its version;
    trial, trial_version, trial_id, boots: a new version installed and not yet confirmed;
    crashed: the last trial boot ended in an exception; report: what to tell the platform.
    """

    def __init__(self, root, max_boots=3):
        self.root = root
        self.max_boots = max_boots
        self.state = read_json(root + "/" + _STATE) or {"active": "", "trial": ""}
        self.rolled_back = False

    # ---- read-only views ----------------------------------------------------------------
    @property
    def trial(self):
        return self.state.get("trial", "")

    @property
    def version(self):
        """The running version from its manifest, or None for the factory modules."""
        if self.trial:
            return self.state.get("trial_version")
        return self.state.get("version") if self.state.get("active") else None

    @property
    def report(self):
        return self.state.get("report")

    def folder(self, slot):
        return self.root + "/" + slot

    def free_slot(self):
        """The folder a download goes to: neither the running app nor the one kept for
        rollback. None while a new version is on trial (one update at a time)."""
        if self.trial:
            return None
        return SLOTS[1] if self.state.get("active") == SLOTS[0] else SLOTS[0]

    # ---- transitions (each one write of the state file) ---------------------------------
    def _save(self):
        try:
            os.mkdir(self.root)
        except OSError:
            pass
        write_json(self.root + "/" + _STATE, self.state)

    def select(self):
        """At every boot: counts a trial boot, rolls back after ``max_boots`` unconfirmed
        boots, and returns the app folder to import from (None: the factory modules)."""
        state = self.state
        if state.get("trial"):
            state["boots"] = state.get("boots", 0) + 1
            if state["boots"] > self.max_boots:
                self._roll_back()
            else:
                self._save()
        slot = self.trial or self.state.get("active")  # self.state: rollback replaced it
        return self.folder(slot) if slot else None

    def _roll_back(self):
        state = self.state
        failed = state["trial"]
        self.state = {
            "active": state.get("active", ""),
            "version": state.get("version"),
            "trial": "",
            "report": {
                "id": state.get("trial_id", ""),
                "state": "rolled_back",
                "failed_version": state.get("trial_version"),
                "reason": "crash" if state.get("crashed") else "not_confirmed",
            },
        }
        self._save()
        remove_tree(self.folder(failed))  # after the commit: a leftover is cleared before reuse
        self.rolled_back = True
        print("ota: rolled back from", state.get("trial_version"))

    def crashed(self, error):
        """A trial version raised before it confirmed: remembered for the rollback's reason."""
        if self.trial:
            self.state["crashed"] = error[:80]
            self._save()

    def install(self, slot, version, update_id):
        """Puts the verified app in ``slot`` on trial from the next boot on."""
        if self.trial == slot and self.state.get("trial_id") == update_id:
            return  # already done before a power loss
        self.state = {
            "active": self.state.get("active", ""),
            "version": self.state.get("version"),
            "trial": slot,
            "trial_version": version,
            "trial_id": update_id,
            "boots": 0,
        }
        self._save()

    def confirm(self):
        """The trial version connected and published: it becomes the active one."""
        state = self.state
        if not state.get("trial"):
            return False
        old = state.get("active", "")
        self.state = {
            "active": state["trial"],
            "version": state.get("trial_version"),
            "trial": "",
            "report": {
                "id": state.get("trial_id", ""),
                "state": "confirmed",
                "version": state.get("trial_version"),
            },
        }
        self._save()
        if old and old != self.state["active"]:
            remove_tree(self.folder(old))
        return True

    def clear_report(self):
        if self.state.get("report") is not None:
            self.state["report"] = None
            self._save()

    def has_download(self):
        """An unfinished download is waiting in the free slot (resumed after a reboot)."""
        slot = self.free_slot()
        return slot is not None and _exists(self.folder(slot) + "/_pos.json")
