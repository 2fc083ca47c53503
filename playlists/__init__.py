"""The listener side of tastemaker: candidates, assembly, reasons, exports, review.

Importing the package registers its tables with the store (`playlists.schema`).
"""

from playlists.build import build_playlist
from playlists.errors import PlaylistError
from playlists.model import Playlist, PlaylistTrack, Reason
from playlists.report import render_report
from playlists.review import record_verdict, review_queue
from playlists.schema import ensure_playlist_schema
from playlists.storage import explain_playlist, load_playlist, save_playlist

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
