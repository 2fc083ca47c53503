"""Only what people played is used: not who they are, not whom they know."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.ingest import Listen, expanded
from recommender.interactions import load_interactions
from recommender.sources import hetrec, import_path
from recommender.store import Store
from tests.terms_fixtures import small_world

HETREC_FILES = {
    "artists.dat": "id\tname\turl\tpictureURL\n1\tRancid\tu\tp\n2\tFleet Pines\tu\tp\n",
    "tags.dat": "tagID\ttagValue\n7\tpunk\n",
    "user_artists.dat": "userID\tartistID\tweight\n2\t1\t50\n3\t2\t9\n",
    "user_taggedartists.dat": "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t7\t1\t1\t2010\n",
    "user_friends.dat": "userID\tfriendID\n2\t3\n",
}


def test_hetrec_friends_list_is_never_opened(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in HETREC_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    opened: list[str] = []
    real_open = Path.open

    def spying_open(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    records = list(expanded(hetrec.read(tmp_path)))
    assert sum(isinstance(r, Listen) for r in records) == 2
    assert "user_artists.dat" in opened  # the spy does see the reader's files
    assert "user_friends.dat" not in opened
    monkeypatch.undo()
    # And without the friends file at all, the import is the same.
    with_friends = import_path(store, "hetrec", tmp_path)
    (tmp_path / "user_friends.dat").unlink()
    with Store.open(":memory:") as other:
        without = import_path(other, "hetrec", tmp_path)
        assert (without.imported, without.artists) == (with_friends.imported, 2)


def test_model_input_does_not_depend_on_who_the_listener_is(store: Store) -> None:
    small_world(store)
    before = load_interactions(store)
    with store.transaction() as conn:
        conn.execute("UPDATE listeners SET name = 'anon-' || id, created_at = '1999-01-01'")
    after = load_interactions(store)
    assert (before.weights != after.weights).nnz == 0
    assert before.artists.tolist() == after.artists.tolist()
