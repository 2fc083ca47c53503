"""What format a file looks like, for the error when it is not the format it was named as.

A look at names and the first few KiB only: good enough to say "this looks like a Last.fm
CSV: run `tastemaker import lastfm FILE`", never used to choose a reader on its own.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from recommender.ingest.files import folder_files
from recommender.sources._common import binary_kind

_SPOTIFY_FILE = re.compile(r"(Streaming_History_|endsong_|StreamingHistory)[^/]*\.json$", re.I)
_LB_FILE = re.compile(r"(^|/)(user\.json|listens/\d{4}/\d{1,2}\.jsonl)$")
_JSON_KEYS = (
    ('"tastemaker-export"', "tastemaker"),
    ('"master_metadata_track_name"', "spotify"),
    ('"ms_played"', "spotify"),
    ('"endTime"', "spotify"),
    ('"msPlayed"', "spotify"),
    ('"track_metadata"', "listenbrainz"),
    ('"listened_at"', "listenbrainz"),
)


def _from_names(names: list[str]) -> str | None:
    if any(_LB_FILE.search(n) for n in names):
        return "listenbrainz"
    if any(_SPOTIFY_FILE.search(n) for n in names):
        return "spotify"
    base = {n.rsplit("/", 1)[-1] for n in names}
    if {"user_artists.dat", "artists.dat"} <= base:
        return "hetrec"
    if {"listens.csv.gz", "artists.csv"} <= base:
        return "demo"
    return None


def looks_like(path: Path) -> str | None:
    """The import format `path` looks like, a description when it is not text ("a PNG
    image"), or None when nothing fits."""
    try:
        if path.is_dir():
            return _from_names([name for name, _ in folder_files(path).files])
        with path.open("rb") as handle:
            head = handle.read(8192)
        if head.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                return _from_names(archive.namelist()[:1000])
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    kind = binary_kind(head)
    if kind is not None:
        return kind
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("#AUDIOSCROBBLER/"):
        return "lastfm"
    if text.startswith(("[", "{")):
        for marker, fmt in _JSON_KEYS:
            if marker in text:
                return fmt
        return None
    first = text.splitlines()[0] if text else ""
    if first.count(",") >= 2 or first.count(";") >= 2 or first.count("\t") >= 2:
        try:
            json.loads(first)
        except ValueError:
            return "lastfm"
    return None


def not_the_format(path: Path, fmt: str, detail: str) -> str:
    """The message for a file none of whose rows could be read as `fmt`."""
    guess = looks_like(path)
    if guess is None or guess == fmt:
        hint = "check that it is the export you meant, and its format"
    elif guess.startswith(("a ", "an ", "binary")):
        hint = f"it is {guess}: pass the export file itself"
    else:
        hint = f"it looks like a {guess} export: run `tastemaker import {guess} {path}`"
    return f"{path} is not a {fmt} export ({detail}); {hint}"
