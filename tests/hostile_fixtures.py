"""Worlds for the hostile cases of issue 12, shared by the tests and bench/redteam.py.

`with_secret` adds to the planted world one listener whose name, artist and import path only
their own data holds, so a search of a file's bytes tells whether any of it is left.
`hostile_playlist` stores a playlist whose listener, artist and reason carry a hostile name.
"""

from __future__ import annotations

from recommender.ingest import Listen
from recommender.store import Store
from tests.review_fixtures import familiar, save_rows
from tests.synthetic import fill_planted
from tests.terms_fixtures import DAY, T0, add

SECRET = "zyxwquorra-listener"
SECRET_ARTIST = "Qwopplewick Hexatone"
SECRET_LISTENS = 12


def with_secret(store: Store) -> Store:
    """The planted world and SECRET's 12 listens (6 of an artist only they play)."""
    fill_planted(store)
    add(
        store,
        "spotify",
        [Listen(SECRET_ARTIST, SECRET, title="Vlorb", listened_at=T0 + i * DAY) for i in range(6)]
        + [Listen("punk band 1", SECRET, title="Loud", listened_at=T0 + i * DAY) for i in range(6)],
        path=f"/home/{SECRET}/history.json",
    )
    return store


def hostile_playlist(
    store: Store, name: str, *, listener: str | None = None, playlist_id: str = "pl-hostile"
) -> str:
    """In a `review_fixtures.build_world` store: Rancid renamed `name`, ana renamed `listener`
    (default `name`), and ana's stored playlist whose reason says "You played <name> 23
    times"."""
    who = name if listener is None else listener
    with store.transaction() as conn:
        conn.execute("UPDATE artists SET name = ? WHERE id = 1", (name,))
        conn.execute("UPDATE listeners SET name = ? WHERE name = 'ana'", (who,))
    entry = familiar(store, who, 1, "Ruby Soho")
    entry["evidence"].update(artist=name, plays=23)
    entry["text"] = f"You played {name} 23 times (this track 5 times)"
    return save_rows(store, playlist_id, who, [entry])
