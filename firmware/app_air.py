# Air node: PMS5003 (UART), NO2/O3 electrochemical cells (ADC), SHT31 (I2C); interval means.
from gas import GasCell
from pms5003 import PMS5003
from schedule import Every
from sht31 import SHT31


class _Mean:
    def __init__(self):
        self.total = 0.0
        self.n = 0

    def add(self, value):
        self.total += value
        self.n += 1

    def take(self):
        mean = self.total / self.n if self.n else None
        self.total = 0.0
        self.n = 0
        return mean


class AirApp:
    kind = "air"

    def __init__(self, hal, cfg):
        self._pms = PMS5003(hal.uart())
        self._cells = [
            GasCell("no2", hal.adc("no2_we"), hal.adc("no2_ae"), cfg.no2_cal),
            GasCell("o3", hal.adc("o3_we"), hal.adc("o3_ae"), cfg.o3_cal),
        ]
        self._sht = SHT31(hal.i2c())
        self._warm = Every(0, first_ms=cfg.warmup_s * 1000)
        self._warmed = cfg.warmup_s <= 0
        self._sample = Every(1000)
        self._report = Every(cfg.interval_s * 1000)
        self._means = {key: _Mean() for key in ("pm25", "pm10", "no2", "o3", "tmp", "rh")}

    @property
    def rejected_frames(self):
        return self._pms.frames_bad

    def poll(self, epoch_ms):
        frames = self._pms.poll()
        if not self._warmed:
            self._warmed = self._warm.due()
            return  # sensors still settling: readings now would be biased
        for _, pm25, pm10 in frames:
            self._means["pm25"].add(pm25)
            self._means["pm10"].add(pm10)
        if self._sample.due():
            for cell in self._cells:
                self._means[cell.gas].add(cell.read())
            climate = self._sht.read()
            if climate is not None:
                self._means["tmp"].add(climate[0])
                self._means["rh"].add(climate[1])

    def report(self):
        if not self._report.due():
            return None
        fields = []
        for key in ("pm25", "pm10", "no2", "o3", "tmp", "rh"):
            mean = self._means[key].take()
            if mean is not None:
                fields.append((key, mean, 1))
        return fields or None

    def command(self, name, value):
        raise ValueError("no command " + name)
