"""The listener side of tastemaker: candidates, assembly, reasons, exports, review."""

from playlists.build import build_playlist
from playlists.model import Playlist, PlaylistTrack, Reason
from playlists.storage import explain_playlist, load_playlist, save_playlist

__all__ = [
    "Playlist",
    "PlaylistTrack",
    "Reason",
    "build_playlist",
    "explain_playlist",
    "load_playlist",
    "save_playlist",
]
