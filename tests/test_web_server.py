"""The workbench on its real server (`tastemaker serve` in a child process, waitress, a free
localhost port), driven over HTTP by the script client: binding, refusals, and two curators
judging the same track at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from playlists.review import in_force
from playlists.storage import verdicts_for
from playlists.web import curators
from playlists.web.client import Served, WorkbenchClient, served
from recommender.store import Store
from tests.review_fixtures import world_with_playlist

PID = "pl-test1"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("served") / "workbench.db"
    with Store.open(path) as store:
        world_with_playlist(store)
    return path


@pytest.fixture(scope="module")
def server(db: Path) -> Iterator[Served]:
    with served(db) as running:
        yield running


def signed_in(server: Served, db: Path, name: str) -> WorkbenchClient:
    with Store.open(db) as store:
        token = curators.add_curator(store, name, new_token=True).token
    client = WorkbenchClient(server.url)
    client.sign_in(token)
    assert client.page(f"/playlists/{PID}").status == 200 and client.csrf_token
    return client


def verdict_count(db: Path) -> int:
    with Store.open(db) as store:
        return len(verdicts_for(store, PID))


def test_serve_binds_to_localhost_and_says_so(server: Served) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert any("bound to 127.0.0.1 only" in line for line in server.announced)
    assert WorkbenchClient(server.url).request("GET", "/queue").status == 403


def test_no_session_or_a_wrong_csrf_token_is_refused_and_changes_nothing(
    server: Served, db: Path
) -> None:
    before = verdict_count(db)
    stranger = WorkbenchClient(server.url)
    assert stranger.post_verdict(PID, "reject", track=1, csrf_token="0" * 64).status == 403
    kim = signed_in(server, db, "kim")
    assert kim.post_verdict(PID, "reject", track=1, csrf_token="0" * 64).status == 403
    assert kim.post_verdict(PID, "reject", track=1, csrf_token="").status == 403
    no_cookie = kim.request(
        "POST",
        f"/playlists/{PID}/verdicts",
        {"verdict": "reject", "track": 1, "csrf_token": kim.csrf_token or ""},
        with_session=False,
    )
    assert no_cookie.status == 403
    assert verdict_count(db) == before
    accepted = kim.post_verdict(PID, "reject", track=1, note="scripted")
    assert accepted.status == 303 and verdict_count(db) == before + 1
    with Store.open(db) as store:
        newest = verdicts_for(store, PID)[-1]
    assert (newest.curator, newest.note, newest.position) == ("kim", "scripted", 1)


def test_two_curators_judging_at_once_never_lose_a_verdict(server: Served, db: Path) -> None:
    each = 25
    clients = {name: signed_in(server, db, name) for name in ("ana-c", "bo-c")}
    before = verdict_count(db)
    start = threading.Barrier(len(clients))
    failures: list[int] = []

    def judge(name: str, client: WorkbenchClient) -> None:
        start.wait()
        for i in range(each):
            verdict = "approve" if (i + len(name)) % 2 else "reject"
            reply = client.post_verdict(PID, verdict, track=2, note=f"{name} {i}")
            if reply.status != 303:
                failures.append(reply.status)

    threads = [threading.Thread(target=judge, args=item) for item in clients.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with Store.open(db) as store:
        history = [v for v in verdicts_for(store, PID)[before:] if v.position == 2]
        current = [v for v in in_force(verdicts_for(store, PID)) if v.position == 2]
    assert len(history) == 2 * each
    for name in clients:
        assert sorted(str(v.note) for v in history if v.curator == name) == sorted(
            f"{name} {i}" for i in range(each)
        )
    newest = max(history, key=lambda v: (v.created_at, v.id))
    assert current == [newest]
    # The page shows the whole history of track 2: every verdict, one in force.
    page = clients["ana-c"].page(f"/playlists/{PID}").text
    row = page[page.index('id="track-2"') : page.index('id="track-3"')]
    assert row.count('class="verdict v-') == 2 * each
    assert row.count("superseded") == 2 * each - 1
