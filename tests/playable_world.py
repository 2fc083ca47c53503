"""The demo world with a music folder of real audio files and the identifiers readers keep,
trained once per session (the `playable_world` fixture in conftest.py).

Seven tracks in ten have a file (an Ogg tone tagged by mutagen) under a folder whose name has a
space, `&` and a non-ASCII letter; every fourth of those is named with a leading `#` and a `%`
(`#12 Title & 100%.ogg`), which only a file URI carries safely through M3U8. The demo world
has no Spotify URIs or MBIDs: every third track gets a Spotify URI and every second a recording
MBID, set on the tracks as a reader would leave them (the readers have their own tests).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from recommender.library import scan_folder
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import TrainedModel, train
from tests.audio_files import tagged, tone


def has_file(track_id: int) -> bool:
    return track_id % 10 < 7


def file_name(track_id: int, title: str) -> str:
    if track_id % 4 == 0:
        return f"#{track_id} {title} & 100%.ogg"
    return f"{track_id % 12 + 1:02d} {title}.ogg"


def make_world(root: Path) -> tuple[Path, Path, TrainedModel]:
    db, music = root / "t.db", root / "Music & More é"
    template = tone(root, ".ogg", 0.2)
    with Store.open(db) as store:
        import_path(store, "demo", demo_dir())
        rows = store.conn.execute(
            "SELECT t.id, a.name, t.title, t.album FROM tracks t JOIN artists a"
            " ON a.id = t.artist_id ORDER BY t.id"
        ).fetchall()
        for track_id, artist, title, album in rows:
            if has_file(track_id):
                tagged(
                    template,
                    music / artist / album / file_name(track_id, title),
                    {"artist": artist, "title": title, "album": album},
                )
        store.conn.execute(
            "UPDATE tracks SET spotify_uri = 'spotify:track:' || printf('%022d', id)"
            " WHERE id % 3 = 0"
        )
        for (track_id,) in store.conn.execute("SELECT id FROM tracks WHERE id % 2 = 0").fetchall():
            store.conn.execute(
                "UPDATE tracks SET mbid = ? WHERE id = ?", (str(uuid.UUID(int=track_id)), track_id)
            )
        scan_folder(store, music)
        model = train(store, num_threads=1)
    return db, music, model
