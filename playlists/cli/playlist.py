"""Commands that make and show playlists: playlist, explain."""

from __future__ import annotations

from pathlib import Path

import click

from playlists.build import build_playlist
from playlists.cli import echo, echo_json, echo_note, json_option, open_store
from playlists.export import FORMATS, render, to_table
from playlists.review import explain
from playlists.written import FileKind, write_listener_file
from recommender.files import output_target


@click.command("playlist")
@click.option("--listener", required=True, help="Whose playlist (a listener in the store).")
@click.option(
    "--length", type=click.IntRange(min=1), default=30, show_default=True, help="Number of tracks."
)
@click.option(
    "--surprise",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Share of unexpected picks, 0..1 (default: the listener's terms, else 0.2).",
)
@click.option("--seed-artist", help="Steer toward this artist's scene; it opens the playlist.")
@click.option("--tag", help="Prefer artists carrying this tag within every kind.")
@click.option(
    "--no-repeat-days",
    type=click.IntRange(min=0),
    default=None,
    help="Skip your tracks played in the last N days (default: your terms, else 3).",
)
@click.option(
    "--new-listener",
    is_flag=True,
    help="Allow a listener not in the store: a non-personalised playlist.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of the terminal (a regular file, replaced whole; never a "
    "device, and a link is followed only to a regular file, saying so).",
)
@click.pass_context
def playlist_command(
    ctx: click.Context,
    listener: str,
    length: int,
    surprise: float | None,
    seed_artist: str | None,
    tag: str | None,
    no_repeat_days: int | None,
    new_listener: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """Build a tastemaker playlist for LISTENER, store it, and print or write it.

    Mostly music you know (familiar), new artists from your own scenes (discovery) and exactly
    round(length x surprise) unexpected picks from other scenes, each with its reason.
    """
    store = open_store(ctx)
    if output is not None:
        output_target(output)  # a missing folder or a device fails before anything is built
    playlist = build_playlist(
        store,
        listener,
        length=length,
        surprise=surprise,
        seed_artist=seed_artist,
        tag=tag,
        no_repeat_days=no_repeat_days,
        new_listener=new_listener,
        save=True,
    )
    text = render(playlist, fmt)
    if output is None:
        echo(text, nl=False)
        return
    saved = write_listener_file(
        store,
        output,
        text,
        kind=FileKind.PLAYLIST,
        listener_id=store.listener_id(listener),
        playlist_id=playlist.id,
    )
    where = saved.written.describe()
    echo(f"playlist {playlist.id}: {len(playlist.tracks)} tracks written to {where}")
    echo_note(saved)


@click.command("explain")
@click.argument("playlist_id")
@json_option
@click.pass_context
def explain_command(ctx: click.Context, playlist_id: str, as_json: bool) -> None:
    """Show a stored playlist again: every track's kind, reason and evidence, its terms, and
    the curators' verdicts on it."""
    explained = explain(open_store(ctx), playlist_id)
    if as_json:
        echo_json(explained.to_dict())
        return
    echo(to_table(explained.playlist), nl=False)
    if explained.verdicts:
        echo("\nverdicts:")
        for line in explained.verdict_lines():
            echo(f"  {line}")


COMMANDS = [playlist_command, explain_command]
