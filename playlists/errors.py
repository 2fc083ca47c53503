"""The playlist side's named errors (all in the one `TastemakerError` family).

Library code on the playlist side raises only these (and the model side's errors it passes
through); the CLI prints any of them as one `Error: ...` line and exits 1.
"""

from __future__ import annotations

from recommender.errors import TastemakerError


class PlaylistError(TastemakerError):
    """A playlist could not be built, found, judged or read back as asked."""


class NotEnoughUnexpected(PlaylistError):
    """The catalogue cannot supply the requested number of unexpected picks."""


class NotEnoughCandidates(PlaylistError):
    """Too few familiar and discovery picks are left for the requested length."""


class InvalidPlaylistRequest(PlaylistError):
    """A playlist option is out of range."""


class UnknownPlaylist(PlaylistError):
    """No playlist with that id is stored."""


class PlaylistFormatError(PlaylistError):
    """A playlist file could not be read back, or the format asked for does not exist."""


class ReviewError(PlaylistError):
    """A curator's verdict cannot be recorded as asked."""


class UnknownPosition(ReviewError):
    """The playlist has no track at that position."""


class NoReasonLink(ReviewError):
    """The reason has no "A explains B" link to judge (or not the one named)."""


class UnknownKind(PlaylistError):
    """A candidate kind that no registered stage (or built-in reason) knows."""


class CuratorError(PlaylistError):
    """A curator cannot be added, found or signed in as asked."""


class UnknownCurator(CuratorError):
    """No curator of that name (or with that token) exists."""


class CuratorExists(CuratorError):
    """A curator of that name already exists."""


class ForgetIncomplete(TastemakerError):
    """Forget deleted the rows but could not finish cleaning up; running it again finishes."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report  # the `ForgetReport` of what was done before it stopped
