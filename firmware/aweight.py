# A-weighting (IEC 61672-1) as three biquad sections from the bilinear transform of the
# analogue filter, normalised to 0 dB at 1 kHz. Pure: coefficients from the sample rate.
import math

import micropython

# Analogue pole frequencies of the A-weighting curve, Hz (IEC 61672-1 Annex E).
_F1 = 20.598997
_F2 = 107.65265
_F3 = 737.86223
_F4 = 12194.217


def _digital_pole(f_hz, fs):
    # Bilinear transform z = (1 + s/2fs) / (1 - s/2fs) of the real pole s = -2*pi*f.
    k = 2 * math.pi * f_hz / (2 * fs)
    return (1 - k) / (1 + k)


def _section_gain(b, a, w):
    # |B(e^jw)| / |A(e^jw)| of one biquad, with real arithmetic (no cmath on every port).
    c1, s1, c2, s2 = math.cos(w), math.sin(w), math.cos(2 * w), math.sin(2 * w)
    br, bi = b[0] + b[1] * c1 + b[2] * c2, -(b[1] * s1 + b[2] * s2)
    ar, ai = 1 + a[0] * c1 + a[1] * c2, -(a[0] * s1 + a[1] * s2)
    return math.sqrt((br * br + bi * bi) / (ar * ar + ai * ai))


def design(fs):
    """Three sections [(b0, b1, b2, a1, a2), ...] of the A-weighting filter at ``fs`` Hz."""
    p1, p2, p3, p4 = (_digital_pole(f, fs) for f in (_F1, _F2, _F3, _F4))
    sections = [
        ((1.0, -2.0, 1.0), (-2 * p1, p1 * p1)),  # two zeros at DC, double pole at 20.6 Hz
        ((1.0, -2.0, 1.0), (-(p2 + p3), p2 * p3)),  # two zeros at DC, poles at 107.7/737.9 Hz
        ((1.0, 2.0, 1.0), (-2 * p4, p4 * p4)),  # zeros at Nyquist, double pole at 12.2 kHz
    ]
    w1k = 2 * math.pi * 1000 / fs
    gain = 1.0
    for b, a in sections:
        gain *= _section_gain(b, a, w1k)
    scale = 1.0 / gain
    out = []
    for b, a in sections:
        out.append((b[0] * scale, b[1] * scale, b[2] * scale, a[0], a[1]))
        scale = 1.0  # the whole normalisation goes into the first section
    return out


def response_db(sections, f_hz, fs):
    """The designed filter's gain at ``f_hz``, in dB (for checks against IEC 61672)."""
    w = 2 * math.pi * f_hz / fs
    gain = 1.0
    for b0, b1, b2, a1, a2 in sections:
        gain *= _section_gain((b0, b1, b2), (a1, a2), w)
    return 20 * math.log10(gain)


class AWeighting:
    """Streaming A-weighting filter; state persists across blocks."""

    def __init__(self, fs):
        self.sections = design(fs)
        self._state = [0.0] * (2 * len(self.sections))  # direct form II transposed, z1/z2

    def sum_squares(self, samples, start, stop):
        """Filters samples[start:stop] in place and returns the sum of squared outputs."""
        return _filter_block(samples, start, stop, self.sections, self._state)


@micropython.native
def _filter_block(samples, start, stop, sections, state):
    acc = 0.0
    for i in range(start, stop):
        x = samples[i]
        k = 0
        for b0, b1, b2, a1, a2 in sections:
            y = b0 * x + state[k]
            state[k] = b1 * x - a1 * y + state[k + 1]
            state[k + 1] = b2 * x - a2 * y
            x = y
            k += 2
        samples[i] = x
        acc += x * x
    return acc
