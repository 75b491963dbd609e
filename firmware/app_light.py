# Lighting node: PWM dimming (0-100 %), INA219 power; commands on/off/dim/schedule;
# reports power state, level, power, energy and lamp faults.
import time

from ina219 import INA219
from schedule import Every

FAULT_OK = "ok"
FAULT_NO_CURRENT = "no_current"  # commanded on, draws (almost) nothing: lamp or driver failed
FAULT_CURRENT_WHEN_OFF = "current_when_off"  # commanded off, still draws: relay stuck


def fault_of(level_pct, watts, rating_w):
    """Fault flag from what the lamp was told and what it draws (pure)."""
    if level_pct > 0 and watts < 0.1 * rating_w * level_pct / 100:
        return FAULT_NO_CURRENT
    if level_pct == 0 and watts > 0.05 * rating_w:
        return FAULT_CURRENT_WHEN_OFF
    return FAULT_OK


def scheduled_level(schedule, minute_of_day):
    """Level of the last schedule step at or before ``minute_of_day`` (wrapping at midnight)."""
    if not schedule:
        return None
    level = schedule[-1][1]  # before the first step of the day, yesterday's last step holds
    for minute, step_level in schedule:
        if minute <= minute_of_day:
            level = step_level
    return level


class LightApp:
    kind = "streetlight"

    def __init__(self, hal, cfg):
        self._pwm = hal.pwm(cfg.pwm_freq)
        self._ina = INA219(hal.i2c())
        self._rating_w = cfg.lamp_rating_w
        self._epoch_ms = None
        self.level = 0
        self.schedule = []
        self.energy_wh = 0.0
        self._last_ms = time.ticks_ms()
        self._watts = 0.0
        self._sample = Every(1000)
        self._report = Every(cfg.interval_s * 1000)
        self._changed = False

    def set_level(self, level):
        level = max(0, min(100, int(level)))
        self._pwm.duty_u16(level * 65535 // 100)
        if level != self.level:
            self._changed = True
        self.level = level

    def poll(self, epoch_ms):
        if self._sample.due():
            now = time.ticks_ms()
            _, _, self._watts = self._ina.read()
            self.energy_wh += self._watts * time.ticks_diff(now, self._last_ms) / 3600000
            self._last_ms = now
            if self.schedule:
                minute = (epoch_ms // 60000) % 1440
                self.set_level(scheduled_level(self.schedule, minute))

    def report(self):
        if not (self._changed or self._report.due()):
            return None
        self._changed = False
        self._report.restart()
        _, _, watts = self._ina.read()
        return [
            ("on", "on" if self.level else "off", 0),
            ("dim", self.level, 0),
            ("w", watts, 1),
            ("wh", self.energy_wh, 2),
            ("flt", fault_of(self.level, watts, self._rating_w), 0),
        ]

    def command(self, name, value):
        if name == "on":
            self.schedule = []
            self.set_level(100)
        elif name == "off":
            self.schedule = []
            self.set_level(0)
        elif name == "dim":
            if not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise ValueError("dim needs a level 0-100")
            self.schedule = []
            self.set_level(value)
        elif name == "schedule":
            self.schedule = _parse_schedule(value)
        else:
            raise ValueError("no command " + name)
        return "OK " + str(self.level)


def _parse_schedule(value):
    """[[minute_of_day_utc, level], ...] -> sorted steps; raises ValueError when malformed."""
    if not isinstance(value, list) or not value:
        raise ValueError("schedule needs [[minute, level], ...]")
    steps = []
    for step in value:
        if not isinstance(step, list) or len(step) != 2:
            raise ValueError("schedule step must be [minute, level]")
        minute, level = step
        if not 0 <= minute < 1440 or not 0 <= level <= 100:
            raise ValueError("schedule step out of range")
        steps.append((int(minute), int(level)))
    steps.sort()
    return steps
