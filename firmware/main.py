# Entry point: only wires the pieces and runs (the same on the ESP32 and the unix port).
import sys

import config
import hal
from node import Node

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
    Node(cfg, board, build_app(cfg.kind, board, cfg)).run(seconds)


main(sys.argv)
