"""The workbench in a real browser: Playwright drives Debian's Chromium (its own executable,
never a downloaded browser) against `tastemaker serve` on a free localhost port, over the demo
world with a trained model. Screenshots go to each test's tmp dir. Skipped only where no
Chromium exists (`.ci/run` installs Debian's `chromium`)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

from playlists.build import build_playlist
from playlists.report import render_report
from playlists.review import record_verdict
from playlists.web import curators
from playlists.web.client import Served, served
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import train

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LISTENER = "listener-013"
HOSTILE_LISTENER = '"><img src=x onerror=alert(1)>'
HOSTILE_ARTIST = '<script>alert("artist")</script> & "Co"'
HOSTILE_CURATOR = "<script>alert('curator')</script>"
# "About two laptop screens" for a 20-track playlist, at 1280 px wide.
TWO_SCREENS = 2 * 1000


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class World:
    """The served store: a flagged 20-track playlist for LISTENER, one for a hostile name."""

    def __init__(self, db: Path, first: str, hostile: str, tokens: dict[str, str]) -> None:
        self.db, self.first, self.hostile, self.tokens = db, first, hostile, tokens


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    db = tmp_path_factory.mktemp("browser") / "demo.db"
    with Store.open(db) as store:
        import_path(store, "demo", demo_dir())
        with store.transaction() as conn:
            # Hostile names where a listener, an artist and a track title are shown.
            conn.execute(
                "UPDATE listeners SET name = ? WHERE name = 'listener-020'", (HOSTILE_LISTENER,)
            )
            artist_id = conn.execute(
                "SELECT artist_id FROM listens l JOIN listeners p ON p.id = l.listener_id"
                " WHERE p.name = ? GROUP BY artist_id ORDER BY sum(plays) DESC LIMIT 1",
                (HOSTILE_LISTENER,),
            ).fetchone()[0]
            conn.execute("UPDATE artists SET name = ? WHERE id = ?", (HOSTILE_ARTIST, artist_id))
            conn.execute(
                "UPDATE tracks SET title = '</td><img src=x onerror=alert(2)>' WHERE artist_id = ?",
                (artist_id,),
            )
        train(store, num_threads=1)
        first = build_playlist(store, LISTENER, length=20, save=True)
        hostile = build_playlist(store, HOSTILE_LISTENER, length=20, save=True)
        record_verdict(store, first.id, "flag", position=1, note="check this one", curator="kim")
        tokens = {
            name: curators.add_curator(store, name).token for name in ("lee", HOSTILE_CURATOR)
        }
    return World(db, first.id, hostile.id, tokens)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Served]:
    with served(world.db) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    binary = chromium()
    if binary is None:
        pytest.skip("no Chromium here (`.ci/run` installs Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server: Served, tmp_path: Path):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    opened = context.new_page()
    opened.dialogs = []  # any alert() that ran
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()


def sign_in(page, world: World, name: str = "lee") -> None:  # type: ignore[no-untyped-def]
    reply = page.goto("/queue")
    assert reply.status == 403 and page.locator("input[name=token]").count() == 1
    page.fill("input[name=token]", world.tokens[name])
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")


def overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How far the page reaches beyond the viewport's width (0: no sideways scrolling)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def flags(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("[data-count=flagged]").inner_text())


def test_review_a_flagged_track_then_build_without_it(page, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, world)
    page.screenshot(path=tmp_path / "queue.png", full_page=True)
    before = flags(page)
    flagged = page.locator(f"tr.flag[data-playlist='{world.first}'][data-position='1']")
    assert before >= 1 and flagged.count() == 1
    flagged.locator("a").first.click()
    page.wait_for_url(f"**/playlists/{world.first}#track-1")
    row = page.locator("#track-1")
    rejected_track = row.get_attribute("data-track-id")
    assert rejected_track and "check this one" in row.inner_text()
    page.screenshot(path=tmp_path / "playlist.png", full_page=True)
    row.locator("form.verdict input[name=note]").first.fill("not for this listener")
    row.locator("form.verdict button.reject").first.click()
    page.wait_for_url(lambda url: f"/playlists/{world.first}?recorded=" in url)
    assert page.url.endswith("#track-2")  # on to the next track without a verdict
    assert "reject recorded on track 1 by lee" in page.locator(".notice").inner_text()
    assert "not for this listener" in page.locator("#track-1").inner_text()
    page.goto("/queue")
    assert flags(page) == before - 1
    assert page.locator(f"tr.flag[data-playlist='{world.first}'][data-position='1']").count() == 0
    # A new playlist for the same listener, built from the browser, leaves the track out.
    page.locator(f"tr.waiting[data-playlist='{world.first}'] a").nth(1).click()
    page.wait_for_url(f"**/listeners/{LISTENER}")
    page.fill("input[name=length]", "20")
    page.click("form.build button")
    page.wait_for_url("**/playlists/pl-*")
    assert world.first not in page.url
    tracks = page.locator("tr.track").evaluate_all("rows => rows.map(r => r.dataset.trackId)")
    assert len(tracks) == 20 and rejected_track not in tracks
    assert "a curator rejected them for you" in page.locator("#notes").inner_text()
    page.screenshot(path=tmp_path / "rebuilt.png", full_page=True)
    assert page.dialogs == []


def test_pages_fit_a_laptop_and_a_phone(page, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, world)
    paths = ["/queue", f"/playlists/{world.first}", f"/listeners/{LISTENER}", "/listeners"]
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(path)
            assert overflow(page) == 0, (path, width)
        page.goto(f"/playlists/{world.first}")
        page.screenshot(path=tmp_path / f"playlist-{width}.png", full_page=True)
        cells = page.locator("#track-2 td.why, #track-2 td.verdicts").evaluate_all(
            "cells => cells.map(c => c.getBoundingClientRect().left)"
        )
        stacked = cells[0] == cells[1]
        assert stacked == (width == 390)  # one column on a phone, side by side on a laptop
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/playlists/{world.first}")
    assert page.evaluate("document.documentElement.scrollHeight") <= TWO_SCREENS + 200
    # On paper: no forms, no navigation.
    page.emulate_media(media="print")
    assert page.locator("form.verdict").first.is_hidden() and page.locator("nav.top").is_hidden()
    pdf = page.pdf(path=str(tmp_path / "playlist.pdf"))
    sheets = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and 1 <= sheets <= 4


def test_the_static_report_is_compact_fits_and_runs_nothing(
    page, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with Store.open(world.db) as store:
        target = tmp_path / "report.html"
        target.write_text(render_report(store, world.hostile), encoding="utf-8")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(target.as_uri())
        assert overflow(page) == 0, width
        page.screenshot(path=tmp_path / f"report-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(target.as_uri())
    assert page.evaluate("document.documentElement.scrollHeight") <= TWO_SCREENS
    assert page.evaluate("document.scripts.length") == 0 and page.dialogs == []
    assert HOSTILE_LISTENER in page.locator("#listener").inner_text()


def test_hostile_names_render_as_text(page, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, world, HOSTILE_CURATOR)
    page.goto(f"/playlists/{world.hostile}")
    row = page.locator("tr.track", has_text=HOSTILE_ARTIST).first
    row.locator("input[name=note]").first.fill('"><img src=x onerror=alert(3)>')
    row.locator("button.flag").first.click()
    page.wait_for_load_state()
    for path in (f"/playlists/{world.hostile}", "/queue", "/listeners"):
        page.goto(path)
        text = page.locator("body").inner_text()
        assert HOSTILE_CURATOR in text, path
        assert page.evaluate("document.scripts.length") == 0, path
        assert page.evaluate("document.images.length") == 0, path
    page.goto(f"/playlists/{world.hostile}")
    text = page.locator("body").inner_text()
    assert HOSTILE_LISTENER in text and HOSTILE_ARTIST in text
    assert "</td><img src=x onerror=alert(2)>" in text
    assert '"><img src=x onerror=alert(3)>' in text
    page.screenshot(path=tmp_path / "hostile.png", full_page=True)
    assert page.dialogs == []
