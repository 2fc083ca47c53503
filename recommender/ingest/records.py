"""The record vocabulary: what a reader turns a file into, before anything touches the store.

A reader yields these (listens, feedback, artists, tracks, tags, terms, skips, rejects,
notes) and the
writer (`recommender.ingest.writer`) stores them. Records are plain frozen values and depend on
nothing above the bottom layer, so a reader can be written and tested without a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recommender.terms import Terms

if TYPE_CHECKING:  # the bulk records carry numpy arrays; nothing here needs numpy at run time
    import numpy as np
    import numpy.typing as npt

    Column = npt.NDArray[np.int64]

# Every format `tastemaker import` reads, named once at the bottom layer: the terms side needs
# the names (a listener may ignore a source) without importing the readers, and a test checks
# that the reader registry (`recommender.sources.READERS`) has exactly these.
IMPORT_FORMATS: tuple[str, ...] = (
    "demo",
    "hetrec",
    "lastfm",
    "listenbrainz",
    "spotify",
    "tastemaker",
)


@dataclass(frozen=True)
class Listen:
    """One listen (plays=1 with a time) or an aggregate play count (no time, artist-level data)."""

    artist: str
    listener: str | None = None
    title: str | None = None
    album: str | None = None
    listened_at: int | None = None  # Unix seconds, UTC
    ms_played: int | None = None
    plays: int = 1
    duration_ms: int | None = None
    artist_mbid: str | None = None
    track_mbid: str | None = None  # the MusicBrainz recording id
    artist_external_id: str | None = None
    source: str | None = None  # where the listen first came from, when not the import format
    release_mbid: str | None = None
    spotify_uri: str | None = None  # spotify:track:<id>
    isrc: str | None = None


@dataclass(frozen=True)
class Feedback:
    """A love, hate or skip the listener expressed: stored in `feedback`, never as a listen.

    It names an artist (and track) by name, or only a recording MBID / MessageBrainz MSID
    (a ListenBrainz love); one it cannot place yet is kept and resolved when the item arrives.
    `at` is when it was expressed (Unix seconds, UTC), or the play's start for a skip.
    """

    kind: str  # "love", "hate" or "skip"
    artist: str | None = None
    title: str | None = None
    listener: str | None = None
    recording_mbid: str | None = None
    recording_msid: str | None = None
    at: int | None = None
    source: str | None = None  # where it first came from, when not the import format


@dataclass(frozen=True)
class Artist:
    """An artist known to the catalogue, listened to or not (cold-start items need this)."""

    name: str
    mbid: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Track:
    """A track in the catalogue, listened to or not (so a cold-start artist has tracks to play)."""

    artist: str
    title: str
    album: str | None = None
    duration_ms: int | None = None
    mbid: str | None = None  # the MusicBrainz recording id
    artist_external_id: str | None = None
    release_mbid: str | None = None
    spotify_uri: str | None = None
    isrc: str | None = None


@dataclass(frozen=True)
class ArtistTag:
    """`count` people gave `tag` to the artist."""

    artist: str
    tag: str
    count: int
    artist_external_id: str | None = None


@dataclass(frozen=True)
class StoredTerms:
    """A listener's terms carried by a file (a tastemaker export), for the import's listener."""

    terms: Terms


@dataclass(frozen=True)
class Skipped:
    """A well-formed row that is deliberately not a listen (podcast, incognito, under 30 s)."""

    location: str
    reason: str


@dataclass(frozen=True)
class Rejected:
    """A malformed row: reported with its location, never silently dropped."""

    location: str
    reason: str


@dataclass(frozen=True)
class DefaultListener:
    """The export names its owner: their listens go to `name` unless --listener says otherwise."""

    name: str


@dataclass(frozen=True)
class Note:
    """Something the listener should know about the import that is not a count."""

    text: str


PROGRESS_ROWS = 50_000  # rows between two progress reports (and between two RowsRead)


@dataclass(frozen=True)
class RowsRead:
    """The reader has read `count` more input rows that have no record of their own yet
    (HetRec's tagging rows become tag records only at the end): for progress, nothing more."""

    count: int


@dataclass(frozen=True, eq=False)
class PlayCounts:
    """Many aggregate play counts at once, for a reader of millions of artist-level rows
    (Last.fm-360K: 17.5 M): row i is `plays[i]` plays of `artists[artist[i]]` by the listener
    `listeners[listener[i]]`. The writer stores it exactly as it would one `Listen` per row,
    in row order (`expanded` gives those records), without a Python object per row."""

    artists: Sequence[Artist]
    listeners: Sequence[str]
    artist: Column  # per row: an index into `artists`
    listener: Column  # per row: an index into `listeners`
    plays: Column

    def __len__(self) -> int:
        return len(self.plays)


@dataclass(frozen=True, eq=False)
class TagCounts:
    """Many tag links at once: row i says `count[i]` people gave `tags[tag[i]]` to
    `artists[artist[i]]`. Stored exactly as one `ArtistTag` per row in row order would be."""

    artists: Sequence[Artist]
    tags: Sequence[str]
    artist: Column  # per row: an index into `artists`
    tag: Column  # per row: an index into `tags`
    count: Column

    def __len__(self) -> int:
        return len(self.count)


def expanded(records: Iterable[Record]) -> Iterator[Record]:
    """The records with every bulk record (`PlayCounts`, `TagCounts`) spelled out as the
    `Listen` or `ArtistTag` records it stands for: for code that looks at single rows."""
    for record in records:
        if isinstance(record, PlayCounts):
            for a, listener, plays in zip(
                record.artist.tolist(), record.listener.tolist(), record.plays.tolist(), strict=True
            ):
                artist = record.artists[a]
                yield Listen(
                    artist=artist.name,
                    listener=record.listeners[listener],
                    plays=plays,
                    artist_mbid=artist.mbid,
                    artist_external_id=artist.external_id,
                )
        elif isinstance(record, TagCounts):
            for a, tag, count in zip(
                record.artist.tolist(), record.tag.tolist(), record.count.tolist(), strict=True
            ):
                artist = record.artists[a]
                yield ArtistTag(
                    artist=artist.name,
                    tag=record.tags[tag],
                    count=count,
                    artist_external_id=artist.external_id,
                )
        else:
            yield record


Record = (
    Listen
    | Feedback
    | Artist
    | Track
    | ArtistTag
    | StoredTerms
    | Skipped
    | Rejected
    | DefaultListener
    | Note
    | RowsRead
    | PlayCounts
    | TagCounts
)
Reader = Callable[[Path], Iterator[Record]]
