"""Commands for curators: report (the HTML page) and review (verdicts and the queue)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from playlists.cli import echo, echo_json, echo_note, json_option, open_store
from playlists.review import ReviewQueue, record_verdict, review_queue
from playlists.storage import Judgement, Subject
from playlists.written import FileKind, write_listener_file


@click.command("report")
@click.argument("playlist_id")
@click.option(
    "--html",
    "html_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the page to FILE ('-' prints it).",
)
@click.pass_context
def report_command(ctx: click.Context, playlist_id: str, html_file: Path) -> None:
    """Write the curator's page for PLAYLIST_ID: reasons, evidence, quality label, verdicts.

    One self-contained HTML file (no network, no external assets) that prints cleanly.
    """
    # Here, not at the top: its template engine would load with every other command.
    from playlists.report import render_report

    store = open_store(ctx)
    page = render_report(store, playlist_id)
    if str(html_file) == "-":
        echo(page, nl=False)
        return
    saved = write_listener_file(
        store, html_file, page, kind=FileKind.REPORT, playlist_id=playlist_id
    )
    echo(f"report for {playlist_id} written to {saved.written.describe()}")
    echo_note(saved)


def _default_curator() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return None


@click.command("review")
@click.argument("playlist_id", required=False)
@click.option("--track", "position", type=click.IntRange(min=1), help="Judge track N only.")
@click.option(
    "--verdict", type=click.Choice([str(j) for j in Judgement]), help="approve, reject or flag."
)
@click.option(
    "--reason",
    "on_reason",
    is_flag=True,
    help="Judge track N's reason (its 'A explains B' links), not the track itself.",
)
@click.option(
    "--link",
    "link_from",
    metavar="ARTIST",
    help="Judge only the link from ARTIST in track N's reason (implies --reason).",
)
@click.option("--note", help="Why: shown on the page and in the queue.")
@click.option(
    "--curator",
    envvar="TASTEMAKER_CURATOR",
    help="Who judges (default: $TASTEMAKER_CURATOR, else your login name).",
)
@click.option("--queue", is_flag=True, help="List playlists waiting for review and open flags.")
@json_option
@click.pass_context
def review_command(
    ctx: click.Context,
    playlist_id: str | None,
    position: int | None,
    verdict: str | None,
    on_reason: bool,
    link_from: str | None,
    note: str | None,
    curator: str | None,
    queue: bool,
    as_json: bool,
) -> None:
    """Record a verdict on PLAYLIST_ID (or one track, or its reason), or list the queue.

    A rejected track is never offered to that listener again; a rejected reason link is never
    used to explain anything again, for anyone; flags stay in `review --queue` until a later
    verdict on the same thing.
    """
    if queue:
        if playlist_id or verdict:
            raise click.UsageError("--queue takes no PLAYLIST_ID or --verdict")
        found = review_queue(open_store(ctx))
        echo_json(found.to_dict()) if as_json else _print_queue(found)
        return
    if not playlist_id or not verdict:
        raise click.UsageError("give PLAYLIST_ID and --verdict (or --queue to list the queue)")
    stored = record_verdict(
        open_store(ctx),
        playlist_id,
        verdict,
        position=position,
        on_reason=on_reason,
        link_from=link_from,
        note=note,
        curator=curator or _default_curator(),
    )
    if as_json:
        echo_json(stored.to_dict())
        return
    what = "the playlist" if position is None else f"track {position}"
    if stored.subject == Subject.REASON:
        what += "'s reason" if stored.link_from is None else f"'s link from {link_from}"
    echo(f"{stored.verdict} recorded on {what} of {playlist_id} by {stored.curator}")


def _print_queue(queue: ReviewQueue) -> None:
    echo(f"waiting for review: {len(queue.waiting)}")
    for w in queue.waiting:
        echo(
            f"  {w.playlist_id}  {w.listener}  {w.created_at}  {w.judged}/{w.tracks} tracks judged"
        )
    echo(f"flagged: {len(queue.flagged)}")
    for f in queue.flagged:
        where = "whole playlist" if f.position is None else f"track {f.position} ({f.artist})"
        if f.subject == Subject.REASON:
            where += f" reason{': ' + f.link if f.link else ''}"
        echo(f"  {f.playlist_id}  {where}  by {f.curator or '?'} {f.created_at}")
        if f.reason:
            echo(f"    reason: {f.reason}")
        if f.note:
            echo(f"    note: {f.note}")


COMMANDS = [report_command, review_command]
