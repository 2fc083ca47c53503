"""Commands that make and show playlists: playlist, explain, batch-playlists."""

from __future__ import annotations

from pathlib import Path

import click

from playlists.batch import SHIP_MODES, batch_playlists
from playlists.build import build_playlist
from playlists.cli import (
    echo,
    echo_json,
    echo_note,
    engine_option,
    json_option,
    master_option,
    open_store,
)
from playlists.export import FORMATS, ExportOptions, listenbrainz_problem, render, to_table
from playlists.moment import CONTEXTS
from playlists.review import explain
from playlists.written import FileKind, write_listener_file
from recommender.files import output_target
from recommender.terms import PLAYABLE_CHOICES


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
    "--context",
    type=click.Choice(CONTEXTS),
    help="Make it for a moment: your listens count by how close their hour and day are to it.",
)
@click.option(
    "--at",
    "at",
    metavar="DATETIME",
    help="Make it for this moment (e.g. 2025-10-27T08:30, in your time zone unless it has one).",
)
@click.option(
    "--playable",
    type=click.Choice(PLAYABLE_CHOICES),
    default=None,
    help="Only tracks you can play from here: local (a file in your music folder), spotify, "
    "musicbrainz (a recording MBID), any of them, or off (default: your terms, else off).",
)
@click.option(
    "--created-for",
    metavar="USER",
    help="JSPF: the ListenBrainz user it is made for (only approved playlist bots may say so).",
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
    context: str | None,
    at: str | None,
    playable: str | None,
    created_for: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Build a tastemaker playlist for LISTENER, store it, and print or write it.

    Mostly music you know (familiar), new artists from your own scenes (discovery) and exactly
    round(length x surprise) unexpected picks from other scenes, each with its reason.
    With --context or --at, the moment you will listen at shapes them too.
    Files in M3U8 are written relative to the playlist file when they sit below it.
    """
    store = open_store(ctx)
    # A missing folder or a device fails before anything is built; the folder the file really
    # lands in (a link's target's) is what M3U8 paths are relative to.
    playlist_dir = None if output is None else output_target(output)[0].parent.resolve()
    playlist = build_playlist(
        store,
        listener,
        length=length,
        surprise=surprise,
        seed_artist=seed_artist,
        tag=tag,
        no_repeat_days=no_repeat_days,
        new_listener=new_listener,
        context=context,
        at=at,
        save=True,
        playable=playable,
    )
    text = render(playlist, fmt, ExportOptions(playlist_dir, created_for))
    problem = listenbrainz_problem(playlist) if fmt == "jspf" else None
    if problem:
        echo(f"note: {problem}", err=True)
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


@click.command("batch-playlists")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The folder to write (absent or empty): playlists/*.jsonl (JSPF, one listener a "
    "line) and summary/*.parquet (one row per listener).",
)
@engine_option
@master_option
@click.option(
    "--length", type=click.IntRange(1, 500), default=30, show_default=True, help="Tracks each."
)
@click.option(
    "--partitions",
    type=click.IntRange(1, 100_000),
    default=None,
    help="With --engine spark: listener partitions (default: Spark's default parallelism).",
)
@click.option(
    "--ship",
    type=click.Choice(SHIP_MODES),
    default="auto",
    show_default=True,
    help="With --engine spark: how the tasks reach the store and model. snapshot: one "
    "consistent copy sent to every executor (clusters without a shared filesystem); shared: "
    "the driver's own files, at its paths; auto: shared for local[...] masters, else snapshot.",
)
@json_option
@click.pass_context
def batch_playlists_command(
    ctx: click.Context,
    out: Path,
    engine: str,
    master: str | None,
    length: int,
    partitions: int | None,
    ship: str,
    as_json: bool,
) -> None:
    """Build one playlist for every listener with the newest model, as one batch job.

    Same rules and reasons as `tastemaker playlist`. A listener whose playlist cannot be built
    is a summary row with its error. Needs pyarrow (pip install 'tastemaker[spark]'); with
    --engine spark also Java 17+.
    """
    store = open_store(ctx)
    report = batch_playlists(
        store, out, engine=engine, master=master, length=length, partitions=partitions, ship=ship
    )
    if as_json:
        echo_json(
            {
                "out": str(report.out),
                "engine": report.engine,
                "listeners": report.listeners,
                "built": report.built,
                "failed": report.failed,
                "seconds": round(report.seconds, 2),
                "model_id": report.model_id,
                "shipped_bytes": report.shipped_bytes,
                "snapshot_seconds": round(report.snapshot_seconds, 2),
            }
        )
        return
    echo(report.describe())


COMMANDS = [playlist_command, explain_command, batch_playlists_command]
