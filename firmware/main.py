# The bootloader's entry point (never replaced by OTA): picks the app folder (a confirmed
# update, a new version on trial, or the factory modules beside this file), then wires config,
# HAL, app and node runtime and runs them. The same on the ESP32 and the unix port.
import sys
import time

from bootloader import BOOT_VERSION, Boot, Reset, read_json

APPS = {
    "noise": "app_noise.NoiseApp",
    "air": "app_air.AirApp",
    "parking": "app_parking.ParkingApp",
    "streetlight": "app_light.LightApp",
}
ON_BOARD = sys.platform == "esp32"


def build_app(kind, board, cfg):
    module_name, class_name = APPS[kind].split(".")
    module = __import__(module_name)
    return getattr(module, class_name)(board, cfg)


def run_app(boot, site_path, seconds, last_reset):
    """Imports the app (from the folder now first on sys.path) and runs it."""
    import config
    import hal
    from node import Node

    cfg = config.load(site_path)
    board = hal.create(cfg)
    board.last_reset = last_reset
    Node(cfg, board, build_app(cfg.kind, board, cfg), boot).run(seconds)


def boot_once(site_path, left, last_reset):
    """One boot. Returns normally only when the run's time is up; raises Reset to boot again."""
    site = read_json(site_path) or {}
    boot = Boot(site.get("ota_dir", "ota"), site.get("ota_max_boots", 3))
    folder = boot.select()  # counts a trial boot (and rolls back) before importing anything
    app = boot.version or "factory"
    if boot.trial:
        app += " trial %s boot %d/%d" % (boot.trial, boot.state["boots"], boot.max_boots)
    print("bootloader", BOOT_VERSION, "app", app)
    if folder:
        sys.path.insert(0, folder)
    # A new version must confirm within ota_confirm_s, or this boot counts as a failed one.
    confirm_s = site.get("ota_confirm_s", 300) if boot.trial else None
    limit = left if confirm_s is None or (left is not None and left < confirm_s) else confirm_s
    try:
        run_app(boot, site_path, limit, last_reset)
    except Reset:
        raise
    except Exception as exc:
        if not boot.trial:
            raise  # the confirmed or factory app: nothing older to go back to
        sys.print_exception(exc)
        boot.crashed(repr(exc))
        raise Reset("crash")
    finally:
        if folder:
            sys.path.remove(folder)
    if limit is not left:  # the trial's time ran out, not the run's: boot again
        raise Reset("not_confirmed" if boot.trial else "confirmed")


def main(argv):
    site_path = argv[1] if len(argv) > 1 else "site.json"
    seconds = float(argv[2]) if len(argv) > 2 else None
    deadline = time.ticks_add(time.ticks_ms(), int(seconds * 1000)) if seconds else None
    keep = set(sys.modules)  # the bootloader's own modules; the app's are imported per boot
    last_reset = "power-on"
    while True:
        left = time.ticks_diff(deadline, time.ticks_ms()) / 1000 if deadline else None
        try:
            boot_once(site_path, left, last_reset)
            return
        except Reset as exc:
            last_reset = exc.args[0] if exc.args else "soft"
            print("reset:", last_reset)
        if ON_BOARD and last_reset != "watchdog":
            import machine

            machine.reset()
        # Unix port: a reset is a new boot in this process; the app modules are imported
        # afresh (from the folder the next boot selects) and RAM state is lost, as on a chip.
        for name in list(sys.modules):
            if name not in keep:
                del sys.modules[name]


main(sys.argv)
