# Parking node: magnetometer field deviation from an empty-spot baseline, with hysteresis
# and debounce; reports on change and as a heartbeat every interval.
import json
import math

from qmc5883l import QMC5883L
from schedule import Every


class ParkingDetector:
    """Pure state machine: feed field vectors, read ``occupied``."""

    def __init__(self, on_threshold, off_threshold, debounce, calibration_samples):
        self.on_threshold = on_threshold
        self.off_threshold = off_threshold
        self.debounce = debounce
        self._calibration_left = calibration_samples
        self._sum = [0.0, 0.0, 0.0]
        self._n = 0
        self.baseline = None
        self.occupied = False
        self._streak = 0

    def recalibrate(self, samples):
        self.baseline = None
        self._calibration_left = samples
        self._sum = [0.0, 0.0, 0.0]
        self._n = 0

    def feed(self, x, y, z):
        """Returns True when the state changed with this sample."""
        if self.baseline is None:
            self._calibrate(x, y, z)
            return False
        bx, by, bz = self.baseline
        deviation = math.sqrt((x - bx) ** 2 + (y - by) ** 2 + (z - bz) ** 2)
        wants_change = (
            (deviation < self.off_threshold) if self.occupied else (deviation > self.on_threshold)
        )
        self._streak = self._streak + 1 if wants_change else 0
        if self._streak >= self.debounce:
            self.occupied = not self.occupied
            self._streak = 0
            return True
        return False

    def _calibrate(self, x, y, z):
        self._sum[0] += x
        self._sum[1] += y
        self._sum[2] += z
        self._n += 1
        self._calibration_left -= 1
        if self._calibration_left <= 0:
            self.baseline = (self._sum[0] / self._n, self._sum[1] / self._n, self._sum[2] / self._n)


def save_state(path, detector):
    """Keeps the empty-spot baseline and state across deep sleep (a car may be parked at
    wake-up, so recalibrating then would be wrong)."""
    with open(path, "w") as f:
        json.dump({"baseline": detector.baseline, "occupied": detector.occupied}, f)


def restore_state(path, detector):
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return False
    if state.get("baseline") is None:
        return False
    detector.baseline = tuple(state["baseline"])
    detector.occupied = bool(state["occupied"])
    return True


class ParkingApp:
    kind = "parking"

    def __init__(self, hal, cfg):
        self._mag = QMC5883L(hal.i2c())
        self._state_file = cfg.state_file
        self._detector = ParkingDetector(
            cfg.park_on_threshold,
            cfg.park_off_threshold,
            cfg.park_debounce,
            cfg.park_calibration_samples,
        )
        self._sample = Every(100)
        self._heartbeat = Every(cfg.interval_s * 1000)
        self._changed = restore_state(self._state_file, self._detector)

    def poll(self, epoch_ms):
        if not (self._sample.due() and self._mag.ready()):
            return
        calibrating = self._detector.baseline is None
        if self._detector.feed(*self._mag.read()) or (
            calibrating and self._detector.baseline is not None
        ):
            self._changed = True
            save_state(self._state_file, self._detector)

    def report(self):
        if self._detector.baseline is None:
            return None
        if not (self._changed or self._heartbeat.due()):
            return None
        self._changed = False
        self._heartbeat.restart()
        return [("st", "occupied" if self._detector.occupied else "free", 0)]

    def command(self, name, value):
        if name == "recalibrate":
            self._detector.recalibrate(int(value) if value else 20)
            return "OK"
        raise ValueError("no command " + name)
