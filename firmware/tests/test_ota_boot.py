# The bootloader's state (bootloader.py) on MicroPython: boot counting, confirm, rollback, and
# power loss at every write of each transition.
import os

from otakit import PowerLoss, fail_on, fail_os, temp_root

import bootloader
from bootloader import Boot, read_json, write_json


def _installed(slot="a", max_boots=3, version="1.4.0"):
    root = temp_root()
    boot = Boot(root, max_boots)
    os.mkdir(root)
    os.mkdir(boot.folder(slot))
    with open(boot.folder(slot) + "/node.mpy", "wb") as f:
        f.write(b"M")
    boot.install(slot, version, "u1")
    return root


def test_no_update_ever_means_the_factory_modules():
    boot = Boot(temp_root())
    assert boot.select() is None
    assert (boot.version, boot.trial, boot.report, boot.free_slot()) == (None, "", None, "a")
    assert not boot.has_download()


def test_a_trial_version_runs_for_max_boots_then_the_previous_one_comes_back():
    root = _installed(max_boots=2)
    for n in (1, 2):
        boot = Boot(root, 2)
        assert boot.select() == root + "/a"
        assert (boot.version, boot.state["boots"]) == ("1.4.0", n)
    boot = Boot(root, 2)
    assert boot.select() is None  # the third boot: back to the factory modules
    assert boot.rolled_back
    assert boot.report == {
        "id": "u1",
        "state": "rolled_back",
        "failed_version": "1.4.0",
        "reason": "not_confirmed",
    }
    assert "a" not in os.listdir(root)
    assert Boot(root, 2).select() is None


def test_a_crash_is_the_rollback_reason():
    root = _installed(max_boots=1)
    boot = Boot(root, 1)
    boot.select()
    boot.crashed("ImportError('broken')")
    boot = Boot(root, 1)
    assert boot.select() is None
    assert boot.report["reason"] == "crash"


def test_a_confirmed_version_stays_and_the_previous_one_is_deleted():
    root = _installed()
    boot = Boot(root)
    boot.select()
    assert boot.confirm()
    assert boot.report == {"id": "u1", "state": "confirmed", "version": "1.4.0"}
    boot.clear_report()
    for _ in range(5):
        again = Boot(root)
        assert again.select() == root + "/a"
        assert (again.version, again.trial, again.report) == ("1.4.0", "", None)
    assert again.free_slot() == "b"
    # The next update goes to b; confirming it deletes a.
    os.mkdir(root + "/b")
    again.install("b", "1.5.0", "u2")
    assert Boot(root).select() == root + "/b"
    assert Boot(root).free_slot() is None  # one update at a time
    Boot(root).confirm()
    assert sorted(os.listdir(root)) == ["b", "boot.json"]
    assert Boot(root).version == "1.5.0"


def test_install_is_idempotent():
    root = _installed()
    before = read_json(root + "/boot.json")
    Boot(root).install("a", "1.4.0", "u1")
    assert read_json(root + "/boot.json") == before


def test_a_state_file_is_the_old_one_or_the_new_one_after_power_loss():
    path = temp_root() + ".json"
    write_json(path, {"n": 1})
    restore = fail_os("rename", 1, (bootloader,))
    try:
        write_json(path, {"n": 2})
    except PowerLoss:
        pass
    finally:
        restore()
    assert read_json(path) == {"n": 1}
    os.remove(path)  # a file system whose rename does not replace, caught between the two
    assert read_json(path) == {"n": 2}


def _transition_survives(prepare, transition, check):
    """``transition`` loses power at each of its writes/removals in turn; after each, a fresh
    Boot from flash must be before or after it, and repeating it must reach ``check``."""
    for name in ("write_json", "remove", "rmdir", "rename"):
        for call in range(1, 4):
            root = prepare()
            restore = (
                fail_on(bootloader, name, call)
                if name == "write_json"
                else fail_os(name, call, (bootloader,))
            )
            try:
                transition(root)
            except PowerLoss:
                pass
            finally:
                restore()
            transition(root)  # the next boot does (or finds done) the same step
            check(root)


def test_confirm_and_rollback_survive_power_loss_at_any_point():
    def confirm(root):
        boot = Boot(root)
        if boot.trial:
            boot.select()
            boot.confirm()

    def confirmed(root):
        boot = Boot(root)
        assert (boot.select(), boot.version) == (root + "/a", "1.4.0"), boot.state

    _transition_survives(_installed, confirm, confirmed)

    def boot_three_times(root):
        for _ in range(3):
            Boot(root, 2).select()

    def rolled_back(root):
        boot = Boot(root, 2)
        assert boot.select() is None, boot.state
        assert boot.report["state"] == "rolled_back"

    _transition_survives(lambda: _installed(max_boots=2), boot_three_times, rolled_back)
