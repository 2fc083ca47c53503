"""The listener's music folder, and where each track can be played.

`scan_folder(store, PATH)` walks PATH for audio files (MP3, FLAC, Ogg Vorbis, Opus, M4A), reads
their tags with mutagen (artist, album artist, album, title, track number, duration and the
MusicBrainz recording, release and artist ids) and keeps one `library_files` row per file with
its size and modification time. This module is the only reader and writer of that table.

A rescan is incremental: a file whose size and modification time are unchanged is not read
again. A file that is gone is deleted from the table; a new file with the size and
modification time of exactly one file that is gone is that file moved (or renamed), and keeps
its row and match without being read. A file mutagen cannot read is kept with the reason
(`error`), listed by `library_status`, and not read again until it changes.

Matching a file to a track of the store, in this order (the first that finds a track wins):

1. `mbid`: the file's recording MBID (`musicbrainz_trackid`, which Picard writes) is a
   track's `tracks.mbid`;
2. `artist`: the name keys (`recommender.names.name_key`) of the file's artist and title are
   those of a track's artist and title;
3. `album_artist`: the same with the file's album artist (compilations tag the performer as
   artist, some players only the album artist).

A name match is refused when the file and the track carry different recording MBIDs (they are
different recordings of one title). Files not matched are matched again at every scan, so
after importing more history `library rescan` finds their tracks.

`locate_tracks(store, track_ids)` answers where tracks can be played: the file (one that
still exists, an MBID match first), the Spotify track URI, the recording MBID (the store's,
else the file's), with album, release and artist MBIDs and ISRC.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recommender.errors import LibraryError
from recommender.names import name_key
from recommender.store import Store, utc_now
from recommender.terms import PLAYABLE_KINDS, PLAYABLE_OFF

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a"})
LOCAL, SPOTIFY, MUSICBRAINZ, ANY = PLAYABLE_KINDS
MB_RECORDING_URL = "https://musicbrainz.org/recording/"
SPOTIFY_TRACK_URI = "spotify:track:"
PROGRESS_EVERY = 2000  # files between two progress reports
_IN_CHUNK = 500

Progress = Callable[[str, int, int], None]  # (stage, done, total: 0 when not known yet)


# Where a track can be played --------------------------------------------------------------


@dataclass(frozen=True)
class Locations:
    """What identifies a track outside the store and where it can be played (None: unknown).

    `album`, `track_number` and `release_mbid` describe the album of the file when the file
    tags one (`track_number` is the track's place on that album, never the playlist's).
    """

    file: str | None = None  # absolute path of its file in the music folder
    spotify_uri: str | None = None  # spotify:track:<id>
    recording_mbid: str | None = None
    release_mbid: str | None = None
    artist_mbid: str | None = None
    isrc: str | None = None
    album: str | None = None
    track_number: int | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of location this track resolves to, of local, spotify and musicbrainz."""
        found = (
            (LOCAL, self.file),
            (SPOTIFY, self.spotify_uri),
            (MUSICBRAINZ, self.recording_mbid),
        )
        return tuple(kind for kind, value in found if value)

    def resolves_to(self, playable: str) -> bool:
        """Whether the track can be played as `playable` asks (a `Terms.playable` value)."""
        if playable == PLAYABLE_OFF:
            return True
        if playable == ANY:
            return bool(self.kinds)
        return playable in self.kinds

    @property
    def recording_url(self) -> str | None:
        """The MusicBrainz page of the recording."""
        return MB_RECORDING_URL + self.recording_mbid if self.recording_mbid else None

    @property
    def spotify_url(self) -> str | None:
        """The Spotify web player's page of the track."""
        uri = self.spotify_uri
        if not uri or not uri.startswith(SPOTIFY_TRACK_URI):
            return None
        return "https://open.spotify.com/track/" + uri[len(SPOTIFY_TRACK_URI) :]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Locations:
        number = data.get("track_number")
        return cls(
            **{k: data.get(k) for k in _TEXT_FIELDS},
            track_number=None if number is None else int(number),
        )


NOWHERE = Locations()
_TEXT_FIELDS = (
    "file",
    "spotify_uri",
    "recording_mbid",
    "release_mbid",
    "artist_mbid",
    "isrc",
    "album",
)


@dataclass(frozen=True)
class PlayableSet:
    """The tracks of the store that resolve to one kind of location, and their artists."""

    playable: str
    tracks: frozenset[int]
    artists: frozenset[int]


def playable_tracks(store: Store, playable: str) -> PlayableSet | None:
    """Every track that `Locations.resolves_to(playable)` (None when `playable` is off), found
    in bulk by the same rule: a matched file that still exists (local), a Spotify URI, a
    recording MBID on the track or on its MBID-tagged file (musicbrainz), any of them (any).

    Bounded by the catalogue and the music folder: one query per kind of location, and one
    `stat` per matched file for local and any.
    """
    if playable == PLAYABLE_OFF:
        return None
    kinds = (LOCAL, SPOTIFY, MUSICBRAINZ) if playable == ANY else (playable,)
    conn = store.conn

    def with_file(sql: str) -> set[int]:  # (track id, path) rows whose file still exists
        return {int(t) for t, path in conn.execute(sql) if os.path.isfile(path)}

    tracks: set[int] = set()
    if LOCAL in kinds:
        tracks |= with_file(
            "SELECT track_id, path FROM library_files WHERE track_id IS NOT NULL AND error IS NULL"
        )
    if SPOTIFY in kinds:
        tracks |= {int(t) for (t,) in conn.execute("SELECT id FROM tracks WHERE spotify_uri != ''")}
    if MUSICBRAINZ in kinds:
        tracks |= {int(t) for (t,) in conn.execute("SELECT id FROM tracks WHERE mbid != ''")}
        # The file's recording MBID stands in for the track's (see `_locations`): an existing
        # file tagged with one is chosen before the others.
        tracks |= with_file(
            "SELECT f.track_id, f.path FROM library_files f JOIN tracks t ON t.id = f.track_id"
            " WHERE f.error IS NULL AND f.recording_mbid IS NOT NULL AND t.mbid IS NULL"
        )
    artists = {
        int(r["artist_id"])
        for r in store.rows_in("tracks", "id", sorted(tracks), select="artist_id")
    }
    return PlayableSet(playable, frozenset(tracks), frozenset(artists))


def locate_tracks(store: Store, track_ids: Collection[int]) -> dict[int, Locations]:
    """Where each of `track_ids` can be played (ids not in the store are left out).

    Of several files matched to one track, the first that still exists wins: an MBID match,
    then a file tagged with a recording MBID, then by path.
    """
    wanted = sorted({int(t) for t in track_ids})
    files: dict[int, list[dict[str, Any]]] = {}
    for row in store.rows_in(
        "library_files",
        "track_id",
        wanted,
        where="error IS NULL",
        select="track_id, path, album, track_number, recording_mbid, release_mbid, "
        "artist_mbid, matched_by",
    ):
        files.setdefault(int(row["track_id"]), []).append(row)
    out: dict[int, Locations] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        marks = ",".join("?" for _ in chunk)
        for row in store.query(
            "SELECT t.id, t.album, t.mbid, t.release_mbid, t.spotify_uri, t.isrc,"
            " a.mbid AS artist_mbid FROM tracks t JOIN artists a ON a.id = t.artist_id"
            f" WHERE t.id IN ({marks})",
            chunk,
        ):
            track_id = int(row["id"])
            out[track_id] = _locations(row, _existing(files.get(track_id, [])))
    return out


def _existing(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    # An MBID match first, then a file that carries a recording MBID, then by path.
    rows.sort(key=lambda r: (r["matched_by"] != "mbid", r["recording_mbid"] is None, r["path"]))
    return next((r for r in rows if os.path.isfile(r["path"])), None)


def _locations(track: Mapping[str, Any], file: Mapping[str, Any] | None) -> Locations:
    if file is None:
        return Locations(
            spotify_uri=track["spotify_uri"],
            recording_mbid=track["mbid"],
            release_mbid=track["release_mbid"],
            artist_mbid=track["artist_mbid"],
            isrc=track["isrc"],
            album=track["album"],
        )
    # The file's own album (and its place on it) when it tags one.
    own_album = file["album"] is not None
    return Locations(
        file=str(file["path"]),
        spotify_uri=track["spotify_uri"],
        recording_mbid=track["mbid"] or file["recording_mbid"],
        release_mbid=(file["release_mbid"] if own_album else None) or track["release_mbid"],
        artist_mbid=track["artist_mbid"] or file["artist_mbid"],
        isrc=track["isrc"],
        album=file["album"] if own_album else track["album"],
        track_number=file["track_number"] if own_album else None,
    )


# Reading one file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileTags:
    """What the scan keeps from one audio file's tags (None: not tagged)."""

    artist: str | None = None
    album_artist: str | None = None
    album: str | None = None
    title: str | None = None
    track_number: int | None = None
    duration_ms: int | None = None
    recording_mbid: str | None = None
    release_mbid: str | None = None
    artist_mbid: str | None = None


class UnreadableAudio(LibraryError):
    """One audio file that mutagen cannot read (kept and listed, never raised to the user)."""


_NUMBER = re.compile(r"\s*(\d+)")
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def read_tags(path: str) -> FileTags:
    """The tags of the audio file at `path` (raises UnreadableAudio, saying why)."""
    import mutagen  # here: only a scan needs it

    try:
        audio = mutagen.File(path, easy=True)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        raise UnreadableAudio(f"not a readable audio file ({type(exc).__name__}: {exc})") from exc
    if audio is None:
        raise UnreadableAudio("not an audio format mutagen knows")
    tags: Mapping[str, Any] = audio.tags if audio.tags is not None else {}

    def first(key: str) -> str | None:
        try:
            values = tags.get(key)
        except (KeyError, ValueError):  # an easy-tag mapping that cannot render this key
            return None
        if not values:
            return None
        value = str(values[0] if isinstance(values, list) else values).strip()
        return value or None

    def mbid(key: str) -> str | None:
        value = first(key)
        return value.lower() if value and _MBID.match(value.lower()) else None

    number = _NUMBER.match(first("tracknumber") or "")
    length = getattr(audio.info, "length", None)
    return FileTags(
        artist=first("artist"),
        album_artist=first("albumartist"),
        album=first("album"),
        title=first("title"),
        track_number=int(number.group(1)) if number else None,
        duration_ms=round(length * 1000) if length else None,
        recording_mbid=mbid("musicbrainz_trackid"),
        release_mbid=mbid("musicbrainz_albumid"),
        artist_mbid=mbid("musicbrainz_artistid"),
    )


# Scanning ------------------------------------------------------------------------------------


@dataclass
class ScanReport:
    """What one scan of a folder found and changed."""

    folder: str
    files: int = 0  # audio files found
    read: int = 0  # new or changed files whose tags were read
    unchanged: int = 0  # same size and modification time: not read again
    moved: int = 0  # found under a new path, recognised without reading
    deleted: int = 0  # gone since the last scan
    unreadable: int = 0  # of those read, how many mutagen could not read
    matched: int = 0  # files under the folder matched to a track after the scan
    newly_matched: int = 0  # of those, matched by this scan
    skipped_folders: list[str] = field(default_factory=list)  # could not be listed
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Found:
    path: str
    size: int
    mtime_ns: int


def scan_folder(
    store: Store,
    folder: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    reader: Callable[[str], FileTags] = read_tags,
) -> ScanReport:
    """Scan `folder` for audio files (incrementally, see the module docstring) and match them
    to tracks; the changes land in one transaction. Raises LibraryError for a missing folder."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise LibraryError(f"{folder} is not a folder: pass the folder that holds your music files")
    root = root.resolve()
    started = time.perf_counter()
    report = ScanReport(folder=str(root))
    known = {r["path"]: r for r in _rows_under(store, root)}
    found: list[_Found] = []
    for entry in _walk(root, report.skipped_folders):
        found.append(entry)
        if progress is not None and len(found) % PROGRESS_EVERY == 0:
            progress("listed", len(found), 0)
    report.files = len(found)
    seen = {f.path for f in found}
    gone = [row for path, row in known.items() if path not in seen]
    to_read: list[_Found] = []
    fresh: list[_Found] = []
    for f in found:
        row = known.get(f.path)
        if row is None:
            fresh.append(f)
        elif row["size"] == f.size and row["mtime_ns"] == f.mtime_ns:
            report.unchanged += 1
        else:
            to_read.append(f)
    moves = _moves(fresh, gone)
    report.moved = len(moves)
    to_read.extend(f for f in fresh if f.path not in moves)
    to_read.sort(key=lambda f: f.path)

    rows = []
    for done, f in enumerate(to_read, start=1):
        rows.append(_row(f, str(root), reader))
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress("read", done, len(to_read))
    report.read = len(rows)
    report.unreadable = sum(1 for r in rows if r["error"] is not None)
    moved_ids = {int(row["id"]) for row in moves.values()}
    deleted = [int(row["id"]) for row in gone if int(row["id"]) not in moved_ids]
    report.deleted = len(deleted)
    with store.transaction() as conn:
        conn.executemany("DELETE FROM library_files WHERE id = ?", [(i,) for i in deleted])
        conn.executemany(
            "UPDATE library_files SET path = ?, folder = ?, scanned_at = ? WHERE id = ?",
            [(path, str(root), utc_now(), int(row["id"])) for path, row in moves.items()],
        )
        if rows:
            store.db.table("library_files").upsert_all(rows, pk="path", alter=False)
        report.newly_matched = match_files(store)
    report.matched = _matched_under(store, root)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def rescan(store: Store, *, progress: Progress | None = None) -> list[ScanReport]:
    """Scan again every folder scanned before (a folder that no longer exists raises
    LibraryError, so that an unmounted drive never reads as every file deleted)."""
    folders = [str(r[0]) for r in store.conn.execute(_FOLDERS)]
    if not folders:
        raise LibraryError("no music folder yet: add one with `tastemaker library add PATH`")
    for folder in folders:
        if not Path(folder).is_dir():
            raise LibraryError(
                f"the music folder {folder} is not there (an unmounted drive?): mount it, or "
                f"forget its files with `tastemaker library remove {folder}`"
            )
    return [scan_folder(store, folder, progress=progress) for folder in folders]


_FOLDERS = "SELECT DISTINCT folder FROM library_files ORDER BY folder"


def remove_folder(store: Store, folder: str | os.PathLike[str]) -> int:
    """Forget every file under `folder` (which need not exist any more); returns how many."""
    root = Path(folder).expanduser().absolute()
    low, high = _under(root)
    with store.transaction() as conn:
        removed = conn.execute(
            "DELETE FROM library_files WHERE folder = ? OR (path >= ? AND path < ?)",
            (str(root), low, high),
        ).rowcount
    if not removed:
        known = ", ".join(str(r[0]) for r in store.conn.execute(_FOLDERS)) or "none yet"
        raise LibraryError(f"no file of the music folder is under {folder} (folders: {known})")
    return int(removed)


def _walk(root: Path, skipped: list[str]) -> Iterator[_Found]:
    """Every audio file under `root`, depth first in name order; folders reached through a
    symbolic link are not entered (they could loop)."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(f"{folder}: {exc.strerror or exc}")
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in AUDIO_SUFFIXES and entry.is_file():
                    stat = entry.stat()
                    yield _Found(entry.path, stat.st_size, stat.st_mtime_ns)
            except OSError as exc:
                skipped.append(f"{entry.path}: {exc.strerror or exc}")
        stack.extend(reversed(subfolders))


def _moves(fresh: Sequence[_Found], gone: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """New paths that are files gone from another path: the same size and modification time,
    and no other new or gone file has them (an ambiguous pair is read again instead)."""
    gone_by: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in gone:
        gone_by.setdefault((int(row["size"]), int(row["mtime_ns"])), []).append(row)
    fresh_by: dict[tuple[int, int], list[_Found]] = {}
    for f in fresh:
        fresh_by.setdefault((f.size, f.mtime_ns), []).append(f)
    return {
        news[0].path: olds[0]
        for key, news in fresh_by.items()
        if len(news) == 1 and len(olds := gone_by.get(key, [])) == 1
    }


def _row(found: _Found, folder: str, reader: Callable[[str], FileTags]) -> dict[str, Any]:
    error = None
    try:
        tags = reader(found.path)
    except UnreadableAudio as exc:
        tags, error = FileTags(), str(exc)
    return {
        "path": found.path,
        "folder": folder,
        "size": found.size,
        "mtime_ns": found.mtime_ns,
        **asdict(tags),
        "artist_key": _key(tags.artist),
        "album_artist_key": _key(tags.album_artist),
        "title_key": _key(tags.title),
        "track_id": None,
        "matched_by": None,
        "error": error,
        "scanned_at": utc_now(),
    }


def _key(name: str | None) -> str | None:
    return name_key(name) if name else None


def _under(root: Path) -> tuple[str, str]:
    """The range of paths inside `root`: every path starting with root + separator, as an
    interval (an index range, unlike LIKE, needs no escaping of `%` and `_`)."""
    prefix = str(root).rstrip(os.sep) + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)


def _rows_under(store: Store, root: Path) -> Iterator[dict[str, Any]]:
    low, high = _under(root)
    return store.db.query(
        "SELECT id, path, size, mtime_ns FROM library_files WHERE path >= ? AND path < ?",
        [low, high],
    )


def _matched_under(store: Store, root: Path) -> int:
    low, high = _under(root)
    return int(
        store.conn.execute(
            "SELECT count(*) FROM library_files WHERE path >= ? AND path < ?"
            " AND track_id IS NOT NULL",
            (low, high),
        ).fetchone()[0]
    )


# Matching (see the module docstring for the order) -----------------------------------------

_UNMATCHED = "library_files.track_id IS NULL AND library_files.error IS NULL"
_BY_MBID = "SELECT t.id FROM tracks t WHERE t.mbid = library_files.recording_mbid"
# A name match is refused when both sides carry a recording MBID: they differ, or the MBID
# step would have matched them.
_BY_NAMES = (
    "SELECT t.id FROM tracks t JOIN artists a ON a.id = t.artist_id"
    " WHERE a.key = library_files.{column} AND t.key = library_files.title_key"
    " AND (library_files.recording_mbid IS NULL OR t.mbid IS NULL)"
)
_MATCH_STEPS = (
    ("mbid", _BY_MBID, "library_files.recording_mbid IS NOT NULL"),
    ("artist", _BY_NAMES.format(column="artist_key"), "library_files.artist_key IS NOT NULL"),
    (
        "album_artist",
        _BY_NAMES.format(column="album_artist_key"),
        "library_files.album_artist_key IS NOT NULL",
    ),
)


def match_files(store: Store) -> int:
    """Match every readable file not matched yet to a track; returns how many were matched.
    Runs in the caller's transaction, or in its own."""
    if not store.conn.in_transaction:
        with store.transaction():
            return match_files(store)
    matched = 0
    for name, subquery, has_key in _MATCH_STEPS:
        matched += store.conn.execute(
            f"UPDATE library_files SET track_id = ({subquery} ORDER BY t.id LIMIT 1),"
            f" matched_by = ? WHERE {_UNMATCHED} AND {has_key} AND EXISTS ({subquery})",
            (name,),
        ).rowcount
    return matched


# Status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    error: str


@dataclass(frozen=True)
class LibraryStatus:
    """What `library status` prints: the folders, files, matches and unreadable files."""

    folders: tuple[str, ...]
    files: int
    matched_files: int
    matched_tracks: int  # distinct tracks of the store with a file
    matched_by: Mapping[str, int]  # files per matching rule (mbid, artist, album_artist)
    unmatched: int  # readable files matched to no track
    unreadable: tuple[UnreadableFile, ...]  # every one, by path

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "matched_by": dict(self.matched_by),
            "unreadable": [asdict(u) for u in self.unreadable],
        }


def library_status(store: Store) -> LibraryStatus:
    """Counts of the music folder's files, their matches, and every unreadable file."""
    conn = store.conn
    files, matched, tracks, unmatched = conn.execute(
        "SELECT count(*), count(track_id), count(DISTINCT track_id),"
        " sum(track_id IS NULL AND error IS NULL) FROM library_files"
    ).fetchone()
    by = {
        str(k): int(n)
        for k, n in conn.execute(
            "SELECT matched_by, count(*) FROM library_files WHERE matched_by IS NOT NULL"
            " GROUP BY matched_by ORDER BY matched_by"
        )
    }
    unreadable = tuple(
        UnreadableFile(str(p), str(e))
        for p, e in conn.execute(
            "SELECT path, error FROM library_files WHERE error IS NOT NULL ORDER BY path"
        )
    )
    return LibraryStatus(
        folders=tuple(str(r[0]) for r in conn.execute(_FOLDERS)),
        files=int(files),
        matched_files=int(matched),
        matched_tracks=int(tracks),
        matched_by=by,
        unmatched=int(unmatched or 0),
        unreadable=unreadable,
    )
