"""The ``datasetId`` filter of temporal retrievals (NGSI-LD 4.5.5, 5.7.3, 5.7.4): only the
instances of the datasets named, ``@none`` naming the default instances (those without a
datasetId)."""

from __future__ import annotations

import re
from dataclasses import replace

from interoperability.deps import URI_PATTERN, BadRequestError
from interoperability.temporal.bounds import History

DEFAULT_DATASET = "@none"
DATASET_ID_DOC = "Only the instances of these datasetIds; @none: the default instances"
MAX_DATASETS = 100
_URI = re.compile(URI_PATTERN)


def parse_dataset_ids(text: str | None) -> frozenset[str] | None:
    """The datasets ``datasetId=a,b,@none`` names (None: every instance)."""
    if text is None:
        return None
    names = [name for name in text.split(",") if name]
    if not names:
        raise BadRequestError("datasetId must name one or more datasets (or @none)")
    if len(names) > MAX_DATASETS:
        raise BadRequestError(f"datasetId: at most {MAX_DATASETS} datasets")
    wrong = [n for n in names if n != DEFAULT_DATASET and not _URI.match(n)]
    if wrong:
        raise BadRequestError(f"datasetId {wrong[0]!r:.100} is neither a URI nor @none")
    return frozenset(names)


def only_datasets(history: History, datasets: frozenset[str] | None) -> History:
    """The instances of ``history`` in ``datasets``: readings are default instances, a
    kept instance is in the dataset it was written with."""
    if datasets is None:
        return history
    readings = history.readings if DEFAULT_DATASET in datasets else []
    kept = [k for k in history.kept if (k.dataset_id or DEFAULT_DATASET) in datasets]
    return replace(history, readings=readings, kept=kept)
