"""The playlist side's named errors (all in the one `TastemakerError` family)."""

from __future__ import annotations

from recommender.errors import TastemakerError


class PlaylistError(TastemakerError):
    """A playlist could not be built as asked."""


class NotEnoughUnexpected(PlaylistError):
    """The catalogue cannot supply the requested number of unexpected picks."""


class NotEnoughCandidates(PlaylistError):
    """Too few familiar and discovery picks are left for the requested length."""


class InvalidPlaylistRequest(PlaylistError):
    """A playlist option is out of range."""


class UnknownKind(PlaylistError):
    """A candidate kind that no registered stage (or built-in reason) knows."""
