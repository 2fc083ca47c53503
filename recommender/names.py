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


# What a name may hold that acts instead of showing: control characters (C0, DEL, C1: ESC
# starts terminal commands, BEL rings, CR overwrites the line), line and paragraph separators,
# and the bidi controls that start or end an embedding, override or isolate (U+202A-U+202E,
# U+2066-U+2069): a name ending in U+202E shows the "23 plays" after it as "32".
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible_controls(text: str, keep: str = "") -> str:
    """`text` with every control and bidi control written out as a `\\uXXXX` escape, so it is
    seen instead of obeyed; the characters in `keep` (for example a newline) stay as they are.

    The escape is also JSON's, so JSON text stays valid JSON with the same value.
    """
    if not _ACTIVE.search(text):
        return text
    return _ACTIVE.sub(lambda m: m[0] if m[0] in keep else f"\\u{ord(m[0]):04x}", text)


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
