"""HetRec (artist-level data): familiar artists are the listener's own, the others are not.

Kept cheap: the first 150 HetRec listeners (copied byte for byte into a temporary folder), the
real artist graph built on them, and the test-only co-listening scores of `tests/fakes.py`.
The full-size run with the trained model is `bench/playlist_bench.py --hetrec PATH`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from playlists import build_playlist
from playlists.model import FAMILIAR
from recommender.graph import ArtistGraph
from recommender.interactions import load_interactions
from recommender.sources import import_path
from recommender.store import Store
from tests.fakes import FakeModel

LISTENERS = 150


def _subset(source: Path, target: Path) -> dict[str, set[int]]:
    """Copy the files, keeping only the first LISTENERS users; return each user's artists."""
    target.mkdir()
    for name in ("artists.dat", "tags.dat"):
        (target / name).write_bytes((source / name).read_bytes())
    own: dict[str, set[int]] = {}
    for name in ("user_artists.dat", "user_taggedartists.dat"):
        lines = (source / name).read_bytes().splitlines(keepends=True)
        users = sorted({int(line.split(b"\t")[0]) for line in lines[1:] if line.strip()})
        keep = set(users[:LISTENERS])
        kept = [lines[0]] + [
            ln for ln in lines[1:] if ln.strip() and int(ln.split(b"\t")[0]) in keep
        ]
        (target / name).write_bytes(b"".join(kept))
        if name == "user_artists.dat":
            for line in kept[1:]:
                user, artist = line.split(b"\t")[:2]
                own.setdefault(user.decode(), set()).add(int(artist))
    return own


@pytest.mark.realdata
def test_hetrec_kinds_respect_user_artists(hetrec_dir: Path, tmp_path: Path) -> None:
    own = _subset(hetrec_dir, tmp_path / "hetrec")
    with Store.open(tmp_path / "hetrec.db") as store:
        import_path(store, "hetrec", tmp_path / "hetrec")
        graph = ArtistGraph.build(load_interactions(store), seed=42)
        model = FakeModel(store, graph)
        external = dict(
            store.conn.execute(
                "SELECT artist_id, CAST(external_id AS INTEGER) FROM artist_external_ids"
                " WHERE source = 'hetrec'"
            ).fetchall()
        )
        built = 0
        for listener in sorted(own, key=lambda u: -len(own[u]))[:5]:
            playlist = build_playlist(store, listener, length=20, surprise=0.2, model=model)
            built += 1
            assert playlist.count("unexpected") == 4
            for track in playlist.tracks:
                assert track.title is None  # artist-level data: each entry is an artist
                hetrec_id = external[track.artist_id]
                if track.kind == FAMILIAR:
                    assert hetrec_id in own[listener]
                    assert track.reason.evidence["last_played_at"] is None
                else:
                    assert hetrec_id not in own[listener]
        assert built == 5
