"""Who may use the workbench: curators, their sign-in tokens and their sessions.

The one module that reads and writes the `curators` and `curator_sessions` tables.

- A curator is a name and the SHA-256 of a token. `add_curator` makes the token (32 random
  bytes, URL-safe) and returns it once; the store never holds the token itself, so a lost
  token is replaced (`add_curator(..., new_token=True)`), never recovered. The token has 256
  bits of entropy, so a plain hash is enough: nothing can be guessed from it, and no slow
  password hash is needed.
- Signing in with a token opens a session: a second random value that the browser keeps in
  an HttpOnly, SameSite=Strict cookie; the store holds only its hash and when it expires.
- Every form carries a CSRF token derived from the session (an HMAC of a fixed label keyed by
  the session id): unguessable without the cookie, nothing more to store, gone with the
  session.

Verdicts keep the curator's name as text, so removing a curator keeps their history.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from playlists.errors import CuratorError, CuratorExists, UnknownCurator
from playlists.schema import ensure_playlist_schema
from recommender.store import Store, utc_now

SESSION_HOURS = 12
MAX_NAME = 100
_CSRF_LABEL = b"tastemaker workbench form"


def ensure_schema(store: Store) -> None:
    """Make sure the curator tables exist (they are a migration of the playlist side's part)."""
    ensure_playlist_schema(store)


@dataclass(frozen=True)
class Curator:
    """A curator as listed: name, when added, when last signed in, open sessions."""

    id: int
    name: str
    created_at: str
    signed_in_at: str | None = None
    sessions: int = 0


@dataclass(frozen=True)
class NewCurator:
    """A curator just added (or given a new token), with the token shown this once."""

    curator: Curator
    token: str


@dataclass(frozen=True)
class SignedIn:
    """An open session: who, its id (only ever in the cookie and in memory), when it ends."""

    curator: Curator
    session_id: str
    expires_at: str

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.session_id)

    def accepts(self, given: str | None) -> bool:
        """True when `given` is this session's CSRF token (compared in constant time)."""
        return bool(given) and hmac.compare_digest(str(given), self.csrf_token)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def csrf_token(session_id: str) -> str:
    return hmac.new(session_id.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise CuratorError("a curator needs a name: `tastemaker curator add NAME`")
    if len(cleaned) > MAX_NAME:
        raise CuratorError(f"a curator's name has at most {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise CuratorError("a curator's name cannot hold control characters")
    return cleaned


# Curators ----------------------------------------------------------------------------------


def add_curator(store: Store, name: str, *, new_token: bool = False) -> NewCurator:
    """Add curator `name` with a fresh token (returned once, stored only as its hash).

    With `new_token`, an existing curator gets a new token instead and every session of theirs
    ends; without it, an existing name raises CuratorExists.
    """
    ensure_schema(store)
    cleaned = _clean_name(name)
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM curators WHERE name = ?", (cleaned,)).fetchone()
        if row is not None and not new_token:
            raise CuratorExists(
                f"a curator named {cleaned!r} exists already: `tastemaker curator add "
                f"{cleaned} --new-token` gives them a new token (their sessions end)"
            )
        if row is None:
            conn.execute(
                "INSERT INTO curators (name, token_sha256, created_at) VALUES (?, ?, ?)",
                (cleaned, _sha256(token), now),
            )
        else:
            conn.execute(
                "UPDATE curators SET token_sha256 = ? WHERE id = ?", (_sha256(token), row[0])
            )
            conn.execute("DELETE FROM curator_sessions WHERE curator_id = ?", (row[0],))
    return NewCurator(find_curator(store, cleaned), token)


def list_curators(store: Store) -> list[Curator]:
    """Every curator by name, with how many sessions of theirs are open now."""
    ensure_schema(store)
    rows = store.conn.execute(
        "SELECT c.id, c.name, c.created_at, c.signed_in_at, count(s.id_sha256)"
        " FROM curators c LEFT JOIN curator_sessions s ON s.curator_id = c.id"
        " AND s.expires_at > ? GROUP BY c.id ORDER BY c.name",
        (utc_now(),),
    )
    return [Curator(int(i), str(n), str(c), s, int(k)) for i, n, c, s, k in rows]


def find_curator(store: Store, name: str) -> Curator:
    """The curator named `name` (raises UnknownCurator, naming those who exist)."""
    for curator in list_curators(store):
        if curator.name == name:
            return curator
    known = ", ".join(c.name for c in list_curators(store)) or "none yet"
    raise UnknownCurator(
        f"no curator named {name!r} (curators: {known}); add one with `tastemaker curator add`"
    )


def remove_curator(store: Store, name: str) -> Curator:
    """Remove curator `name` and end their sessions; their verdicts stay, under their name."""
    curator = find_curator(store, name)
    with store.transaction() as conn:
        conn.execute("DELETE FROM curator_sessions WHERE curator_id = ?", (curator.id,))
        conn.execute("DELETE FROM curators WHERE id = ?", (curator.id,))
    return curator


# Sessions ----------------------------------------------------------------------------------


def sign_in(store: Store, token: str, *, hours: float = SESSION_HOURS) -> SignedIn:
    """Open a session for the curator whose token this is (raises UnknownCurator)."""
    row = store.conn.execute(
        "SELECT id, name, created_at FROM curators WHERE token_sha256 = ?",
        (_sha256(token.strip()),),
    ).fetchone()
    if row is None:
        raise UnknownCurator(
            "that token is not a curator's: `tastemaker curator add NAME` prints one (and "
            "`--new-token` replaces a lost one)"
        )
    now = utc_now()
    expires = _later(now, hours)
    session_id = secrets.token_urlsafe(32)
    with store.transaction() as conn:
        conn.execute("DELETE FROM curator_sessions WHERE expires_at <= ?", (now,))
        conn.execute(
            "INSERT INTO curator_sessions (id_sha256, curator_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (_sha256(session_id), row[0], now, expires),
        )
        conn.execute("UPDATE curators SET signed_in_at = ? WHERE id = ?", (now, row[0]))
    return SignedIn(Curator(int(row[0]), str(row[1]), str(row[2]), now), session_id, expires)


def session(store: Store, session_id: str | None) -> SignedIn | None:
    """The open, unexpired session with this id, or None."""
    if not session_id:
        return None
    try:
        row = store.conn.execute(
            "SELECT c.id, c.name, c.created_at, c.signed_in_at, s.expires_at"
            " FROM curator_sessions s JOIN curators c ON c.id = s.curator_id"
            " WHERE s.id_sha256 = ? AND s.expires_at > ?",
            (_sha256(session_id), utc_now()),
        ).fetchone()
    except sqlite3.OperationalError:  # no curator tables yet: nobody can be signed in
        return None
    if row is None:
        return None
    curator = Curator(int(row[0]), str(row[1]), str(row[2]), row[3])
    return SignedIn(curator, session_id, str(row[4]))


def sign_out(store: Store, session_id: str) -> None:
    """End the session with this id (nothing happens for an unknown one)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM curator_sessions WHERE id_sha256 = ?", (_sha256(session_id),))


def _later(now: str, hours: float) -> str:
    return (datetime.fromisoformat(now) + timedelta(hours=hours)).isoformat(timespec="seconds")
