"""The matching keys for artist, track and tag names.

Display names are kept as given; the key decides when two spellings are the same thing:
case-folded, accents stripped, punctuation and spacing folded, a leading "The" handled in both
"The Beatles" and "Beatles, The" forms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_TRAILING_THE = re.compile(r"^(.*),\s*the$")
_LEADING_THE = re.compile(r"^the\s+(.+)$")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Imports compute the key of the same few thousand names for every listen; caching makes
# that a dictionary lookup.
@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Return the key under which `name` matches other spellings of the same name."""
    text = _strip_accents(name).casefold().strip()
    text = _SPACE.sub(" ", text)
    moved = _TRAILING_THE.match(text)
    if moved:
        text = moved.group(1).strip()
    else:
        leading = _LEADING_THE.match(text)
        if leading:
            text = leading.group(1)
    folded = _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()
    # A name made only of punctuation ("!!!", "+/-") keeps its characters rather than
    # collapsing to an empty key that would merge unrelated artists.
    return folded or text


def tag_key(tag: str) -> str:
    """How a tag is stored: case-folded with spacing collapsed ("Hip  Hop" -> "hip hop").

    Matching a typed tag against stored ones goes further (`name_key`, in the catalogue's
    resolver), so "hip-hop" finds "hip hop"; the stored spelling keeps its punctuation.
    """
    return " ".join(tag.casefold().split())


# What players and services write when they do not know the artist: never an artist. Compared
# case-folded with spacing collapsed, so "<Untagged>" and "<untagged>" are one placeholder.
# Rockbox and other players write <Untagged>; Spotify's local files and iTunes "Unknown
# Artist"; MusicBrainz's special-purpose artist is "[unknown]".
PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    {
        "",
        "<untagged>",
        "[untagged]",
        "untagged",
        "<unknown>",
        "[unknown]",
        "(unknown)",
        "unknown",
        "unknown artist",
        "<unknown artist>",
        "[unknown artist]",
        "[no artist]",
        "no artist",
        "?",
        "-",
    }
)


# Asked for every record of an import, of the same few thousand names: cached like name_key.
@lru_cache(maxsize=1 << 16)
def is_placeholder(name: str | None) -> bool:
    """True for a missing or placeholder artist name ("<Untagged>", "Unknown Artist", ...)."""
    if name is None:
        return True
    return " ".join(name.casefold().split()) in PLACEHOLDER_NAMES
