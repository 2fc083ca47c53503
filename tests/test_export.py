"""Exports: JSPF and XSPF round trips (Hypothesis), JSON contract, M3U8 and table shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.export import (
    TRACK_EXTENSION,
    PlaylistFormatError,
    parse_jspf,
    parse_xspf,
    to_json,
    to_jspf,
    to_m3u8,
    to_table,
    to_xspf,
)
from playlists.model import KINDS, Playlist, PlaylistTrack, Reason

# Text an XML file can carry unchanged (no control characters, no lone surrogates).
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), text)
evidence = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10),
    st.one_of(scalars, st.lists(scalars, max_size=3)),
    max_size=5,
)


@st.composite
def playlists(draw: st.DrawFn) -> Playlist:
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
                reason=Reason(kind, draw(text), draw(evidence)),
            )
        )
    return Playlist(
        id=draw(text),
        listener=draw(text),
        created_at="2025-10-31T23:51:40+00:00",
        params=draw(evidence),
        model_id=draw(st.one_of(st.none(), text)),
        personalised=draw(st.booleans()),
        terms=draw(evidence),
        notes=tuple(draw(st.lists(text, max_size=3))),
        tracks=tuple(tracks),
    )


@settings(max_examples=60, deadline=None)
@given(playlists())
def test_jspf_round_trip(playlist: Playlist) -> None:
    assert parse_jspf(to_jspf(playlist)) == playlist


@settings(max_examples=60, deadline=None)
@given(playlists())
def test_xspf_round_trip(playlist: Playlist) -> None:
    assert parse_xspf(to_xspf(playlist)) == playlist


def _example() -> Playlist:
    reason = Reason("familiar", "You played <Rancid> & co 42 times", {"plays": 42})
    track = PlaylistTrack(1, 7, 'Rancid "&" <Friends>', 3, "Roots", 181_400, "familiar", reason)
    bare = PlaylistTrack(
        2,
        8,
        "Operation Ivy",
        None,
        None,
        None,
        "unexpected",
        Reason("unexpected", "A step outside", {}),
    )
    return Playlist(
        "pl-1",
        "ana",
        "2025-10-31T23:51:40+00:00",
        {"surprise": 0.5},
        "m1",
        True,
        {},
        ("1 track left out",),
        (track, bare),
    )


def test_jspf_follows_listenbrainz_shape() -> None:
    doc = json.loads(to_jspf(_example()))["playlist"]
    assert {"title", "creator", "date", "track", "extension"} <= set(doc)
    assert "https://musicbrainz.org/doc/jspf#playlist" in doc["extension"]
    first = doc["track"][0]
    assert first["annotation"] == "You played <Rancid> & co 42 times"
    assert first["extension"][TRACK_EXTENSION]["kind"] == "familiar"
    assert first["extension"][TRACK_EXTENSION]["reason"]["evidence"] == {"plays": 42}
    assert "title" not in doc["track"][1]


def test_xspf_escapes_and_parses_as_xml() -> None:
    body = to_xspf(_example())
    assert "&lt;Rancid&gt; &amp; co" in body
    root = ET.fromstring(body)
    assert root.tag == "{http://xspf.org/ns/0/}playlist"


def test_json_contract() -> None:
    doc = json.loads(to_json(_example()))
    assert doc["id"] == "pl-1" and doc["listener"] == "ana"
    first, second = doc["tracks"]
    assert first["position"] == 1 and first["artist"] == 'Rancid "&" <Friends>'
    assert first["kind"] == "familiar" and first["reason"]["text"].startswith("You played")
    assert second["title"] is None


def test_m3u8_lines() -> None:
    lines = to_m3u8(_example()).splitlines()
    assert lines[0] == "#EXTM3U"
    assert '#EXTINF:181,Rancid "&" <Friends> - Roots' in lines
    assert "#EXTINF:-1,Operation Ivy" in lines


def test_table_has_kind_and_reason_per_line() -> None:
    table = to_table(_example())
    row = next(line for line in table.splitlines() if line.lstrip().startswith("1 "))
    assert "familiar" in row and "You played <Rancid> & co 42 times" in row
    assert "note: 1 track left out" in table


def test_foreign_files_give_a_named_error() -> None:
    with pytest.raises(PlaylistFormatError, match="--format jspf"):
        parse_jspf('{"playlist": {"track": []}}')
    with pytest.raises(PlaylistFormatError, match="--format xspf"):
        parse_xspf("<playlist/>")
