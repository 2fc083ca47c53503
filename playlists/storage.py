"""Playlists in the store: saved in one transaction with their reasons, loaded back, explained.

Rows: `playlists` (params, model_id, terms and their effects, notes; `params` also records
`personalised`) and `playlist_tracks` (one row per position with kind and reason JSON).
"""

from __future__ import annotations

import json
from typing import Any

from playlists.model import Playlist, PlaylistTrack, Reason
from recommender.errors import TastemakerError
from recommender.store import Store


class UnknownPlaylist(TastemakerError):
    """No playlist with that id is stored."""


def save_playlist(store: Store, playlist: Playlist) -> None:
    """Store `playlist` and all its tracks in one transaction."""
    listener_id = store.listener_id(playlist.listener)
    params = {**dict(playlist.params), "personalised": playlist.personalised}
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO playlists (id, listener_id, listener_name, created_at, params, model_id,"
            " terms, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                playlist.id,
                listener_id,
                playlist.listener,
                playlist.created_at,
                json.dumps(params),
                playlist.model_id,
                json.dumps(dict(playlist.terms)),
                json.dumps(list(playlist.notes)),
            ),
        )
        conn.executemany(
            "INSERT INTO playlist_tracks (playlist_id, position, artist_id, track_id, kind, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    playlist.id,
                    t.position,
                    t.artist_id,
                    t.track_id,
                    t.kind,
                    json.dumps(t.reason.to_dict()),
                )
                for t in playlist.tracks
            ],
        )


def load_playlist(store: Store, playlist_id: str) -> Playlist:
    """The stored playlist `playlist_id`, exactly as it was built."""
    row = store.conn.execute(
        "SELECT id, listener_name, created_at, params, model_id, terms, notes FROM playlists"
        " WHERE id = ?",
        (playlist_id,),
    ).fetchone()
    if row is None:
        recent = [
            r[0]
            for r in store.conn.execute(
                "SELECT id FROM playlists ORDER BY created_at DESC, id LIMIT 5"
            )
        ]
        hint = f"; recent playlists: {', '.join(recent)}" if recent else ""
        raise UnknownPlaylist(
            f"no playlist with id {playlist_id!r}: build one with `tastemaker playlist`{hint}"
        )
    pid, listener, created_at, params_json, model_id, terms_json, notes_json = row
    params: dict[str, Any] = json.loads(params_json)
    tracks = []
    for (
        position,
        artist_id,
        artist,
        track_id,
        title,
        duration_ms,
        kind,
        reason,
    ) in store.conn.execute(
        "SELECT pt.position, pt.artist_id, a.name, pt.track_id, t.title, t.duration_ms,"
        " pt.kind, pt.reason FROM playlist_tracks pt JOIN artists a ON a.id = pt.artist_id"
        " LEFT JOIN tracks t ON t.id = pt.track_id WHERE pt.playlist_id = ?"
        " ORDER BY pt.position",
        (pid,),
    ):
        tracks.append(
            PlaylistTrack(
                position=int(position),
                artist_id=int(artist_id),
                artist=str(artist),
                track_id=None if track_id is None else int(track_id),
                title=title,
                duration_ms=None if duration_ms is None else int(duration_ms),
                kind=str(kind),
                reason=Reason.from_dict(json.loads(reason)),
            )
        )
    # `personalised` is stored inside params for SQL readers; in memory it is its own field.
    return Playlist(
        id=str(pid),
        listener=str(listener),
        created_at=str(created_at),
        params=params,
        model_id=model_id,
        personalised=bool(params.pop("personalised", True)),
        terms=json.loads(terms_json),
        notes=tuple(json.loads(notes_json)),
        tracks=tuple(tracks),
    )


def explain_playlist(store: Store, playlist_id: str) -> Playlist:
    """The stored playlist with its reasons, to be shown again (`tastemaker explain`)."""
    return load_playlist(store, playlist_id)
