"""Commands that bring data in, describe it and take it out for Spark: import, stats, demo,
export-listens."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from playlists.build import build_playlist
from playlists.cli import echo, echo_json, json_option, open_store
from playlists.export import to_json, to_table
from playlists.offers import stats_with_acceptance
from recommender.demo import DEMO_LISTENER, prepare_demo
from recommender.ingest.writer import ImportReport
from recommender.lake import DEFAULT_BUCKETS, export_listens
from recommender.sources import READERS, import_paths
from recommender.stats import community_sentence, store_stats


def _progress(rows: int) -> None:
    echo(f"... {rows:,} rows read", err=True)


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(READERS)))
@click.argument(
    "paths",
    metavar="PATH...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option("--listener", help="Whose listens these are (for personal exports).")
@click.option(
    "--encoding",
    help="Text encoding of a personal export that is not UTF-8 (e.g. latin-1).",
)
@json_option
@click.pass_context
def import_command(
    ctx: click.Context,
    fmt: str,
    paths: tuple[Path, ...],
    listener: str | None,
    encoding: str | None,
    as_json: bool,
) -> None:
    """Import each PATH in FORMAT. All of a PATH lands, or none of it does.

    Several PATHs (a community's exports) are imported in order in one process; the first
    that fails stops the command, and those before it stay imported.

    Personal exports: listenbrainz (export zip or a listens file), spotify (Extended
    Streaming History or account-data zip, folder or file), lastfm (scrobble CSV or
    .scrobbler.log). Research data: hetrec (the HetRec 2011 Last.fm 2k folder).
    """
    store = open_store(ctx)

    def landed(report: ImportReport) -> None:
        if as_json:
            return
        _echo_report(report)
        if report.listener and not listener:
            echo(f"  listener: {report.listener} (named by the export)")

    reports = import_paths(
        store, fmt, paths, listener=listener, progress=_progress, encoding=encoding, landed=landed
    )
    if as_json:
        # One PATH prints its report, as it always has; several print the list of them.
        echo_json(reports[0].as_dict() if len(reports) == 1 else [r.as_dict() for r in reports])


def _echo_report(report: ImportReport) -> None:
    feedback = ""
    if report.feedback or report.feedback_duplicates:
        feedback = f"; {report.feedback:,} feedback (loves, hates, skips) added"
        if report.feedback_pending:
            feedback += f", {report.feedback_pending:,} waiting for their artist or track"
    echo(
        f"{report.format} {report.path}: {report.imported:,} imported, "
        f"{report.duplicates:,} duplicate, {report.skipped:,} skipped, "
        f"{report.rejected:,} rejected{feedback}"
    )
    for source, count in sorted(report.already_from.items()):
        echo(f"  duplicate {count:,}: already imported from {source}")
    if report.feedback_placed:
        echo(f"  {report.feedback_placed:,} earlier feedback now placed on its artist or track")
    for reason, count in sorted(report.skip_reasons.items()):
        echo(f"  skipped {count:,}: {reason}")
    for reject in report.rejects:
        echo(f"  rejected {reject.location}: {reject.reason}")
    if report.rejected > len(report.rejects):
        echo(f"  ... and {report.rejected - len(report.rejects):,} more rejected rows")
    for note in report.notes:
        echo(f"  note: {note}")
    if report.community is not None:
        echo(f"  {community_sentence(report.community)}")


@click.command("stats")
@json_option
@click.pass_context
def stats_command(ctx: click.Context, as_json: bool) -> None:
    """Summarise what the store holds, its loves, hates and skips, and how many of the
    discovery and unexpected picks each listener was offered they played afterwards."""
    _echo_stats(stats_with_acceptance(open_store(ctx)), as_json)


SHOWN_LISTENERS = 50  # in the text output; --json lists every listener


def _echo_stats(stats: dict[str, object], as_json: bool) -> None:
    if as_json:
        echo_json(stats)
        return
    for key, value in stats.items():
        if key == "acceptance" and isinstance(value, dict):
            echo("acceptance (discovery and unexpected picks played after the offer):")
            if not value:
                echo("  no playlist stored yet")
            for listener, a in value.items():
                rate = "-" if a["rate"] is None else f"{a['rate']:.0%}"
                echo(f"  {listener}: {a['accepted']} of {a['offered']} ({rate})")
        elif key == "listeners_known" and isinstance(value, dict):
            echo("listeners (artists known to the other listeners / all; share of plays):")
            for name, known in list(value.items())[:SHOWN_LISTENERS]:
                echo(
                    f"  {name}: {known['known_artists']:,} / {known['artists']:,} artists, "
                    f"{known['known_share_of_plays']:.0%} of {known['plays']:,} plays"
                )
            if len(value) > SHOWN_LISTENERS:
                echo(f"  ... and {len(value) - SHOWN_LISTENERS:,} more (stats --json)")
        elif isinstance(value, dict):
            echo(f"{key}:")
            for sub, sub_value in value.items():
                echo(f"  {sub}: {sub_value}")
        else:
            echo(f"{key}: {value}")


@click.command("demo")
@click.option(
    "--listener", default=DEMO_LISTENER, show_default=True, help="Whose playlist to show."
)
@click.option(
    "--length", type=click.IntRange(min=1), default=20, show_default=True, help="Number of tracks."
)
@json_option
@click.pass_context
def demo_command(ctx: click.Context, listener: str, length: int, as_json: bool) -> None:
    """Import the embedded demo world (once), train if needed, print a playlist with reasons."""
    store = open_store(ctx)
    ready = prepare_demo(store, progress=_progress)
    playlist = build_playlist(store, listener, length=length, model=ready.model, save=True)
    if as_json:
        echo_json(
            {
                "store": store_stats(store),
                "model_id": ready.model.model_id,
                "trained": ready.trained,
                "playlist": json.loads(to_json(playlist)),
            }
        )
        return
    if ready.imported is None:
        echo("demo world already in the store")
    else:
        _echo_report(ready.imported)
    counts = store.counts()
    echo(
        f"store {store.path}: {counts['listeners']} listeners, {counts['artists']} artists, "
        f"{counts['tracks']:,} tracks, {counts['listens']:,} listens"
    )
    verb = "trained" if ready.trained else "using"
    echo(f"{verb} model {ready.model.model_id} ({len(ready.model.graph.scenes)} scenes)\n")
    echo(to_table(playlist))
    again = shlex.join([*_program(), "--db", str(store.path), "explain", playlist.id])
    echo(f"\nstored as {playlist.id}: `{again}` shows it again")


def _program() -> list[str]:
    """How this tastemaker was started, so a hint can be pasted as it is (`make demo` runs
    .venv/bin/tastemaker, which need not be on PATH)."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("tastemaker")
    if started.name == "tastemaker":
        return [str(started)]
    return [sys.executable, "-m", "playlists"]


@click.command("export-listens")
@click.option(
    "--parquet",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The folder to write (absent or empty): listens partitioned by listener, plus the "
    "catalogue (docs/scale.md).",
)
@click.option(
    "--buckets",
    type=click.IntRange(1, 4096),
    default=DEFAULT_BUCKETS,
    show_default=True,
    help="Partitions of the listens (bucket = listener id modulo this).",
)
@json_option
@click.pass_context
def export_listens_command(ctx: click.Context, folder: Path, buckets: int, as_json: bool) -> None:
    """Write the store's listens as Parquet for Spark (`train --engine spark`, a cluster).

    Every listen is written, none dropped: each listener's terms travel as columns
    (personalise, source_ignored, half_life_days, usable). Needs pyarrow
    (pip install 'tastemaker[spark]').
    """
    store = open_store(ctx)
    done = export_listens(store, folder, buckets)
    if as_json:
        echo_json(
            {
                "folder": str(done.folder),
                "listens": done.listens,
                "usable": done.usable,
                "listeners": done.listeners,
                "artists": done.artists,
                "buckets": done.buckets,
                "reference_time": done.reference_time,
            }
        )
        return
    echo(done.describe())


COMMANDS = [import_command, stats_command, demo_command, export_listens_command]
