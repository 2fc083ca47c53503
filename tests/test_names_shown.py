"""Names that fool people (issue 12, item 10): control characters never reach the terminal raw,
and on pages a name cannot reorder the text around it.

A name ending in U+202E (RIGHT-TO-LEFT OVERRIDE) shows the "23 plays" after it as "32"; ESC and
BEL in a name act on a terminal. The terminal gets `\\uXXXX` escapes (which are also JSON's, so
`--json` output parses to the same values); pages put names in `<bdi>` and write controls out
visibly. The last test measures, in a real headless Chromium, that the digits after such a name
are laid out in their own order (and that the same measurement catches the trick on a page
without the isolation).
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from playlists.cli import main
from playlists.report import render_report
from recommender.names import BIDI_CONTROLS, visible_controls
from recommender.store import Store
from tests.hostile_fixtures import hostile_playlist
from tests.review_fixtures import build_world

RLO = "\u202e"
HOSTILE_ARTIST = f"Evil\x1b]0;pwned\x07\x1b[2J Band{RLO}"
HOSTILE_LISTENER = f"ana{RLO}\r\x9b31m"


def test_visible_controls_escapes_what_acts_and_keeps_what_reads() -> None:
    assert (
        visible_controls("a\x1b[31mb\x07\r\x9b\x7f") == "a\\u001b[31mb\\u0007\\u000d\\u009b\\u007f"
    )
    assert visible_controls(f"x{RLO}y\u2066z\u2069") == "x\\u202ey\\u2066z\\u2069"
    assert visible_controls("line\nnext", keep="\n") == "line\nnext"
    for harmless in ("Björk", "عمرو دياب", "שלום", "👩‍👩‍👧", "Sigur Rós\u200e"):
        assert visible_controls(harmless) == harmless  # letters of any script, ZWJ, marks
    hostile = json.dumps(HOSTILE_ARTIST, ensure_ascii=False)
    assert json.loads(visible_controls(hostile)) == HOSTILE_ARTIST  # still the same JSON


def _hostile_world(store: Store) -> str:
    build_world(store)
    return hostile_playlist(store, HOSTILE_ARTIST, listener=HOSTILE_LISTENER)


def _raw_controls(text: str) -> set[str]:
    return {
        ch
        for ch in text
        if ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch != "\n")
    }


def test_the_terminal_never_gets_a_raw_control(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with Store.open(db) as store:
        playlist_id = _hostile_world(store)
    runner = CliRunner()
    table = runner.invoke(main, ["--db", str(db), "explain", playlist_id])
    assert table.exit_code == 0, table.output
    assert _raw_controls(table.output) == set() and "Evil\\u001b]0;pwned" in table.output
    as_json = runner.invoke(main, ["--db", str(db), "explain", playlist_id, "--json"])
    assert _raw_controls(as_json.output) == set()
    data = json.loads(as_json.output)
    assert data["tracks"][0]["artist"] == HOSTILE_ARTIST  # the value is unchanged
    queue = runner.invoke(main, ["--db", str(db), "review", "--queue"])
    assert _raw_controls(queue.output) == set() and "ana\\u202e\\u000d\\u009b31m" in queue.output
    error = runner.invoke(main, ["--db", str(db), "forget", "--listener", "x\x1b[2J", "--all"])
    assert error.exit_code == 1 and _raw_controls(error.output) == set()
    assert error.output.startswith("Error: no listener named")


class _Isolation(HTMLParser):
    """Every text run of the page, with whether it sits inside a <bdi> or in <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.runs: list[tuple[str, bool]] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "input", "br", "link", "col"):
            self.open.append(tag)
        self.attributes += [v for _, v in attrs if v]

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.runs.append((data, "bdi" in self.open))


def test_pages_isolate_names_and_show_controls(store: Store) -> None:
    page = render_report(store, _hostile_world(store))
    parsed = _Isolation()
    parsed.feed(page)
    every = "".join(text for text, _ in parsed.runs) + "".join(parsed.attributes)
    assert _raw_controls(every.replace("\t", "")) == set()
    shown = "Evil\\u001b]0;pwned\\u0007\\u001b[2J Band\\u202e"
    assert page.count("<bdi>") >= 3  # the listener, the artist, the reason's explainer...
    assert all(inside for text, inside in parsed.runs if text == shown)
    assert any(text == shown for text, _ in parsed.runs)
    assert "unicode-bidi: isolate" in page  # the inline stylesheet backs the <bdi> up


MEASURE = """
() => [...document.querySelectorAll('[data-key=plays], .probe')].map(el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const node = walker.nextNode();
  const range = document.createRange();
  const xs = [];
  for (let i = 0; i < node.length; i++) {
    range.setStart(node, i); range.setEnd(node, i + 1);
    xs.push(range.getBoundingClientRect().left);
  }
  return {text: node.data, xs};
})
"""


@pytest.mark.browser
def test_chromium_lays_out_the_digits_after_a_hostile_name_in_order(
    store: Store, tmp_path: Path
) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no Chromium here (`.ci/run` installs Debian's chromium)")
    from playwright import sync_api

    report = tmp_path / "report.html"
    report.write_text(render_report(store, _hostile_world(store)), encoding="utf-8")
    # The trick itself, without isolation: the measurement must see it.
    tricked = tmp_path / "tricked.html"
    tricked.write_text(
        f"<!DOCTYPE html><meta charset=utf-8><p>{HOSTILE_ARTIST}<span class=probe>23</span></p>",
        encoding="utf-8",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(tricked.as_uri())
        (probe,) = page.evaluate(MEASURE)
        assert probe["xs"][0] > probe["xs"][1]  # "23" drawn as "32": the trick works here
        page.goto(report.as_uri())
        numbers = page.evaluate(MEASURE)
        browser.close()
    assert numbers and all(len(n["text"]) >= 2 for n in numbers)
    for number in numbers:
        assert number["xs"] == sorted(number["xs"]), number  # left to right, as written


def test_served_pages_isolate_names_and_keep_form_values(tmp_path: Path) -> None:
    """The workbench: same template and filters; an option's value still sends the name as
    it is stored (only what is shown is rewritten)."""
    from playlists.web import curators
    from playlists.web.app import create_app

    db = tmp_path / "t.db"
    with Store.open(db) as store:
        playlist_id = _hostile_world(store)
        token = curators.add_curator(store, "kim").token  # curator names refuse controls
    with create_app(db).test_client() as client:
        assert client.post("/login", data={"token": token}).status_code == 303
        for path in ("/queue", f"/playlists/{playlist_id}", "/listeners"):
            html = client.get(path).get_data(as_text=True)
            parsed = _Isolation()
            parsed.feed(html)
            shown = "".join(text for text, _ in parsed.runs)
            assert _raw_controls(shown.replace("\t", "")) == set(), path
            assert "<bdi>kim</bdi>" in html, path  # who is signed in
        queue = client.get("/queue").get_data(as_text=True)
        assert f'<option value="{HOSTILE_LISTENER}"' in queue.replace("&#34;", '"')
