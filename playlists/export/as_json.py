"""The JSON format: `Playlist.to_dict()` (the documented contract: `{"id", "listener",
"tracks": [{"position", "artist", "title", "kind", "reason": {"text", ...}}]}`, each track
with its `locations` and the kinds it is `playable` as), and its parser."""

from __future__ import annotations

import json

from playlists.errors import PlaylistFormatError
from playlists.model import Playlist


def to_json(playlist: Playlist) -> str:
    return json.dumps(playlist.to_dict(), indent=2, ensure_ascii=False) + "\n"


def parse_json(text: str) -> Playlist:
    """The playlist back from `to_json` text."""
    try:
        return Playlist.from_dict(json.loads(text))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlaylistFormatError(
            f"not a tastemaker JSON playlist ({exc}); export one with --format json"
        ) from exc
