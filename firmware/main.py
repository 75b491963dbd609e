# Entry point: only wires the pieces and runs (the same on the ESP32 and the unix port).
import sys
import time

import config
import hal
from node import Node
from stimulus import WatchdogReset

APPS = {
    "noise": "app_noise.NoiseApp",
    "air": "app_air.AirApp",
    "parking": "app_parking.ParkingApp",
    "streetlight": "app_light.LightApp",
}


def build_app(kind, board, cfg):
    module_name, class_name = APPS[kind].split(".")
    module = __import__(module_name)
    return getattr(module, class_name)(board, cfg)


def main(argv):
    cfg = config.load(argv[1] if len(argv) > 1 else "site.json")
    board = hal.create(cfg)
    seconds = float(argv[2]) if len(argv) > 2 else None
    deadline = time.ticks_add(time.ticks_ms(), int(seconds * 1000)) if seconds else None
    while True:
        left = time.ticks_diff(deadline, time.ticks_ms()) / 1000 if deadline else None
        try:
            Node(cfg, board, build_app(cfg.kind, board, cfg)).run(left)
            return
        except WatchdogReset:
            # On a board the chip resets and main.py runs again; RAM (and its buffer) is lost.
            print("watchdog reset")
            board.last_reset = "watchdog"


main(sys.argv)
