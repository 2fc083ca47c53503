"""ListenBrainz's published rules for importing a JSPF playlist, restated as a checker.

Read (not copied) from metabrainz/listenbrainz-server at 0a119846de26bcaa48503b6b65634d80e977c3b1,
`listenbrainz/webserver/views/playlist_api.py`: the "import playlist" page posts the file to
`POST /1/playlist/create`, which runs `validate_create_playlist_required_items`,
`validate_playlist` and then the checks in `create_playlist`. In short:

- the document has a `playlist` object with a non-empty `title`;
- `playlist.extension["https://musicbrainz.org/doc/jspf#playlist"].public` is given, a boolean;
- `collaborators`, when given, is a list of non-empty strings;
- `created_for` (in that extension, or, for old files, on the playlist) is refused with 403 for
  anyone but the server's approved playlist bots;
- every track's `identifier` (a list, or a single string) holds
  `https://musicbrainz.org/recording/<uuid>`, and the recording is taken from the FIRST
  identifier, so that one must be the recording URL with a valid UUID.

`problems(doc)` lists every rule a document breaks, as the server would report the first.
"""

from __future__ import annotations

import uuid
from typing import Any

PLAYLIST_EXTENSION_URI = "https://musicbrainz.org/doc/jspf#playlist"
RECORDING_PREFIX = "https://musicbrainz.org/recording/"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def problems(doc: Any, *, approved_bot: bool = False) -> list[str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("playlist"), dict):
        return ["JSPF playlist requires 'playlist' element"]
    playlist = doc["playlist"]
    found: list[str] = []
    if not playlist.get("title"):
        found.append("the playlist needs a non-empty title")
    extension = (playlist.get("extension") or {}).get(PLAYLIST_EXTENSION_URI) or {}
    if "public" not in extension:
        found.append("the playlist extension must give 'public'")
    elif not isinstance(extension["public"], bool):
        found.append("'public' must be a boolean")
    collaborators = extension.get("collaborators", [])
    if not isinstance(collaborators, list | tuple) or not all(
        isinstance(c, str) and c for c in collaborators
    ):
        found.append("collaborators must be a list of names")
    if (extension.get("created_for") or playlist.get("created_for")) and not approved_bot:
        found.append("created_for is refused (403) unless the submitter is an approved bot")
    for i, track in enumerate(playlist.get("track", [])):
        identifiers = track.get("identifier", []) if isinstance(track, dict) else []
        if isinstance(identifiers, str):
            identifiers = [identifiers]
        recordings = [
            str(x)[len(RECORDING_PREFIX) :]
            for x in identifiers
            if str(x).startswith(RECORDING_PREFIX)
        ]
        if not any(_is_uuid(r) for r in recordings):
            found.append(f"track {i} must contain an identifier with a recording MBID URL")
        elif not (
            str(identifiers[0]).startswith(RECORDING_PREFIX)
            and _is_uuid(str(identifiers[0])[len(RECORDING_PREFIX) :])
        ):
            found.append(f"track {i}: the first identifier must be the recording MBID URL")
    return found
