"""The curator's page: every number on it equals the store's, names are escaped, and a real
headless Chromium renders every track row, reason and the quality label."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from playlists.quality import playlist_quality
from playlists.report import render_report
from playlists.review import record_verdict
from recommender.store import Store
from tests.review_fixtures import HOSTILE, world_with_playlist


@dataclass
class Row:
    position: int
    texts: dict[str, str] = field(default_factory=dict)  # class -> text
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (data-key, value)
    links_from: list[int] = field(default_factory=list)
    chain: list[int] = field(default_factory=list)


class Page(HTMLParser):
    """Track rows with their numbers, the quality label's numbers, and every tag seen."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.quality: dict[str, str] = {}
        self.tags: list[str] = []
        self.text = ""
        self._in_row = self._in_quality = False
        self._capture: list[str] = []
        self._depth: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        classes = a.get("class", "").split()
        if tag == "tr" and "track" in classes:
            self.rows.append(Row(int(a["data-position"])))
            self._in_row = True
        if tag == "section" and a.get("id") == "quality":
            self._in_quality = True
        if tag in ("data", "time") and "data-key" in a:
            value = a.get("value", a.get("datetime", ""))
            if self._in_row:
                self.rows[-1].numbers.append((a["data-key"], value))
            elif self._in_quality:
                self.quality[a["data-key"]] = value
        if self._in_row and tag == "li" and "data-link-from" in a:
            self.rows[-1].links_from.append(int(a["data-link-from"]))
        if self._in_row and tag == "li" and "node" in classes:
            self.rows[-1].chain.append(int(a["data-artist-id"]))
        if self._in_row and tag in ("span", "p") and classes:
            self._capture = [classes[0]]
            self._depth.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_row = False
        if tag == "section":
            self._in_quality = False
        if self._depth and tag == self._depth[-1]:
            self._depth.pop()
            self._capture = []

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_row and self._capture:
            key = self._capture[0]
            self.rows[-1].texts[key] = self.rows[-1].texts.get(key, "") + data


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def shared(store: Store, a: int, b: int) -> str:
    return str(
        store.conn.execute(
            "SELECT count(*) FROM (SELECT listener_id FROM listens WHERE artist_id = ?"
            " INTERSECT SELECT listener_id FROM listens WHERE artist_id = ?)",
            (a, b),
        ).fetchone()[0]
    )


def listeners_of(store: Store, artist_id: int) -> str:
    return str(
        store.conn.execute(
            "SELECT count(DISTINCT listener_id) FROM listens WHERE artist_id = ?", (artist_id,)
        ).fetchone()[0]
    )


def check_against_store(store: Store, playlist_id: str, page: Page) -> int:
    """Compare every number in every track row with SQL over the store; returns how many."""
    (listener_id,) = store.conn.execute(
        "SELECT listener_id FROM playlists WHERE id = ?", (playlist_id,)
    ).fetchone()
    stored = {
        pos: (artist_id, track_id, json.loads(reason))
        for pos, artist_id, track_id, reason in store.conn.execute(
            "SELECT position, artist_id, track_id, reason FROM playlist_tracks"
            " WHERE playlist_id = ?",
            (playlist_id,),
        )
    }
    assert sorted(r.position for r in page.rows) == sorted(stored)
    checked = 0
    for row in page.rows:
        artist_id, track_id, reason = stored[row.position]
        plays, first, last = store.conn.execute(
            "SELECT sum(plays), min(listened_at), max(listened_at) FROM listens"
            " WHERE listener_id = ? AND artist_id = ?",
            (listener_id, artist_id),
        ).fetchone()
        t_plays, t_last = store.conn.execute(
            "SELECT sum(plays), max(listened_at) FROM listens WHERE listener_id = ?"
            " AND track_id = ?",
            (listener_id, track_id),
        ).fetchone()
        sequences = {
            "shared_listeners": iter([shared(store, a, artist_id) for a in row.links_from]),
            "verdict_at": iter(
                [
                    str(r[0])
                    for r in store.conn.execute(
                        "SELECT created_at FROM verdicts WHERE playlist_id = ? AND position = ?"
                        " ORDER BY created_at, id",
                        (playlist_id, row.position),
                    )
                ]
            ),
            "bridge_shared_listeners": iter(
                [shared(store, a, b) for a, b in zip(row.chain, row.chain[1:], strict=False)]
            ),
            # The denominators: listeners of each explaining artist (heard-with, then each
            # bridge step but the last), counted over the listens.
            "artist_listeners": iter(
                [listeners_of(store, a) for a in [*row.links_from, *row.chain[:-1]]]
            ),
        }
        evidence = reason["evidence"]
        from_sql = {
            "plays": str(plays),
            "first_played_at": iso(first),
            "last_played_at": iso(last),
            "track_plays": str(t_plays),
            "track_last_played_at": iso(t_last),
            "catalogue_artists": str(
                store.conn.execute("SELECT count(*) FROM artists").fetchone()[0]
            ),
            "store_listeners": str(
                store.conn.execute("SELECT count(DISTINCT listener_id) FROM listens").fetchone()[0]
            ),
        }
        for key, value in row.numbers:
            # Model outputs and the clock are not listening data: they equal the stored reason.
            if key in sequences:
                expected = next(sequences[key])
            else:
                expected = from_sql[key] if key in from_sql else str(evidence[key])
            assert value == expected, (row.position, key)
            checked += 1
        assert row.texts["reason"] == reason["text"]
    return checked


@pytest.fixture
def reviewed(store: Store) -> str:
    pid = world_with_playlist(store)
    record_verdict(store, pid, "reject", position=3, link_from="The Specials", note="<b>no</b>")
    record_verdict(store, pid, "flag", position=1, curator='kim & "co"')
    return pid


def test_every_number_on_the_page_equals_the_store(store: Store, reviewed: str) -> None:
    page = Page(render_report(store, reviewed))
    assert check_against_store(store, reviewed, page) >= 20
    q = playlist_quality(store, reviewed)
    assert page.quality["unexpected_delivered"] == str(q.unexpected_delivered) == "1"
    assert page.quality["unexpected_requested"] == "1"
    assert page.quality["store_listeners"] == str(
        store.conn.execute("SELECT count(DISTINCT listener_id) FROM listens").fetchone()[0]
    )
    assert float(page.quality["calibration_kl"]) == round(q.calibration_kl or 0, 4)


def test_names_are_escaped_never_interpreted(store: Store, reviewed: str) -> None:
    html = render_report(store, reviewed)
    assert "<script>" not in html and "<b>no</b>" not in html
    page = Page(html)
    assert "script" not in page.tags and "b" not in page.tags
    row = next(r for r in page.rows if r.position == 3)
    assert row.texts["artist"] == HOSTILE
    assert row.texts["title"] == "Alert & <Run>"
    assert HOSTILE in page.text and 'kim & "co"' in page.text and "<b>no</b>" in page.text


def test_the_page_is_self_contained(store: Store, reviewed: str) -> None:
    html = render_report(store, reviewed)
    page = Page(html)
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    # Links a curator may follow (where a track can be played) load nothing.
    html = re.sub(r'href="https://(musicbrainz\.org|open\.spotify\.com)/[^"]*"', "", html)
    assert "http://" not in html and "https://" not in html and "url(" not in html
    assert "@media print" in html


def test_the_page_says_when_no_track_can_be_played_here(store: Store, reviewed: str) -> None:
    html = render_report(store, reviewed)
    assert 'id="not-playable"' in html and 'class="where"' not in html


def test_report_and_review_commands(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        pid = world_with_playlist(store)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["--db", str(db), *args])
        return result.exit_code, result.output

    for command in ("report", "review"):
        code, out = run(command, "--help")
        assert code == 0 and "Usage" in out and len(out.splitlines()) > 4
    code, out = run("review", "--queue")
    assert code == 0 and pid in out and "0/4 tracks judged" in out
    code, out = run(
        "review",
        pid,
        "--track",
        "2",
        "--reason",
        "--verdict",
        "flag",
        "--note",
        "odd",
        "--curator",
        "kim",
    )
    assert code == 0 and "flag recorded on track 2's reason" in out
    code, out = run("review", "--queue", "--json")
    queue = json.loads(out)
    assert queue["flagged"][0]["note"] == "odd" and queue["waiting"][0]["judged"] == 1
    code, out = run("explain", pid)
    assert code == 0 and "flag track 2's reason by kim at " in out and ": odd" in out
    code, out = run("explain", pid, "--json")
    assert [v["note"] for v in json.loads(out)["verdicts"]] == ["odd"]
    code, out = run("review", pid, "--track", "3", "--link", "rancid", "--verdict", "reject")
    assert code == 0 and "reject recorded on track 3's link from rancid" in out
    code, out = run("explain", pid)
    assert "reject track 3's reason (link Rancid -> The Specials)" in out
    code, out = run("review", pid, "--track", "9", "--verdict", "reject")
    assert code == 1 and "Error: " in out and "from 1 to 4" in out and "Traceback" not in out
    code, out = run("review", pid)
    assert code == 2 and "--verdict" in out
    target = tmp_path / "page.html"
    code, out = run("report", pid, "--html", str(target))
    assert code == 0 and target.is_file()
    assert "odd" in target.read_text() and "kim" in target.read_text()
    code, out = run("report", "pl-nope", "--html", str(target))
    assert code == 1 and "review --queue" in out


# A real browser ----------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(binary: str, profile: Path, *args: str) -> str:
    done = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.mark.browser
def test_headless_chromium_renders_every_row_reason_and_the_label(
    store: Store, reviewed: str, tmp_path: Path
) -> None:
    binary = chromium()
    if binary is None:
        pytest.skip("no chromium binary (`.ci/run` installs Debian's chromium)")
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report(store, reviewed), encoding="utf-8")
    url = page_file.as_uri()
    dom = Page(run_chromium(binary, tmp_path / "profile", "--dump-dom", url))
    # The browser built the same rows, reasons and numbers the store holds.
    assert check_against_store(store, reviewed, dom) >= 20
    assert "script" not in dom.tags
    assert {"unexpected_delivered", "diversity", "novelty_bits", "calibration_kl"} <= set(
        dom.quality
    )
    assert "Quality label" in dom.text
    shot = tmp_path / "report.png"
    run_chromium(
        binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", url
    )
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank canvas


def test_the_page_counts_verdicts_and_reads_its_parameters_aloud(
    store: Store, reviewed: str
) -> None:
    record_verdict(store, reviewed, "approve", position=1, curator="lou")  # replaces the flag
    record_verdict(store, reviewed, "approve", curator="lou")
    html = render_report(store, reviewed)
    body = html[html.index("<body>") :]
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
    assert "Playlist approve by lou" in words
    assert "2 of 4 tracks judged" in words
    assert "tracks: 1 approved, 0 rejected, 0 flagged" in words
    assert "links: 0 approved, 1 rejected, 0 flagged" in words
    # The flag on track 1 stays in the history, struck through under the approval.
    assert "superseded" in html
    # Parameters and terms under readable labels, with their stored values.
    assert "Length 4 tracks" in words and "Surprise 0.25 unexpected share" in words
    assert "As of 2024-01-13 22:13 UTC" in words and "Played recently 0" in words
    # Denominators beside the evidence: the catalogue for a rank, an artist's listeners for
    # shared listeners.
    assert "rank 3 of 6 artists" in words
    assert "1 of the 2 listeners of Rancid" in words and "Rancid 1 of 2 The Specials" in words
