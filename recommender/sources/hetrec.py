"""Reader for the HetRec 2011 Last.fm 2k folder.

Artist-level data: `user_artists.dat` gives each listener's play count per artist (no times),
`user_taggedartists.dat` gives who tagged which artist with what. Listeners are named by their
HetRec user id ("2"). The friends list is deliberately not read: who someone knows is not a
signal about what they like, and it identifies people.

Tag counts are distinct taggers per (artist, tag). They are counted from two compact arrays
(12 bytes a tagging row), not from a set of user names per pair, so a world of millions of
tagging rows imports in tens of MB rather than gigabytes; they are counted a bucket at a time,
and before the listens are read, so the arrays are gone before the writer holds hundreds of
thousands of listeners. Lines are read bounded (a line over 1 MiB is an error) and numbers
are ASCII digits of at most 15 figures.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.files import folder_member
from recommender.ingest.records import (
    PROGRESS_ROWS,
    Artist,
    ArtistTag,
    Listen,
    Record,
    Rejected,
    RowsRead,
    Skipped,
)
from recommender.names import tag_key

FILES = ("artists.dat", "tags.dat", "user_artists.dat", "user_taggedartists.dat")
HEADERS = {
    "artists.dat": ["id", "name", "url", "pictureURL"],
    "tags.dat": ["tagID", "tagValue"],
    "user_artists.dat": ["userID", "artistID", "weight"],
    "user_taggedartists.dat": ["userID", "artistID", "tagID", "day", "month", "year"],
}
ENCODINGS = {"tags.dat": "latin-1"}
MAX_LINE_BYTES = 1 << 20
MAX_DIGITS = 15
BUCKET_ROWS = 2_000_000  # tagging rows counted at a time (see _Taggers.counts)


def _rows(folder: Path, name: str) -> Iterator[tuple[str, int, list[str] | str]]:
    """Yield (location, line number, fields) or (location, line number, error text)."""
    path = folder / name
    encoding = ENCODINGS.get(name, "utf-8")
    with path.open("rb") as handle:
        first = handle.readline(MAX_LINE_BYTES + 1)
        header = first.decode(encoding, errors="replace").rstrip("\r\n").split("\t")
        if header != HEADERS[name]:
            raise IngestError(
                f"{path} does not start with the HetRec header {' '.join(HEADERS[name])}: "
                "point at the unpacked hetrec2011-lastfm-2k folder"
            )
        number = 1
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            location = f"{name}:{number}"
            if len(raw) > MAX_LINE_BYTES:
                raise IngestError(
                    f"{path}:{number} is longer than {MAX_LINE_BYTES:,} bytes: this is not "
                    "a HetRec file; point at the unpacked hetrec2011-lastfm-2k folder"
                )
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError:
                yield location, number, f"not valid {encoding} text"
                continue
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != len(HEADERS[name]):
                yield (
                    location,
                    number,
                    f"expected {len(HEADERS[name])} tab-separated fields, got {len(fields)}",
                )
                continue
            yield location, number, fields


def _positive_int(text: str) -> int | None:
    """A positive whole number written in ASCII digits (a superscript "²" is not one), of at
    most MAX_DIGITS figures."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return None
    value = int(text)
    return value if value > 0 else None


def read(folder: Path) -> Iterator[Record]:
    if not folder.is_dir():
        raise IngestError(
            f"{folder} is not a folder: point at the unpacked hetrec2011-lastfm-2k folder"
        )
    missing = [name for name in FILES if folder_member(folder, name) is None]
    if missing:
        raise IngestError(
            f"{folder} has no {', '.join(missing)}: "
            "point at the unpacked hetrec2011-lastfm-2k folder"
        )

    artist_names: dict[str, str] = {}
    for location, _, fields in _rows(folder, "artists.dat"):
        if isinstance(fields, str):
            yield Rejected(location, fields)
            continue
        artist_id, name = fields[0].strip(), fields[1].strip()
        if _positive_int(artist_id) is None or not name:
            yield Rejected(location, "artist id must be a positive integer and the name non-empty")
            continue
        if artist_id in artist_names:
            yield Rejected(location, f"artist id {artist_id} is listed twice")
            continue
        artist_names[artist_id] = name
        yield Artist(name=name, external_id=artist_id)

    tag_names: dict[str, str] = {}
    for location, _, fields in _rows(folder, "tags.dat"):
        if isinstance(fields, str):
            yield Rejected(location, fields)
            continue
        if _positive_int(fields[0]) is None or not fields[1].strip():
            yield Rejected(location, "tag id must be a positive integer and the tag non-empty")
            continue
        tag_names[fields[0].strip()] = fields[1].strip()

    # Tag weight = how many distinct listeners gave the tag to the artist. HetRec lists some
    # tags twice under different ids ("Rock", "rock"); they are one tag here. The tags come
    # before the listens so that the tagging rows' arrays are freed before the writer holds
    # a community's listeners (Last.fm-360K: 360 MB of rows beside 359,000 listeners).
    taggers = _Taggers(list(artist_names), sorted({tag_key(t) for t in tag_names.values()}))
    for location, number, fields in _rows(folder, "user_taggedartists.dat"):
        if number % PROGRESS_ROWS == 0:
            yield RowsRead(PROGRESS_ROWS)  # a tagging row is not a record until the end
        if isinstance(fields, str):
            yield Rejected(location, fields)
            continue
        user, artist_id, tag_id = (f.strip() for f in fields[:3])
        if _positive_int(user) is None or _positive_int(artist_id) is None:
            yield Rejected(location, "user id and artist id must be positive integers")
            continue
        if tag_id not in tag_names:
            yield Rejected(location, f"tag id {tag_id} is not in tags.dat")
            continue
        if artist_id not in artist_names:
            yield Skipped(location, "tags an artist that is not in artists.dat")
            continue
        taggers.add(artist_id, tag_key(tag_names[tag_id]), user)
    for artist_id, tag, count in taggers.counts():
        yield ArtistTag(
            artist=artist_names[artist_id],
            tag=tag,
            count=count,
            artist_external_id=artist_id,
        )
    del taggers

    for location, _, fields in _rows(folder, "user_artists.dat"):
        if isinstance(fields, str):
            yield Rejected(location, fields)
            continue
        user, artist_id, weight_text = (f.strip() for f in fields)
        weight = _positive_int(weight_text)
        if _positive_int(user) is None or weight is None:
            yield Rejected(location, "user id and weight must be positive integers")
            continue
        artist_name = artist_names.get(artist_id)
        if artist_name is None:
            yield Rejected(location, f"artist id {artist_id} is not in artists.dat")
            continue
        yield Listen(artist=artist_name, listener=user, plays=weight, artist_external_id=artist_id)


class _Taggers:
    """Distinct taggers per (artist, tag), from one (pair, user) row per tagging, in the order
    each pair was first tagged."""

    def __init__(self, artists: list[str], tags: list[str]) -> None:
        self.artists = artists
        self.tags = tags
        self.artist_index = {a: i for i, a in enumerate(artists)}
        self.tag_index = {t: i for i, t in enumerate(tags)}
        self.user_index: dict[str, int] = {}
        self.pairs = array("q")
        self.users = array("i")

    def add(self, artist_id: str, tag: str, user: str) -> None:
        self.pairs.append(self.artist_index[artist_id] * len(self.tags) + self.tag_index[tag])
        self.users.append(self.user_index.setdefault(user, len(self.user_index)))

    def counts(self) -> Iterator[tuple[str, str, int]]:
        """(artist id, tag, distinct taggers) per pair, in first-tagged order.

        Memory stays bounded beside the rows themselves (12 bytes each) however many rows
        and pairs there are: the rows are sorted a bucket of pairs at a time (about
        BUCKET_ROWS rows each), each pair's count is written at its first row (4 bytes a
        row), and the pairs are yielded by walking those rows in order. Last.fm-360K's
        30 M tagging rows hold 17 M distinct pairs: sorting them at once took over 1 GB.
        """
        if not self.pairs:
            return
        import numpy as np  # only for tag files: the other readers never need it

        pairs = np.frombuffer(self.pairs, dtype=np.int64)
        users = np.frombuffer(self.users, dtype=np.int32)
        buckets = max(1, -(-len(pairs) // BUCKET_ROWS))
        bucket_of = np.empty(len(pairs), dtype=np.uint8 if buckets < 256 else np.int64)
        np.remainder(pairs, buckets, out=bucket_of, casting="unsafe")
        count_at_first = np.zeros(len(pairs), dtype=np.int32)  # 0: not a pair's first row
        for bucket in range(buckets):
            rows = np.flatnonzero(bucket_of == bucket)
            if not len(rows):
                continue
            bucket_pairs, bucket_users = pairs[rows], users[rows]
            order = np.lexsort((bucket_users, bucket_pairs))  # stable: by pair, then tagger
            rows, bucket_pairs, bucket_users = rows[order], bucket_pairs[order], bucket_users[order]
            new_pair = np.ones(len(rows), dtype=bool)
            new_pair[1:] = bucket_pairs[1:] != bucket_pairs[:-1]
            new_tagger = new_pair.copy()
            new_tagger[1:] |= bucket_users[1:] != bucket_users[:-1]
            starts = np.flatnonzero(new_pair)
            first = np.minimum.reduceat(rows, starts)
            count_at_first[first] = np.add.reduceat(new_tagger.astype(np.int32), starts)
        del bucket_of
        n_tags = len(self.tags)
        for low in range(0, len(pairs), BUCKET_ROWS):
            counts = count_at_first[low : low + BUCKET_ROWS]
            firsts = np.flatnonzero(counts)
            chunk = zip(pairs[low + firsts].tolist(), counts[firsts].tolist(), strict=True)
            for pair, count in chunk:
                yield self.artists[pair // n_tags], self.tags[pair % n_tags], count
