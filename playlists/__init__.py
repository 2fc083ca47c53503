"""The listener side of tastemaker: candidates, assembly, reasons, exports, review."""

from playlists.model import Playlist, PlaylistTrack, Reason
from playlists.storage import explain_playlist, load_playlist, save_playlist

__all__ = [
    "Playlist",
    "PlaylistTrack",
    "Reason",
    "explain_playlist",
    "load_playlist",
    "save_playlist",
]
