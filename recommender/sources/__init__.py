"""Readers for the formats `tastemaker import` understands, and the one call that imports.

Each reader is a function `read(path) -> Iterator[Record]` (see `recommender.ingest.records`)
that streams its input, reports bad rows as `Rejected` with their location, and raises
`IngestError` only when the whole file is unusable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from recommender.errors import IngestError, NothingRead, TastemakerError, UnknownFormat
from recommender.ingest.files import check_import_path, checksum
from recommender.ingest.records import Reader, Record
from recommender.ingest.writer import ImportReport, import_records
from recommender.sources import demo, hetrec, lastfm, listenbrainz, spotify, tastemaker
from recommender.sources._common import check_encoding
from recommender.sources.sniff import not_the_format
from recommender.store import Store


class TextReader(Protocol):
    """A reader of personal exports: text written by a listener's own tools, in any encoding."""

    def __call__(self, path: Path, encoding: str = "utf-8") -> Iterator[Record]: ...


TEXT_READERS: dict[str, TextReader] = {
    "lastfm": lastfm.read,
    "listenbrainz": listenbrainz.read,
    "spotify": spotify.read,
}
READERS: dict[str, Reader] = {
    "demo": demo.read,
    "hetrec": hetrec.read,
    "tastemaker": tastemaker.read,
    **TEXT_READERS,
}


def import_path(
    store: Store,
    fmt: str,
    path: str | Path,
    listener: str | None = None,
    progress: Callable[[int], None] | None = None,
    encoding: str | None = None,
) -> ImportReport:
    """Import `path` in format `fmt` as one transaction and return the counts.

    `encoding` (personal exports only) overrides UTF-8 for files saved in another encoding.
    Only a regular file or a folder is read (a FIFO or a device is refused before it is
    opened); a file not one row of which is `fmt` is refused, naming the format it looks like.
    """
    reader = READERS.get(fmt)
    if reader is None:
        raise UnknownFormat(f"unknown format {fmt!r}: choose one of {', '.join(sorted(READERS))}")
    target = Path(path)
    if not target.exists():
        raise IngestError(f"{target} does not exist: check the path")
    check_import_path(target)
    if encoding is None:
        records = reader(target)
    else:
        text_reader = TEXT_READERS.get(fmt)
        if text_reader is None:
            raise IngestError(
                f"--encoding applies to {', '.join(sorted(TEXT_READERS))}, not {fmt}: drop it"
            )
        records = text_reader(target, check_encoding(encoding))
    digest = checksum(target)
    try:
        return import_records(
            store,
            fmt,
            target,
            records,
            listener=listener,
            progress=progress,
            digest=digest,
            refuse_unread=True,
        )
    except NothingRead as exc:
        raise NothingRead(not_the_format(target, fmt, str(exc))) from None


def import_paths(
    store: Store,
    fmt: str,
    paths: Sequence[str | Path],
    listener: str | None = None,
    progress: Callable[[int], None] | None = None,
    encoding: str | None = None,
    landed: Callable[[ImportReport], None] | None = None,
) -> list[ImportReport]:
    """Import several inputs of one format in order, each as its own transaction, in one process.

    Each path is exactly one `import_path` (its own import record, so forget and export-data
    follow it), and `landed` hears of each as it commits. The first that fails stops the run:
    its error names it and says how many before it landed, which stay (importing one of those
    again adds nothing: its listens are duplicates).
    """
    targets = [Path(path) for path in paths]
    if not targets:
        raise IngestError("no path to import: name one or more files or folders")
    named = Counter(target.resolve() for target in targets)
    repeated = sorted(str(path) for path, times in named.items() if times > 1)
    if repeated:
        raise IngestError(f"{repeated[0]} is named more than once: name each export once")
    reports: list[ImportReport] = []
    for target in targets:
        try:
            report = import_path(store, fmt, target, listener, progress, encoding)
        except TastemakerError as exc:
            if len(targets) == 1:
                raise
            raise type(exc)(_stopped_at(target, exc, reports, len(targets))) from exc
        reports.append(report)
        if landed is not None:
            landed(report)
    return reports


def _stopped_at(target: Path, exc: TastemakerError, reports: list[ImportReport], total: int) -> str:
    done = len(reports)
    if not done:
        return f"{target}: {exc} (nothing was imported)"
    return (
        f"{target}: {exc} (the {done:,} of {total:,} paths before it landed and stay; "
        f"fix it and run the command again from {target})"
    )
