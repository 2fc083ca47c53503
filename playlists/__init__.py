"""The listener side of tastemaker: candidates, assembly, reasons, exports, review.

Importing the package registers its tables with the store (`playlists.schema`).
`render_report` loads on first use: its template engine and quality checks are not what a
playlist needs, and a command that makes one should not pay for them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from playlists.build import build_playlist
from playlists.errors import PlaylistError
from playlists.model import Playlist, PlaylistTrack, Reason
from playlists.review import record_verdict, review_queue
from playlists.schema import ensure_playlist_schema
from playlists.storage import explain_playlist, load_playlist, save_playlist

if TYPE_CHECKING:
    from playlists.report import render_report

__all__ = [
    "Playlist",
    "PlaylistError",
    "PlaylistTrack",
    "Reason",
    "build_playlist",
    "ensure_playlist_schema",
    "explain_playlist",
    "load_playlist",
    "record_verdict",
    "render_report",
    "review_queue",
    "save_playlist",
]


def __getattr__(name: str) -> Any:
    if name == "render_report":
        return importlib.import_module("playlists.report").render_report
    raise AttributeError(f"module 'playlists' has no attribute {name!r}")
