"""Playlists you can press play on, over the trained demo world and a music folder of real
files: `--playable` keeps the mix rules or says why not, lists what it could not resolve, and
every output (JSON, explain, export-data, JSPF for ListenBrainz, the curator page) says where
each track can be played.

The demo world has no Spotify URIs or MBIDs; the readers that fill them are tested with the
readers, so here they are set directly on the tracks, as a reader would leave them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from click.testing import CliRunner

from playlists import build_playlist, load_playlist, render_report
from playlists.cli import main
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected
from playlists.export import parse_m3u8, to_jspf
from playlists.model import UNEXPECTED, Playlist
from recommender.store import Store
from recommender.terms_storage import update_terms
from recommender.training import TrainedModel
from tests.listenbrainz_rules import problems
from tests.playable_world import has_file

LISTENER = "listener-013"


World = tuple[Path, Path, TrainedModel]


@pytest.fixture
def world(playable_world: World) -> World:
    return playable_world


def _build(world: World, **kwargs: Any) -> Playlist:
    db, _, model = world
    with Store.open(db) as store:
        return build_playlist(store, LISTENER, model=model, **kwargs)


@pytest.mark.parametrize("playable", ["local", "spotify", "musicbrainz", "any"])
def test_only_tracks_playable_as_asked_and_the_mix_holds(world: World, playable: str) -> None:
    playlist = _build(world, length=20, surprise=0.2, playable=playable)
    assert len(playlist.tracks) == 20
    assert all(t.locations.resolves_to(playable) for t in playlist.tracks)
    assert sum(t.kind == UNEXPECTED for t in playlist.tracks) == 4
    assert max(Counter(t.artist_id for t in playlist.tracks).values()) <= 2
    assert playlist.terms["playable"] == playable and playlist.terms["unplayable"] > 0
    unfiltered = _build(world, length=20, surprise=0.2)
    assert unfiltered.terms["unplayable"] == 0
    assert any(n.startswith(f"Playable as {playable}: ") for n in playlist.notes)


def test_what_could_not_be_resolved_is_named(world: World) -> None:
    unfiltered = _build(world, length=20, surprise=0.2)
    missing = [t for t in unfiltered.tracks if not t.locations.resolves_to("local")]
    assert missing, "the demo folder leaves some tracks without a file"
    playlist = _build(world, length=20, surprise=0.2, playable="local")
    (note,) = [n for n in playlist.notes if "would have been on this playlist" in n]
    assert note.startswith(f"{len(missing)} tracks that would have been")
    for track in missing:
        assert f"{track.artist} - {track.title}" in note


def test_every_track_says_where_it_is_without_a_filter(world: World) -> None:
    playlist = _build(world, length=20)
    assert not any(n.startswith("Playable as") for n in playlist.notes)
    for t in playlist.tracks:
        assert t.track_id is not None
        assert (t.locations.file is not None) == has_file(t.track_id)
        assert (t.locations.spotify_uri is not None) == (t.track_id % 3 == 0)


def test_too_few_playable_tracks_say_how_many_and_why(world: World) -> None:
    db, _, model = world
    with Store.open(db) as store:
        store.conn.execute("UPDATE tracks SET spotify_uri = NULL WHERE id % 30 != 0")
        try:
            with pytest.raises((NotEnoughCandidates, NotEnoughUnexpected)) as caught:
                build_playlist(store, LISTENER, model=model, length=30, playable="spotify")
        finally:
            store.conn.execute(
                "UPDATE tracks SET spotify_uri = 'spotify:track:' || printf('%022d', id)"
                " WHERE id % 3 = 0"
            )
    message = str(caught.value)
    assert "; --playable spotify left out artists and tracks with no Spotify link (" in message
    assert " familiar, " in message and "import a Spotify history" in message


def test_the_term_is_stored_and_a_run_overrides_it(world: World) -> None:
    db, _, model = world
    with Store.open(db) as store:
        update_terms(store, LISTENER, playable="local")
        try:
            stored = build_playlist(store, LISTENER, model=model, length=10)
            overridden = build_playlist(store, LISTENER, model=model, length=10, playable="off")
        finally:
            update_terms(store, LISTENER, playable="off")
    assert all(t.locations.file for t in stored.tracks)
    assert stored.terms["playable"] == "local"
    assert overridden.terms["playable"] == "off" and "playable" in overridden.terms["overridden"]


def test_a_jspf_with_mbids_passes_listenbrainz_import_rules(world: World) -> None:
    playable = json.loads(to_jspf(_build(world, length=15, playable="musicbrainz")))
    assert problems(playable) == []
    # The rules are not vacuous: tracks without MBIDs, or created_for, are refused.
    assert any("track" in p for p in problems(json.loads(to_jspf(_build(world, length=15)))))
    for_someone = to_jspf(_build(world, length=15, playable="musicbrainz"), created_for="bob")
    assert problems(json.loads(for_someone)) == [
        "created_for is refused (403) unless the submitter is an approved bot"
    ]
    assert problems(json.loads(for_someone), approved_bot=True) == []


def _cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    return result.exit_code, result.output


def test_cli_m3u8_paths_relative_below_the_playlist_else_absolute(
    world: World, tmp_path: Path
) -> None:
    db, music, _ = world
    beside, elsewhere = music / "tonight.m3u8", tmp_path / "tonight.m3u8"
    for target in (beside, elsewhere):
        code, out = _cli(
            db, "playlist", "--listener", LISTENER, "--length", "12", "--playable", "local",
            "--format", "m3u8", "-o", str(target),
        )  # fmt: skip
        assert code == 0, out
    beside_lines = [ln for ln in beside.read_text("utf-8").splitlines() if ln[:1] != "#"]
    absolute = [ln for ln in elsewhere.read_text("utf-8").splitlines() if ln[:1] != "#"]
    assert len(beside_lines) == len(absolute) == 12
    # Below the playlist: relative paths, except where '#' or '%' need the file URI.
    relative = [ln for ln in beside_lines if not ln.startswith("file://")]
    assert relative and all(not ln.startswith("/") and (music / ln).is_file() for ln in relative)
    for line in absolute:
        assert line.startswith(str(music) + "/") or line.startswith("file://")
    uris = [ln for ln in beside_lines if ln.startswith("file://")]
    assert all("%23" in ln and "%25" in ln for ln in uris)
    for entry in parse_m3u8(beside.read_text("utf-8"), beside.parent).entries:
        assert Path(entry.location).is_file()


def _saved(store: Store, world: World) -> str:
    _, _, model = world
    playlist = build_playlist(store, LISTENER, model=model, length=10, save=True)
    return playlist.id


def test_explain_json_and_export_data_show_identifiers(world: World, tmp_path: Path) -> None:
    db, _, _ = world
    code, out = _cli(db, "playlist", "--listener", LISTENER, "--length", "10", "--format", "json")
    assert code == 0, out
    built = json.loads(out)
    code, out = _cli(db, "explain", built["id"], "--json")
    assert code == 0
    explained = json.loads(out)
    assert explained["tracks"] == built["tracks"]
    for t in explained["tracks"]:
        assert set(t["locations"]) >= {"file", "spotify_uri", "recording_mbid", "album"}
        assert (t["locations"]["recording_mbid"] is not None) == (t["track_id"] % 2 == 0)
    target = tmp_path / "me.json"
    code, out = _cli(db, "export-data", "--listener", LISTENER, "-o", str(target))
    assert code == 0, out
    listens = json.loads(target.read_text(encoding="utf-8"))["listens"]
    assert {"release_mbid", "spotify_uri", "isrc", "track_mbid"} <= set(listens[0])
    assert any(row["spotify_uri"] for row in listens)


def test_curator_page_shows_where_to_play(world: World) -> None:
    db, _, _ = world
    with Store.open(db) as store:
        playlist_id = _saved(store, world)
        page = render_report(store, playlist_id)
        tracks = load_playlist(store, playlist_id).tracks
    for t in tracks:
        if t.locations.file:
            folder, name = t.locations.file.rsplit("/", 1)
            assert f'title="{_html(t.locations.file)}"' in page
            assert f"<code>{_html(name)}</code>" in page and f"in {_html(folder)}" in page
        if t.locations.recording_url:
            assert f'href="{t.locations.recording_url}"' in page
        if t.locations.spotify_url:
            assert f'href="{t.locations.spotify_url}"' in page
    assert any(t.locations.file for t in tracks) and any(t.locations.spotify_url for t in tracks)
    rows = {int(r.split('"', 1)[0]): r for r in page.split('id="track-')[1:]}
    for t in tracks:
        assert ('<span class="none">not playable here</span>' in rows[t.position]) == (
            not t.locations.kinds
        )
    assert 'id="not-playable"' not in page


def _html(text: str) -> str:
    return str(markupsafe.escape(text))


def test_cli_library_and_terms(world: World, tmp_path: Path) -> None:
    db, music, _ = world
    for command in ("add", "rescan", "remove", "status"):
        code, out = _cli(db, "library", command, "--help")
        assert code == 0 and "Usage" in out
    code, out = _cli(db, "library", "add", str(music))
    assert code == 0 and "0 read" in out and "unchanged" in out
    code, out = _cli(db, "library", "status", "--json")
    assert code == 0
    status = json.loads(out)
    assert status["files"] == status["matched_files"] > 1000 and status["unreadable"] == []
    code, out = _cli(db, "library", "status")
    assert code == 0 and "matched to" in out
    code, out = _cli(db, "library", "add", str(tmp_path / "nope"))
    assert code == 1 and out.startswith("Error: ") and "Traceback" not in out
    code, out = _cli(db, "terms", "--listener", LISTENER, "--playable", "spotify")
    assert code == 0
    code, out = _cli(db, "terms", "--listener", LISTENER, "--json")
    assert json.loads(out)["terms"]["playable"]["value"] == "spotify"
    code, out = _cli(db, "terms", "--listener", LISTENER, "--playable", "off")
    code, out = _cli(db, "terms", "--listener", LISTENER, "--playable", "vinyl")
    assert code == 2 and "vinyl" in out


def test_cli_jspf_warns_before_listenbrainz_would_refuse(world: World, tmp_path: Path) -> None:
    db, _, _ = world
    target = tmp_path / "lb.jspf"
    base = ["--db", str(db), "playlist", "--listener", LISTENER, "--length", "8", "--format"]
    result = CliRunner().invoke(main, [*base, "jspf", "-o", str(target)])
    assert result.exit_code == 0
    assert "ListenBrainz refuses" in result.stderr and "--playable musicbrainz" in result.stderr
    result = CliRunner().invoke(
        main,
        [*base, "jspf", "-o", str(target), "--playable", "musicbrainz", "--created-for", "bob"],
    )
    assert result.exit_code == 0 and "ListenBrainz refuses" not in result.stderr
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert (
        doc["playlist"]["extension"]["https://musicbrainz.org/doc/jspf#playlist"]["created_for"]
        == "bob"
    )
    assert problems(doc, approved_bot=True) == []
