# Acoustic checks of the noise node: Leq of a calibrated tone, and the A-weighting response
# against IEC 61672-1 class 2 tolerances, both by formula and by filtering real sine waves.
import math
from array import array

import aweight
from sound import LevelMeter

OFFSET_DB = 120.0  # 0 dBFS = 120 dB SPL (INMP441 nominal sensitivity)

# frequency: (nominal A-weighting dB, class 2 lower tolerance, class 2 upper tolerance)
IEC_61672_CLASS2 = {100: (-19.1, -1.5, 1.5), 1000: (0.0, -1.4, 1.4), 10000: (-2.5, -1e9, 5.6)}


def _tone_level(fs, freq, spl_db, seconds=1.0):
    meter = LevelMeter(fs, OFFSET_DB)
    amplitude = math.sqrt(2) * 10 ** ((spl_db - OFFSET_DB) / 20)
    block = fs // 10
    buf = array("f", [0.0] * block)
    settle = fs // 4  # discard the filter's start-up transient
    for start in range(0, settle, block):
        for k in range(block):
            buf[k] = amplitude * math.sin(2 * math.pi * freq * (start + k) / fs)
        meter.feed(buf, block)
    meter.report()
    for start in range(settle, settle + int(seconds * fs), block):
        for k in range(block):
            buf[k] = amplitude * math.sin(2 * math.pi * freq * (start + k) / fs)
        meter.feed(buf, block)
    return meter.report()


def test_1khz_tone_gives_its_level_within_half_a_db():
    for fs in (16000, 48000):
        for spl in (45.0, 65.0, 94.0):
            laeq, lamax, l10, l90 = _tone_level(fs, 1000, spl)
            assert abs(laeq - spl) < 0.5, (fs, spl, laeq)
            assert abs(lamax - spl) < 0.5
            assert abs(l10 - spl) < 0.5 and abs(l90 - spl) < 0.5


def test_designed_response_is_within_class_2():
    sections = aweight.design(48000)
    for freq, (nominal, low, high) in IEC_61672_CLASS2.items():
        got = aweight.response_db(sections, freq, 48000)
        assert nominal + low <= got <= nominal + high, (freq, got)


def test_measured_response_of_sine_waves_is_within_class_2():
    for freq, (nominal, low, high) in IEC_61672_CLASS2.items():
        laeq = _tone_level(48000, freq, 80.0, seconds=0.5)[0]
        assert 80.0 + nominal + low <= laeq <= 80.0 + nominal + high, (freq, laeq)


def test_one_second_levels_and_percentiles_of_a_level_that_changes():
    # 2 s at 80 dB then 8 s at 60 dB: L10 = 80, L90 = 60,
    # LAeq = 10*log10((2*10^8 + 8*10^6)/10) = 73.2 dB; within the first second one
    # 125 ms block at 80 dB is LAmax.
    fs = 8000
    meter = LevelMeter(fs, OFFSET_DB)
    block = fs // 8
    buf = array("f", [0.0] * block)
    n = 0
    seconds = []
    for spl in [80.0] * 2 + [60.0] * 8:
        amplitude = math.sqrt(2) * 10 ** ((spl - OFFSET_DB) / 20)
        for _ in range(8):
            for k in range(block):
                buf[k] = amplitude * math.sin(2 * math.pi * 1000 * n / fs)
                n += 1
            meter.feed(buf, block)
        seconds.append(meter.last_second_db)
    assert abs(seconds[1] - 80) < 0.5 and abs(seconds[-1] - 60) < 0.5, seconds
    laeq, lamax, l10, l90 = meter.report()
    assert abs(l10 - 80) < 0.8 and abs(l90 - 60) < 0.8, (l10, l90)
    assert abs(laeq - 73.2) < 0.5, laeq
    assert abs(lamax - 80) < 0.5
    assert meter.report() is None  # a report resets the interval
