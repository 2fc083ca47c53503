"""Exports: every format parses back to the same tracks and locations (Hypothesis, with paths
holding spaces, non-ASCII, `#`, `%` and `&`), hostile names never make or hide an M3U8 entry,
the JSON contract keeps its keys, JSPF and XSPF put each track where a player finds it."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.export import (
    MB_PLAYLIST,
    MB_TRACK,
    TRACK_EXTENSION,
    ExportOptions,
    PlaylistFormatError,
    listenbrainz_problem,
    parse_json,
    parse_jspf,
    parse_m3u8,
    parse_xspf,
    render,
    to_json,
    to_jspf,
    to_m3u8,
    to_table,
    to_xspf,
)
from playlists.export.locations import one_line
from playlists.export.m3u8 import entry_location
from playlists.export.records import display
from playlists.model import KINDS, Playlist, PlaylistTrack, Reason
from recommender.library import Locations

# Text an XML file can carry unchanged (no control characters, no lone surrogates).
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
# Any text at all (JSON carries it): control characters, line breaks, a leading '#'.
any_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["#1 Dads", "a\nb", "#EXTINF:1,x", "x\r\n/etc/passwd", "\x85\u2028#z"]),
)
# File names: the awkward characters often, everything else sometimes.
segment = st.one_of(
    st.text(st.sampled_from(list("ab é#%&?;:[] 'ü+\\")), min_size=1, max_size=8),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
        min_size=1,
        max_size=8,
    ),
).filter(lambda s: s not in (".", ".."))
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/music/" + "/".join(parts))
mbids = st.uuids().map(str)


def evidence(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, object]]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), text)
    return st.dictionaries(
        text.filter(bool), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4
    )


@st.composite
def locations(draw: st.DrawFn, text: st.SearchStrategy[str]) -> Locations:
    opt = st.none
    return Locations(
        file=draw(st.one_of(opt(), paths)),
        spotify_uri=draw(
            st.one_of(opt(), st.text("abcXYZ019", min_size=22, max_size=22)).map(
                lambda s: None if s is None else f"spotify:track:{s}"
            )
        ),
        recording_mbid=draw(st.one_of(opt(), mbids)),
        release_mbid=draw(st.one_of(opt(), mbids)),
        artist_mbid=draw(st.one_of(opt(), mbids)),
        isrc=draw(st.one_of(opt(), st.text("ABC123", min_size=12, max_size=12))),
        album=draw(st.one_of(opt(), text.filter(bool))),
        track_number=draw(st.one_of(opt(), st.integers(1, 99))),
    )


@st.composite
def playlists(draw: st.DrawFn, text: st.SearchStrategy[str] = xml_text) -> Playlist:
    n = draw(st.integers(min_value=0, max_value=8))
    tracks = []
    for position in range(1, n + 1):
        kind = draw(st.sampled_from(KINDS))
        has_track = draw(st.booleans())
        tracks.append(
            PlaylistTrack(
                position=position,
                artist_id=draw(st.integers(1, 10**6)),
                artist=draw(text),
                track_id=draw(st.integers(1, 10**6)) if has_track else None,
                title=draw(text) if has_track else None,
                duration_ms=draw(st.one_of(st.none(), st.integers(0, 10**7))),
                kind=kind,
                reason=Reason(kind, draw(text), draw(evidence(text))),
                locations=draw(locations(text)) if has_track else Locations(),
            )
        )
    return Playlist(
        id=draw(text),
        listener=draw(text),
        created_at="2025-10-31T23:51:40+00:00",
        params=draw(evidence(text)),
        model_id=draw(st.one_of(st.none(), text)),
        personalised=draw(st.booleans()),
        terms={**draw(evidence(text)), "playable": draw(st.sampled_from(["off", "spotify"]))},
        notes=tuple(draw(st.lists(text, max_size=3))),
        tracks=tuple(tracks),
    )


@settings(max_examples=80, deadline=None)
@given(playlists(any_text))
def test_jspf_round_trip(playlist: Playlist) -> None:
    assert parse_jspf(to_jspf(playlist)) == playlist


@settings(max_examples=80, deadline=None)
@given(playlists())
def test_xspf_round_trip(playlist: Playlist) -> None:
    assert parse_xspf(to_xspf(playlist)) == playlist


@settings(max_examples=60, deadline=None)
@given(playlists(any_text))
def test_json_round_trip(playlist: Playlist) -> None:
    assert parse_json(to_json(playlist)) == playlist


@settings(max_examples=120, deadline=None)
@given(playlists(any_text), st.sampled_from([None, Path("/music"), Path("/music/a b")]))
def test_m3u8_reads_back_every_track_where_it_was(
    playlist: Playlist, playlist_dir: Path | None
) -> None:
    """Hostile names never create or hide an entry: one entry per track with a file or a
    Spotify link, in order, at the same place; every other track is named as not playable."""
    text = to_m3u8(playlist, playlist_dir=playlist_dir)
    read = parse_m3u8(text, playlist_dir)
    playable = [t for t in playlist.tracks if t.locations.file or t.locations.spotify_uri]
    prefer_spotify = playlist.terms["playable"] == "spotify"
    expected = [
        (
            -1 if t.duration_ms is None else round(t.duration_ms / 1000),
            one_line(display(t)),
            t.locations.spotify_uri
            if t.locations.spotify_uri and (prefer_spotify or not t.locations.file)
            else t.locations.file,
        )
        for t in playable
    ]
    assert [(e.seconds, e.title, e.location) for e in read.entries] == expected
    others = [one_line(display(t)) for t in playlist.tracks if t not in playable]
    assert list(read.unplayable) == others
    # Every line that is not a comment is one of the entries: nothing else reads as a file.
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(body) == len(playable)


def _track(position: int, locations: Locations, **changes: object) -> PlaylistTrack:
    reason = Reason("familiar", "You played <Rancid> & co 42 times", {"plays": 42})
    base = PlaylistTrack(
        position, 7, 'Rancid "&" <Friends>', 3, "Roots", 181_400, "familiar", reason, locations
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _example(**terms: object) -> Playlist:
    mbid = str(uuid.UUID(int=7))
    here = _track(
        1,
        Locations(
            file="/music/Rancid/Wolves/03 Roots #1 & 100%.flac",
            spotify_uri="spotify:track:4uLU6hMCjMI75M1A2tKUQC",
            recording_mbid=mbid,
            release_mbid=str(uuid.UUID(int=8)),
            artist_mbid=str(uuid.UUID(int=9)),
            album="...And Out Come the Wolves",
            track_number=3,
        ),
    )
    only_mb = _track(
        2,
        Locations(recording_mbid=str(uuid.UUID(int=10))),
        artist="#1 Dads",
        title="So Soldier\n#EXTINF:1,injected",
    )
    bare = PlaylistTrack(
        3, 8, "Operation Ivy", None, None, None, "unexpected", Reason("unexpected", "A step", {})
    )
    return Playlist(
        "pl-1",
        "ana",
        "2025-10-31T23:51:40+00:00",
        {"surprise": 0.5},
        "m1",
        True,
        dict(terms),
        ("1 track left out",),
        (here, only_mb, bare),
    )


def test_jspf_is_what_listenbrainz_reads() -> None:
    doc = json.loads(to_jspf(_example()))["playlist"]
    assert {"title", "creator", "date", "track", "extension"} <= set(doc)
    assert doc["extension"][MB_PLAYLIST]["public"] is False
    assert "created_for" not in doc["extension"][MB_PLAYLIST]
    first, second, third = doc["track"]
    assert first["identifier"] == [f"https://musicbrainz.org/recording/{uuid.UUID(int=7)}"]
    assert first["location"] == [
        "file:///music/Rancid/Wolves/03%20Roots%20%231%20%26%20100%25.flac",
        "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
    ]
    assert first["album"] == "...And Out Come the Wolves" and first["trackNum"] == 3
    assert first["duration"] == 181_400
    assert first["annotation"] == "You played <Rancid> & co 42 times"
    assert first["extension"][MB_TRACK]["release_identifier"].endswith(str(uuid.UUID(int=8)))
    assert first["extension"][TRACK_EXTENSION]["reason"]["evidence"] == {"plays": 42}
    # trackNum is only ever the album's track number, never the playlist position.
    assert "trackNum" not in second and "location" not in second
    assert "identifier" not in third and "title" not in third
    spotify_first = json.loads(to_jspf(_example(playable="spotify")))["playlist"]["track"][0]
    assert spotify_first["location"][0].startswith("spotify:track:")


def test_created_for_only_when_asked() -> None:
    text = render(_example(), "jspf", ExportOptions(created_for="ana_on_lb"))
    assert json.loads(text)["playlist"]["extension"][MB_PLAYLIST]["created_for"] == "ana_on_lb"


def test_listenbrainz_problem_names_the_fix() -> None:
    problem = listenbrainz_problem(_example())
    assert problem is not None and problem.startswith("1 of 3 tracks")
    assert "--playable musicbrainz" in problem
    with_mbids = replace(_example(), tracks=_example().tracks[:2])
    assert listenbrainz_problem(with_mbids) is None


def test_xspf_locations_identifier_album_and_order() -> None:
    body = to_xspf(_example())
    assert "&lt;Rancid&gt; &amp; co" in body
    ns = {"x": "http://xspf.org/ns/0/"}
    root = ET.fromstring(body)
    first, second, third = root.iterfind("x:trackList/x:track", ns)
    children = [c.tag.split("}")[1] for c in first]
    assert children == [
        "location",
        "identifier",
        "title",
        "creator",
        "annotation",
        "album",
        "trackNum",
        "duration",
        "link",
        "extension",
    ]
    assert first.findtext("x:location", namespaces=ns).startswith("file:///music/Rancid/")
    assert first.findtext("x:trackNum", namespaces=ns) == "3"
    assert second.find("x:trackNum", ns) is None and second.find("x:location", ns) is None
    assert third.find("x:identifier", ns) is None


def test_xspf_never_writes_what_xml_cannot_hold() -> None:
    hostile = replace(_example(), tracks=(_track(1, Locations(), title="bell\x07 and nul\x00"),))
    assert parse_xspf(to_xspf(hostile)).tracks[0].title == "bell\ufffd and nul\ufffd"


def test_m3u8_lines() -> None:
    lines = to_m3u8(_example(), playlist_dir=Path("/music/Rancid")).splitlines()
    assert lines[:2] == ["#EXTM3U", "#PLAYLIST:Tastemaker playlist for ana"]
    assert lines[2] == "# familiar: You played <Rancid> & co 42 times"
    assert lines[3] == '#EXTINF:181,Rancid "&" <Friends> - Roots'
    # '#' and '%' in the file name: the URI, which VLC and totem both read alike.
    assert lines[4] == "file:///music/Rancid/Wolves/03%20Roots%20%231%20%26%20100%25.flac"
    # No file and no Spotify link: named, not an entry (a player would fail on it).
    assert lines[5] == (
        "# not playable here (no file or Spotify link): #1 Dads - So Soldier #EXTINF:1,injected"
    )
    assert lines[6] == "# not playable here (no file or Spotify link): Operation Ivy"
    assert len(lines) == 7


@pytest.mark.parametrize(
    ("path", "playlist_dir", "line"),
    [
        ("/music/A b/é & x.flac", Path("/music"), "A b/é & x.flac"),
        ("/music/A b/é & x.flac", Path("/playlists"), "/music/A b/é & x.flac"),
        ("/music/A b/é & x.flac", None, "/music/A b/é & x.flac"),
        ("/music/#1 Dads.ogg", Path("/music"), "file:///music/%231%20Dads.ogg"),
        ("/music/why?.ogg", Path("/music"), "file:///music/why%3F.ogg"),
        ("/music/c:x.ogg", Path("/music"), "file:///music/c%3Ax.ogg"),
        ("/music/ lead.ogg", Path("/music"), "file:///music/%20lead.ogg"),
        ("/music/sub/c:x.ogg", Path("/music"), "sub/c:x.ogg"),
    ],
)
def test_m3u8_writes_a_plain_path_only_when_every_player_reads_it_alike(
    path: str, playlist_dir: Path | None, line: str
) -> None:
    track = _track(1, Locations(file=path))
    assert entry_location(track, playlist_dir, "local") == line
    read = parse_m3u8(f"#EXTM3U\n#EXTINF:1,x\n{line}\n", playlist_dir or Path("/"))
    assert read.entries[0].location == path


def test_json_contract() -> None:
    doc = json.loads(to_json(_example()))
    assert doc["id"] == "pl-1" and doc["listener"] == "ana"
    first, second, third = doc["tracks"]
    assert first["position"] == 1 and first["artist"] == 'Rancid "&" <Friends>'
    assert first["kind"] == "familiar" and first["reason"]["text"].startswith("You played")
    assert first["locations"]["file"].endswith("100%.flac")
    assert first["playable"] == ["local", "spotify", "musicbrainz"]
    assert second["playable"] == ["musicbrainz"] and third["playable"] == []
    assert third["title"] is None


def test_table_has_kind_reason_and_where_to_play() -> None:
    table = to_table(_example())
    row = next(line for line in table.splitlines() if line.lstrip().startswith("1 "))
    assert "familiar" in row and "You played <Rancid> & co 42 times" in row
    assert "playable: 1 from a file, 1 on Spotify, 2 with a MusicBrainz id; 1 nowhere" in table
    assert "note: 1 track left out" in table


def test_foreign_files_give_a_named_error() -> None:
    with pytest.raises(PlaylistFormatError, match="--format jspf"):
        parse_jspf('{"playlist": {"track": []}}')
    with pytest.raises(PlaylistFormatError, match="--format xspf"):
        parse_xspf("<playlist/>")
    with pytest.raises(PlaylistFormatError, match="--format json"):
        parse_json("[]")
    with pytest.raises(PlaylistFormatError, match="choose one of"):
        render(_example(), "pls")
