"""A readable terminal listing: position, kind, artist - title, reason; then where the
tracks can be played, and the notes. For people only: it has no parser."""

from __future__ import annotations

from playlists.export.records import display, title_of
from playlists.model import KINDS, Playlist


def to_table(playlist: Playlist, width: int = 38) -> str:
    counts = ", ".join(f"{playlist.count(k)} {k}" for k in KINDS)
    label = "personalised" if playlist.personalised else "NOT personalised"
    lines = [
        f"{title_of(playlist)}  [{playlist.id}]",
        f"{len(playlist.tracks)} tracks ({counts}); {label}; model {playlist.model_id}; "
        f"surprise {playlist.params.get('surprise')}",
        "",
        f"{'#':>3}  {'kind':<10}  {'track':<{width}}  reason",
    ]
    for t in playlist.tracks:
        name = display(t)
        if len(name) > width:
            name = name[: width - 1] + "…"
        lines.append(f"{t.position:>3}  {t.kind:<10}  {name:<{width}}  {t.reason.text}")
    where = playable_summary(playlist)
    if where:
        lines.extend(["", where])
    if playlist.notes:
        lines.append("")
        lines.extend(f"note: {n}" for n in playlist.notes)
    return "\n".join(lines) + "\n"


def playable_summary(playlist: Playlist) -> str | None:
    """ "playable: 12 from a file, 20 on Spotify, 25 with a MusicBrainz id; 3 nowhere", or
    None when no track can be played from anywhere (artist-level data)."""
    kinds = [t.locations.kinds for t in playlist.tracks]
    if not any(kinds):
        return None
    parts = [
        f"{sum(kind in k for k in kinds)} {label}"
        for kind, label in (
            ("local", "from a file"),
            ("spotify", "on Spotify"),
            ("musicbrainz", "with a MusicBrainz id"),
        )
    ]
    return f"playable: {', '.join(parts)}; {sum(not k for k in kinds)} nowhere"
