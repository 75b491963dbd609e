"""Pure aggregation functions over numpy arrays (the seed of the streaming core)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def energetic_mean_db(levels_db: npt.NDArray[np.float64]) -> float:
    """Energetic average of sound levels: Leq = 10*log10(mean(10^(L/10))).

    Computed as max + 10*log10(mean(10^((L-max)/10))) so large levels never
    overflow.  Raises ValueError on an empty input: a mean of nothing is not 0 dB.
    """
    if levels_db.size == 0:
        raise ValueError("energetic mean of no levels")
    peak = float(np.max(levels_db))
    return peak + 10.0 * float(np.log10(np.mean(np.power(10.0, (levels_db - peak) / 10.0))))
