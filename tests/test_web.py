"""The workbench app through Flask's test client: who gets in, CSRF, verdicts stored exactly as
the CLI stores them, escaping, headers, the queue's filters, listener pages, the curator and
serve commands. (The real server and a real browser: test_web_server.py, test_web_browser.py.)
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from playlists.cli import main
from playlists.errors import UnknownCurator
from playlists.review import in_force, record_verdict
from playlists.storage import list_playlists, verdicts_for
from playlists.web import curators
from playlists.web.app import create_app
from recommender.store import Store
from tests.review_fixtures import HOSTILE, discovery, familiar, save_rows, world_with_playlist

PID = "pl-test1"
HOSTILE_CURATOR = '"><img src=x onerror=alert(1)>'
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class Tags(HTMLParser):
    """Every tag (with its attributes) and all the text of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data + " "

    @property
    def words(self) -> str:
        """The text with runs of white space made one space."""
        return " ".join(self.text.split())

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "workbench.db"
    with Store.open(path) as store:
        world_with_playlist(store)
        save_rows(
            store,
            "pl-test2",
            "bo",
            [familiar(store, "bo", 4, "Ghost Town"), discovery(store, 5, [4], "Our House")],
            created_at="2026-02-01T00:00:00+00:00",
        )
    return path


@pytest.fixture
def app(db: Path) -> Flask:
    return create_app(db)


def token_for(db: Path, name: str) -> str:
    with Store.open(db) as store:
        return curators.add_curator(store, name).token


def sign_in(client: FlaskClient, db: Path, name: str = "kim") -> str:
    """Sign `client` in as a new curator `name`; returns the CSRF token of its pages."""
    reply = client.post("/login", data={"token": token_for(db, name)})
    assert reply.status_code == 303
    return csrf_of(client.get("/queue").get_data(as_text=True))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def stored(db: Path, playlist_id: str = PID) -> list[dict[str, object]]:
    with Store.open(db) as store:
        return [v.to_dict() for v in verdicts_for(store, playlist_id)]


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


# Who gets in -------------------------------------------------------------------------------


def test_every_page_needs_a_signed_in_curator(client: FlaskClient, db: Path) -> None:
    for path in ("/queue", f"/playlists/{PID}", "/listeners/ana", "/listeners", "/"):
        reply = client.get(path)
        assert reply.status_code == 403, path
        html = reply.get_data(as_text=True)
        assert 'name="token"' in html and "Rancid" not in html and "ana" not in Tags(html).text
    reply = client.post(f"/playlists/{PID}/verdicts", data={"track": "1", "verdict": "reject"})
    assert reply.status_code == 403 and stored(db) == []
    reply = client.post("/listeners/ana/playlists", data={"length": "3"})
    assert reply.status_code == 403


def test_sign_in_sets_a_strict_httponly_cookie_and_stores_only_hashes(
    client: FlaskClient, db: Path
) -> None:
    token = token_for(db, "kim")
    assert client.post("/login", data={"token": token + "x"}).status_code == 403
    reply = client.post("/login", data={"token": token, "next": "//evil.example/"})
    assert reply.status_code == 303 and reply.headers["Location"] == "/queue"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    session_id = cookie.split(";")[0].split("=", 1)[1]
    with Store.open(db) as store:
        dump = "\n".join(store.conn.iterdump())
    assert token not in dump and session_id not in dump
    assert client.get("/queue").status_code == 200
    # A local `next` is followed after signing in; the sign-in page keeps it for the form.
    html = client.application.test_client().get("/listeners/ana").get_data(as_text=True)
    assert 'name="next" value="/listeners/ana' in html


def test_sign_out_ends_the_session(client: FlaskClient, db: Path) -> None:
    csrf = sign_in(client, db)
    assert client.post("/logout", data={}).status_code == 403  # no CSRF token: refused
    assert client.get("/queue").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/queue").status_code == 403


def test_an_expired_session_lets_nobody_in(db: Path) -> None:
    with Store.open(db) as store:
        token = curators.add_curator(store, "kim").token
        gone = curators.sign_in(store, token, hours=-1)
        assert curators.session(store, gone.session_id) is None
        live = curators.sign_in(store, token)
        assert curators.session(store, live.session_id) == live
        curators.remove_curator(store, "kim")
        assert curators.session(store, live.session_id) is None


# CSRF and the verdicts ---------------------------------------------------------------------


def test_a_verdict_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    client: FlaskClient, db: Path, app: Flask
) -> None:
    sign_in(client, db)
    form = {"track": "1", "verdict": "reject"}
    assert client.post(f"/playlists/{PID}/verdicts", data=form).status_code == 403
    wrong = {**form, "csrf_token": "0" * 64}
    assert client.post(f"/playlists/{PID}/verdicts", data=wrong).status_code == 403
    theirs = sign_in(app.test_client(), db, "lou")
    stolen = {**form, "csrf_token": theirs}
    assert client.post(f"/playlists/{PID}/verdicts", data=stolen).status_code == 403
    assert stored(db) == []


def test_a_form_from_another_site_is_refused(client: FlaskClient, db: Path) -> None:
    csrf = sign_in(client, db)
    reply = client.post(
        f"/playlists/{PID}/verdicts",
        data={"track": "1", "verdict": "reject", "csrf_token": csrf},
        headers={"Origin": "http://evil.example"},
    )
    assert reply.status_code == 403 and stored(db) == []


def test_every_verdict_is_stored_as_the_cli_stores_it_by_the_signed_in_curator(
    client: FlaskClient, db: Path, tmp_path: Path
) -> None:
    csrf = sign_in(client, db, "kim")
    twin = tmp_path / "twin.db"
    with Store.open(twin) as store:
        world_with_playlist(store)
    forms = [
        ({"verdict": "approve", "note": "fine"}, ["--verdict", "approve", "--note", "fine"]),
        ({"track": "1", "verdict": "reject"}, ["--track", "1", "--verdict", "reject"]),
        (
            {"track": "2", "about": "reason", "verdict": "flag", "note": "odd"},
            ["--track", "2", "--reason", "--verdict", "flag", "--note", "odd"],
        ),
        (
            {"track": "3", "link": "The Specials", "verdict": "reject"},
            ["--track", "3", "--link", "The Specials", "--verdict", "reject"],
        ),
    ]
    for form, args in forms:
        # A `curator` field is ignored: the signed-in curator is who judged.
        data = {**form, "csrf_token": csrf, "curator": "mallory"}
        assert client.post(f"/playlists/{PID}/verdicts", data=data).status_code == 303
        result = CliRunner().invoke(
            main, ["--db", str(twin), "review", PID, *args, "--curator", "kim"]
        )
        assert result.exit_code == 0, result.output
    ignored = {"id", "created_at"}
    web = [{k: v for k, v in row.items() if k not in ignored} for row in stored(db)]
    cli = [{k: v for k, v in row.items() if k not in ignored} for row in stored(twin)]
    assert web == cli and len(web) == 4
    assert {row["curator"] for row in web} == {"kim"}
    assert [row["subject"] for row in web] == ["playlist", "track", "reason", "reason"]
    assert web[3]["link_from"] == 4 and web[3]["link_to"] == 6


def test_after_a_verdict_on_to_the_next_thing_to_judge(client: FlaskClient, db: Path) -> None:
    csrf = sign_in(client, db)
    post = f"/playlists/{PID}/verdicts"
    reply = client.post(post, data={"track": "2", "verdict": "approve", "csrf_token": csrf})
    assert reply.headers["Location"].startswith(f"/playlists/{PID}?recorded=")
    assert reply.headers["Location"].endswith("#track-3")
    shown = client.get(reply.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "approve recorded on track 2 by kim" in shown
    for track in ("3", "4"):
        reply = client.post(post, data={"track": track, "verdict": "approve", "csrf_token": csrf})
    assert reply.headers["Location"].endswith("#track-1")  # wraps to the one still open
    # The last track judged: the playlist leaves the queue, and the next playlist opens.
    reply = client.post(post, data={"track": "1", "verdict": "approve", "csrf_token": csrf})
    assert reply.headers["Location"].startswith("/playlists/pl-test2?recorded=")
    assert "on to the next item in the queue" in client.get(reply.headers["Location"]).get_data(
        as_text=True
    )
    reply = client.post(
        "/playlists/pl-test2/verdicts", data={"verdict": "approve", "csrf_token": csrf}
    )
    assert reply.headers["Location"].startswith("/queue?recorded=")
    assert "nothing else is waiting" in client.get(reply.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({"track": "1", "verdict": "maybe"}, 400, "verdict must be one of"),
        ({"track": "9", "verdict": "reject"}, 404, "from 1 to 4"),
        ({"track": "x", "verdict": "reject"}, 400, "track must be a position"),
        ({"track": "2", "link": "Madness", "verdict": "reject"}, 400, "no link from"),
        ({"track": "1", "about": "reason", "verdict": "reject"}, 400, "judge the track"),
        ({"track": "1", "verdict": "flag", "note": "n" * 2001}, 400, "at most 2000"),
    ],
)
def test_a_verdict_that_cannot_be_recorded_says_why_and_stores_nothing(
    client: FlaskClient, db: Path, form: dict[str, str], status: int, says: str
) -> None:
    csrf = sign_in(client, db)
    reply = client.post(f"/playlists/{PID}/verdicts", data={**form, "csrf_token": csrf})
    assert reply.status_code == status and says in reply.get_data(as_text=True)
    assert stored(db) == []


def test_an_unknown_playlist_is_a_404_with_what_to_do(client: FlaskClient, db: Path) -> None:
    sign_in(client, db)
    reply = client.get("/playlists/pl-nope")
    assert reply.status_code == 404 and "review --queue" in reply.get_data(as_text=True)


# What the pages show -----------------------------------------------------------------------


def test_names_notes_and_curators_are_escaped_on_every_page(client: FlaskClient, db: Path) -> None:
    csrf = sign_in(client, db, HOSTILE_CURATOR)
    note = "<script>alert(2)</script>"
    for track in ("3", ""):
        client.post(
            f"/playlists/{PID}/verdicts",
            data={"track": track, "verdict": "flag", "note": note, "csrf_token": csrf},
        )
    for path in ("/queue", f"/playlists/{PID}", "/listeners/ana", "/listeners"):
        html = client.get(path).get_data(as_text=True)
        page = Tags(html)
        assert not page.named("script") and not page.named("img"), path
        assert "<script>" not in html and "<img" not in html
        assert HOSTILE_CURATOR in page.text, path
    page = Tags(client.get(f"/playlists/{PID}").get_data(as_text=True))
    assert HOSTILE in page.text and note in page.text and "Alert & <Run>" in page.text


def test_every_response_forbids_scripts_framing_and_caching(client: FlaskClient, db: Path) -> None:
    replies = [client.get("/login"), client.get("/queue"), client.get("/static/workbench.css")]
    sign_in(client, db)
    replies += [client.get(f"/playlists/{PID}"), client.get("/nope")]
    for reply in replies:
        policy = reply.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Cache-Control"] == "no-store"
        reply.close()  # the stylesheet is sent as a file
    templates = Path(__file__).resolve().parent.parent / "playlists" / "web" / "templates"
    assert not [p for p in templates.iterdir() if "<script" in p.read_text().lower()]


def test_the_served_playlist_page_is_the_report_with_forms(client: FlaskClient, db: Path) -> None:
    csrf = sign_in(client, db)
    page = Tags(client.get(f"/playlists/{PID}").get_data(as_text=True))
    forms = [a for a in page.named("form") if str(a.get("action", "")).endswith("/verdicts")]
    # One per track, one per reason with links (tracks 2 and 3), one for the whole playlist.
    assert len(forms) == 4 + 2 + 1
    hidden = [a for a in page.named("input") if a.get("name") == "csrf_token"]
    assert hidden and {a["value"] for a in hidden} == {csrf}
    positions = [str(a["value"]) for a in page.named("input") if a.get("name") == "track"]
    assert sorted(set(positions)) == ["1", "2", "3", "4"]
    links = [str(a["value"]) for a in page.named("option") if a.get("value")]
    assert links == ["Cock Sparrer", "Rancid", "Rancid", "The Specials"]
    assert "rank 3 of 6 artists" in page.words
    assert "1 of the 2 listeners of Cock Sparrer" in page.words


def test_the_queue_filters_by_listener_kind_of_flag_and_date(client: FlaskClient, db: Path) -> None:
    with Store.open(db) as store:
        record_verdict(
            store, PID, "flag", position=1, curator="kim", now="2026-01-05T10:00:00+00:00"
        )
        record_verdict(
            store, PID, "flag", position=2, on_reason=True, now="2026-01-20T10:00:00+00:00"
        )
        record_verdict(store, "pl-test2", "flag", now="2026-02-03T10:00:00+00:00")
    sign_in(client, db)

    def counts(query: str) -> tuple[int, int]:
        reply = client.get(f"/queue?{query}")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        page = Tags(reply.get_data(as_text=True))
        return len([a for t, a in page.tags if t == "tr" and a.get("class") == "waiting"]), len(
            [a for t, a in page.tags if t == "tr" and a.get("class") == "flag"]
        )

    assert counts("") == (1, 3)  # pl-test2 is reviewed as a whole (flagged)
    assert counts("listener=ana") == (1, 2)
    assert counts("listener=bo") == (0, 1)
    assert counts("kind=reason") == (0, 1)
    assert counts("kind=playlist") == (0, 1)
    assert counts("since=2026-01-06&until=2026-01-31") == (0, 1)
    assert counts("since=2026-01-01&until=2026-01-01") == (1, 0)
    reply = client.get("/queue?since=yesterday")
    assert reply.status_code == 400 and "since must be a date" in reply.get_data(as_text=True)


def test_the_listener_page_shows_terms_data_used_playlists_and_verdicts(
    client: FlaskClient, db: Path
) -> None:
    with Store.open(db) as store:
        record_verdict(store, PID, "reject", position=1, curator="kim")
        record_verdict(store, PID, "approve", position=2, curator="kim")
    sign_in(client, db)
    page = Tags(client.get("/listeners/ana").get_data(as_text=True))
    text = page.words
    assert "surprise 0.2 default" in text and "demo 6 rows, 6 plays used" in text
    assert [a["data-playlist"] for t, a in page.tags if a.get("data-playlist")] == [PID]
    assert "familiar 0 approved, 1 rejected, 0 flagged" in text
    assert "discovery 1 approved, 0 rejected, 0 flagged" in text
    assert "Acceptance of picks" in text
    # ana played none of the new picks after the playlist was made (all listens are older).
    assert "0% of the new picks offered were played afterwards: 0 of" in text
    assert "discovery 0 of 1 played after the offer" in text
    assert "Their own feedback: 0 loves, 0 hates, 0 skips." in text
    reply = client.get("/listeners/anna")
    assert reply.status_code == 404 and "did you mean" in reply.get_data(as_text=True).lower()
    assert client.get("/listeners?name=ana").headers["Location"] == "/listeners/ana"


def test_building_from_the_browser_reports_what_is_missing_and_keeps_the_form(
    client: FlaskClient, db: Path
) -> None:
    csrf = sign_in(client, db)
    form = {"length": "3", "seed_artist": "Rancidd", "csrf_token": csrf}
    reply = client.post("/listeners/ana/playlists", data=form)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Rancidd" in html and 'value="3"' in html
    reply = client.post("/listeners/ana/playlists", data={**form, "seed_artist": ""})
    assert reply.status_code == 400 and "tastemaker train" in reply.get_data(as_text=True)
    reply = client.post("/listeners/ana/playlists", data={**form, "length": "9999"})
    assert reply.status_code == 400 and "from 1 to 200" in reply.get_data(as_text=True)
    with Store.open(db) as store:
        assert len(list_playlists(store)) == 2


# Two curators at once ----------------------------------------------------------------------


def test_two_curators_on_the_same_track_both_stay_in_history(app: Flask, db: Path) -> None:
    kim, lou = app.test_client(), app.test_client()
    kim_csrf, lou_csrf = sign_in(kim, db, "kim"), sign_in(lou, db, "lou")
    post = f"/playlists/{PID}/verdicts"
    kim.post(post, data={"track": "1", "verdict": "approve", "csrf_token": kim_csrf})
    lou.post(post, data={"track": "1", "verdict": "reject", "csrf_token": lou_csrf})
    page = Tags(kim.get(f"/playlists/{PID}").get_data(as_text=True))
    with Store.open(db) as store:
        history = verdicts_for(store, PID)
        (current,) = in_force(history)
    assert [(v.curator, str(v.verdict)) for v in history] == [("kim", "approve"), ("lou", "reject")]
    assert current.curator == "lou"
    superseded = [a for a in page.named("li") if "superseded" in str(a.get("class"))]
    assert len(superseded) == 1 and "kim" in page.text and "lou" in page.text


# The commands ------------------------------------------------------------------------------


def test_curator_commands(db: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["--db", str(db), *args])
        return result.exit_code, result.output

    for command in (["serve"], ["curator"], ["curator", "add"], ["curator", "list"]):
        code, out = run(*command, "--help")
        assert code == 0 and "Usage" in out and len(out.splitlines()) > 4
    code, out = run("curator", "add", "kim")
    token = out.splitlines()[-1]
    assert code == 0 and "shown only now" in out and len(token) >= 40
    code, out = run("curator", "add", "kim")
    assert code == 1 and "--new-token" in out and "Traceback" not in out
    code, out = run("curator", "add", "kim", "--new-token")
    assert code == 0 and out.splitlines()[-1] != token
    with Store.open(db) as store:
        with pytest.raises(UnknownCurator):
            curators.sign_in(store, token)  # the old token no longer works
    code, out = run("curator", "list", "--json")
    assert code == 0 and '"name": "kim"' in out
    code, out = run("curator", "remove", "kim")
    assert code == 0 and "verdicts stay" in out
    code, out = run("curator", "remove", "kim")
    assert code == 1 and "no curator named 'kim'" in out
    code, out = run("curator", "add", "  ")
    assert code == 1 and "needs a name" in out
    code, out = run("curator", "list")
    assert code == 0 and "no curators yet" in out


def test_serve_refuses_a_store_in_memory() -> None:
    result = CliRunner().invoke(main, ["--db", ":memory:", "serve"])
    assert result.exit_code == 2 and "store file" in result.output


def test_the_wheel_carries_the_templates_and_the_stylesheet(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tastemaker-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {
        f"playlists/web/{p.relative_to(root / 'playlists' / 'web').as_posix()}"
        for folder in ("templates", "static")
        for p in (root / "playlists" / "web" / folder).iterdir()
    }
    assert "playlists/web/templates/playlist.html" in shipped and shipped <= names
