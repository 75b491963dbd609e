# Noise node: I2S microphone -> A-weighting -> LAeq, LAmax, L10, L90 per interval.
from inmp441 import INMP441
from schedule import Every
from sound import LevelMeter


class NoiseApp:
    kind = "noise"

    def __init__(self, hal, cfg):
        rate = cfg.sample_rate
        self._mic = INMP441(hal.i2s(rate), rate // 16)  # 62.5 ms blocks: 8 bytes/sample
        self._meter = LevelMeter(rate, cfg.mic_offset_db + cfg.calibration_db)
        self._report = Every(cfg.interval_s * 1000)

    def poll(self, epoch_ms):
        n = self._mic.read()
        while n:
            self._meter.feed(self._mic.samples, n)
            n = self._mic.read()

    def report(self):
        if not self._report.due():
            return None
        levels = self._meter.report()
        if levels is None:
            return None
        laeq, lamax, l10, l90 = levels
        return [("laeq", laeq, 1), ("lamax", lamax, 1), ("l10", l10, 1), ("l90", l90, 1)]

    def command(self, name, value):
        raise ValueError("no command " + name)
