"""Readers for the formats `tastemaker import` understands, and the one call that imports.

Each reader is a function `read(path) -> Iterator[Record]` (see `recommender.ingest`) that
streams its input, reports bad rows as `Rejected` with their location, and raises
`IngestError` only when the whole file is unusable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from recommender.errors import IngestError, UnknownFormat
from recommender.ingest import ImportReport, Reader, import_records
from recommender.sources import demo, hetrec, tastemaker
from recommender.store import Store

READERS: dict[str, Reader] = {
    "demo": demo.read,
    "hetrec": hetrec.read,
    "tastemaker": tastemaker.read,
}


def import_path(
    store: Store,
    fmt: str,
    path: str | Path,
    listener: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import `path` in format `fmt` as one transaction and return the counts."""
    reader = READERS.get(fmt)
    if reader is None:
        raise UnknownFormat(f"unknown format {fmt!r}: choose one of {', '.join(sorted(READERS))}")
    target = Path(path)
    if not target.exists():
        raise IngestError(f"{target} does not exist: check the path")
    return import_records(store, fmt, target, reader(target), listener=listener, progress=progress)
