# Sound level meter: 125 ms ("fast") A-weighted levels -> 1 s LAeq -> interval LAeq, LAmax
# (loudest fast level), L10/L90 (from a histogram of the 1 s levels).
# Pure: samples in (full-scale floats), levels out; the microphone driver feeds it.
import math

from micropython import const

from aweight import AWeighting

HIST_MIN_DB = const(20)
HIST_BINS = const(240)  # 0.5 dB bins from 20 to 140 dB
_BIN_DB = 0.5


def level_db(mean_square, offset_db):
    """dB from a mean square of full-scale samples; ``offset_db`` maps 0 dBFS to dB SPL."""
    if mean_square <= 0:
        return 0.0
    return 10 * math.log10(mean_square) + offset_db


class LevelMeter:
    """Accumulates A-weighted energy; reports interval statistics and resets them."""

    def __init__(self, fs, offset_db):
        self.fs = fs
        self.offset_db = offset_db
        self._filter = AWeighting(fs)
        self._fast_len = fs // 8  # 125 ms ("fast") blocks
        self._fast_sum = 0.0
        self._fast_n = 0
        self._hist = bytearray(HIST_BINS)  # counts saturate at 255 per bin, plenty per interval
        self._hist_n = 0
        self._energy = 0.0  # sum of 10^(L/10) over fast blocks of the interval
        self._blocks = 0
        self._max_db = None
        self._second_energy = 0.0
        self._second_blocks = 0
        self.last_second_db = None  # the latest 1 s LAeq

    def feed(self, samples, n):
        """Processes the first ``n`` samples of ``samples`` (filtered in place)."""
        i = 0
        while i < n:
            take = min(n - i, self._fast_len - self._fast_n)
            self._fast_sum += self._filter.sum_squares(samples, i, i + take)
            self._fast_n += take
            i += take
            if self._fast_n == self._fast_len:
                self._close_fast_block()

    def _close_fast_block(self):
        level = level_db(self._fast_sum / self._fast_n, self.offset_db)
        self._fast_sum = 0.0
        self._fast_n = 0
        energy = 10 ** (level / 10)
        self._energy += energy
        self._blocks += 1
        if self._max_db is None or level > self._max_db:
            self._max_db = level
        self._second_energy += energy
        self._second_blocks += 1
        if self._second_blocks == 8:
            self._close_second(10 * math.log10(self._second_energy / 8))

    def _close_second(self, level):
        self.last_second_db = level
        self._second_energy = 0.0
        self._second_blocks = 0
        b = int((level - HIST_MIN_DB) / _BIN_DB)
        b = 0 if b < 0 else (HIST_BINS - 1 if b >= HIST_BINS else b)
        if self._hist[b] < 255:
            self._hist[b] += 1
        self._hist_n += 1

    def _percentile_exceeded(self, fraction):
        # Level exceeded ``fraction`` of the time: walk the histogram from the top.
        target = fraction * self._hist_n
        seen = 0
        for b in range(HIST_BINS - 1, -1, -1):
            seen += self._hist[b]
            if seen >= target:
                return HIST_MIN_DB + (b + 0.5) * _BIN_DB
        return float(HIST_MIN_DB)

    def report(self):
        """(LAeq, LAmax, L10, L90) of the interval so far, or None; then starts afresh."""
        if not self._blocks:
            return None
        laeq = 10 * math.log10(self._energy / self._blocks)
        if self._hist_n:
            l10, l90 = self._percentile_exceeded(0.10), self._percentile_exceeded(0.90)
        else:
            l10 = l90 = laeq  # less than a whole second: no distribution to speak of
        result = (laeq, self._max_db, l10, l90)
        self._energy = 0.0
        self._blocks = 0
        self._max_db = None
        for b in range(HIST_BINS):
            self._hist[b] = 0
        self._hist_n = 0
        return result
