# The node's updater (ota.py) on MicroPython with a fake MQTT client and a temporary "flash"
# folder: chunks, retries, refusals, resume after power loss at any step of a download.
import os
import time

from otakit import (
    Node,
    PowerLoss,
    chunk_message,
    fail_on,
    fail_os,
    file_data,
    serve,
    start_message,
    temp_root,
)

import bootloader
import ota


def _started(root=None, name="good"):
    node = Node(root or temp_root())
    updater = ota.Updater(node)
    updater.handle("ota", start_message(name))
    return node, updater


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_a_good_bundle_is_downloaded_chunk_by_chunk_and_put_on_trial():
    node, updater = _started()
    assert node.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 0}
    assert serve(updater, node) == {"id": "u1", "state": "installed", "version": "1.4.0"}
    requests = [(b["f"], b["o"]) for b, _ in node.client.sent if b["state"] == "downloading"]
    assert requests == [(0, 0), (0, 1024), (0, 2048), (0, 3072)], requests  # empty file: none
    folder = node.boot.folder("a")
    assert _read(folder + "/app_x.py") == file_data(0)
    assert _read(folder + "/empty.json") == b""
    assert "_pos.json" not in os.listdir(folder)
    again = bootloader.Boot(node.boot.root)  # as the next boot reads it
    assert (again.trial, again.version) == ("a", "1.4.0")
    assert again.select() == folder


def test_the_node_reboots_once_the_installed_report_is_acknowledged():
    node, updater = _started()
    serve(updater, node)
    updater.poll()  # not acknowledged yet, and ota_retry_s not over: no reset
    updater.acked("ota-installed")
    try:
        updater.poll()
        raise AssertionError("no reset")
    except bootloader.Reset as exc:
        assert exc.args == ("ota",)
    assert node.buffer.saved == node.cfg.buffer_file  # readings kept across the reset


def test_a_bad_chunk_is_asked_again_and_the_third_failure_ends_the_update():
    node, updater = _started()
    good = chunk_message(0, 0)
    bad = chunk_message(0, 0, data=b"x" * 1024)
    updater.handle("otachunk", bad)
    assert node.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 0}
    updater.handle("otachunk", good)
    assert node.last()["o"] == 1024
    for _ in range(2):
        updater.handle("otachunk", chunk_message(0, 1024, data=b"y"))
    assert node.last()["state"] == "downloading"
    updater.handle("otachunk", chunk_message(0, 1024, data=b"z"))
    assert node.last() == {"id": "u1", "state": "failed", "reason": "chunk_hash"}
    assert not node.boot.has_download()
    assert "a" not in os.listdir(node.boot.root)


def test_a_chunk_not_asked_for_is_dropped_and_the_expected_one_asked_again():
    node, updater = _started()
    updater.handle("otachunk", chunk_message(0, 1024))
    assert node.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 0}
    updater.handle("otachunk", chunk_message(0, 0, update_id="other"))
    assert len(node.client.sent) == 2  # another update's chunk: ignored
    updater.handle("otachunk", chunk_message(0, 0))
    updater.handle("otachunk", chunk_message(0, 0))  # a duplicate of a written chunk
    assert node.states() == ["downloading"] * 3, node.states()
    assert node.last()["o"] == 1024
    assert serve(updater, node)["state"] == "installed"


def test_refused_bundles_leave_nothing_on_flash():
    for name, reason in (("air", "wrong_node"), ("boot2", "min_boot")):
        node, _ = _started(name=name)
        assert node.states() == ["failed"], node.states()
        assert node.last()["reason"] == reason
        assert not node.boot.has_download()
    node = Node(temp_root())
    node.cfg.ota_pubkey = "11" * 32
    ota.Updater(node).handle("ota", start_message())
    assert node.last() == {"id": "u1", "state": "failed", "reason": "bad_signature"}
    node = Node(temp_root())
    ota.Updater(node).handle("ota", {"id": "u1", "manifest": "???", "sig": ""})
    assert node.last()["reason"] in ("bad_request", "bad_signature")
    ota.Updater(node).handle("ota", ["no", "id"])
    assert node.last()["reason"] == "bad_request"


def test_one_update_at_a_time():
    node, updater = _started()
    updater.handle("ota", start_message(update_id="u2"))
    assert node.last() == {"id": "u2", "state": "failed", "reason": "busy"}
    updater.handle("ota", start_message())  # the platform repeats the start: carry on
    assert node.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 0}
    serve(updater, node)
    after = Node(node.boot.root)  # rebooted into the trial version, not yet confirmed
    ota.Updater(after).handle("ota", start_message(update_id="u3"))
    assert after.last() == {"id": "u3", "state": "failed", "reason": "busy"}


def test_abort_drops_the_download():
    node, updater = _started()
    updater.handle("otachunk", chunk_message(0, 0))
    updater.handle("otaabort", {"id": "u1"})
    assert node.last() == {"id": "u1", "state": "failed", "reason": "aborted"}
    assert not node.boot.has_download()
    updater.handle("ota", start_message(update_id="u2"))
    assert node.last() == {"id": "u2", "state": "downloading", "f": 0, "o": 0}


def test_the_request_is_sent_again_when_no_chunk_comes():
    node, updater = _started()
    time.sleep_ms(60)  # ota_retry_s is 0.05 in the fake config
    updater.poll()
    assert node.states() == ["downloading", "downloading"]


def test_a_reboot_resumes_from_the_last_verified_chunk():
    node, updater = _started()
    updater.handle("otachunk", chunk_message(0, 0))
    updater.handle("otachunk", chunk_message(0, 1024))
    rebooted = Node(node.boot.root)
    assert rebooted.boot.has_download()
    resumed = ota.Updater(rebooted)
    resumed.on_connect()
    assert rebooted.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 2048}
    assert serve(resumed, rebooted)["state"] == "installed"
    assert _read(rebooted.boot.folder("a") + "/app_x.py") == file_data(0)


def test_power_loss_between_writing_a_chunk_and_recording_it_rewrites_that_chunk():
    node, updater = _started()
    updater.handle("otachunk", chunk_message(0, 0))
    restore = fail_on(ota, "write_json")
    try:
        updater.handle("otachunk", chunk_message(0, 1024))
        raise AssertionError("no power loss")
    except PowerLoss:
        pass
    finally:
        restore()
    rebooted = Node(node.boot.root)
    resumed = ota.Updater(rebooted)
    resumed.on_connect()
    assert rebooted.last()["o"] == 1024  # the chunk on flash but not recorded: asked again
    assert serve(resumed, rebooted)["state"] == "installed"
    assert _read(rebooted.boot.folder("a") + "/app_x.py") == file_data(0)


def _download_with_a_changed_file(updater, node):
    for o in (0, 1024, 2048):
        updater.handle("otachunk", chunk_message(0, o))
    with open(node.boot.folder("a") + "/app_x.py", "r+b") as f:
        f.write(b"#")  # flash corruption the chunk hashes could not see
    updater.handle("otachunk", chunk_message(0, 3072))
    updater.poll()


def test_a_file_changed_on_flash_is_fetched_once_more_then_the_update_fails():
    node, updater = _started()
    _download_with_a_changed_file(updater, node)
    assert node.states()[-2:] == ["verifying", "downloading"]
    assert node.last() == {"id": "u1", "state": "downloading", "f": 0, "o": 0}
    assert serve(updater, node)["state"] == "installed"
    node, updater = _started()
    _download_with_a_changed_file(updater, node)
    _download_with_a_changed_file(updater, node)
    assert node.last() == {"id": "u1", "state": "failed", "reason": "hash_mismatch"}
    assert not node.boot.has_download()


def _power_loss_in_install(module, name, call):
    node, updater = _started()
    if module is os:
        import ota_finish  # imported again for each install: this one serves the next

        restore = fail_os(name, call, (ota, ota_finish, bootloader))
    else:
        restore = fail_on(module, name, call)
    try:
        serve(updater, node)
        lost = False
    except PowerLoss:
        lost = True
    finally:
        restore()
    rebooted = Node(node.boot.root)
    if rebooted.boot.trial != "a":  # not installed yet: the download goes on where it was
        resumed = ota.Updater(rebooted)
        if rebooted.boot.has_download():
            resumed.on_connect()
        else:
            resumed.handle("ota", start_message())  # nothing recorded: the platform retries
        assert serve(resumed, rebooted)["state"] == "installed", rebooted.states()
    assert bootloader.Boot(node.boot.root).select() == node.boot.folder("a")
    assert _read(node.boot.folder("a") + "/app_x.py") == file_data(0)
    return lost


def test_power_loss_at_any_step_of_a_download_and_its_install_ends_installed():
    # Every state write and file removal from the start to the install, in turn.
    steps = 0
    for module, name in (
        (bootloader, "write_json"),
        (ota, "write_json"),
        (os, "remove"),
        (os, "rename"),
    ):
        for call in range(1, 8):
            if _power_loss_in_install(module, name, call):
                steps += 1
    assert steps >= 5, steps


def test_a_bundle_too_big_for_the_flash_is_refused():
    import ota_manifest  # the module ota.accept loads: patched for this one start

    ota_manifest._free_bytes = lambda path: 4096
    node, _ = _started()
    assert node.last() == {"id": "u1", "state": "failed", "reason": "no_space"}
    assert not node.boot.has_download()
    assert "a" not in os.listdir(node.boot.root)
