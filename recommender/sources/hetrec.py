"""Reader for the HetRec 2011 Last.fm 2k folder.

Artist-level data: `user_artists.dat` gives each listener's play count per artist (no times),
`user_taggedartists.dat` gives who tagged which artist with what. Listeners are named by their
HetRec user id ("2"). The friends list is deliberately not read: who someone knows is not a
signal about what they like, and it identifies people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from recommender.errors import IngestError
from recommender.ingest.records import Artist, ArtistTag, Listen, Record, Rejected, Skipped
from recommender.names import tag_key

FILES = ("artists.dat", "tags.dat", "user_artists.dat", "user_taggedartists.dat")
HEADERS = {
    "artists.dat": ["id", "name", "url", "pictureURL"],
    "tags.dat": ["tagID", "tagValue"],
    "user_artists.dat": ["userID", "artistID", "weight"],
    "user_taggedartists.dat": ["userID", "artistID", "tagID", "day", "month", "year"],
}
ENCODINGS = {"tags.dat": "latin-1"}


def _rows(folder: Path, name: str) -> Iterator[tuple[str, int, list[str] | str]]:
    """Yield (location, line number, fields) or (location, line number, error text)."""
    path = folder / name
    encoding = ENCODINGS.get(name, "utf-8")
    with path.open("rb") as handle:
        header = handle.readline().decode(encoding, errors="replace").rstrip("\r\n").split("\t")
        if header != HEADERS[name]:
            raise IngestError(
                f"{path} does not start with the HetRec header {' '.join(HEADERS[name])}: "
                "point at the unpacked hetrec2011-lastfm-2k folder"
            )
        for number, raw in enumerate(handle, start=2):
            location = f"{name}:{number}"
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
    text = text.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if value > 0 else None


def read(folder: Path) -> Iterator[Record]:
    if not folder.is_dir():
        raise IngestError(
            f"{folder} is not a folder: point at the unpacked hetrec2011-lastfm-2k folder"
        )
    missing = [name for name in FILES if not (folder / name).is_file()]
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

    # Tag weight = how many distinct listeners gave the tag to the artist. HetRec lists some
    # tags twice under different ids ("Rock", "rock"); they are one tag here.
    taggers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for location, _, fields in _rows(folder, "user_taggedartists.dat"):
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
        taggers[(artist_id, tag_key(tag_names[tag_id]))].add(user)
    for (artist_id, tag), users in taggers.items():
        yield ArtistTag(
            artist=artist_names[artist_id],
            tag=tag,
            count=len(users),
            artist_external_id=artist_id,
        )
