"""The command that lets a listener say what they love, hate and skip: feedback."""

from __future__ import annotations

import click

from playlists.cli import echo, echo_json, json_option, open_store
from playlists.privacy import parse_when
from recommender.errors import InvalidFeedback
from recommender.feedback import (
    FeedbackChange,
    FeedbackReport,
    add_feedback,
    feedback_report,
    iso,
    take_back,
)


@click.command("feedback")
@click.option("--listener", required=True, help="Whose feedback (a listener in the store).")
@click.option("--love", "kind", flag_value="love", help="You love it: it comes first.")
@click.option("--hate", "kind", flag_value="hate", help="You hate it: never offered again.")
@click.option("--skip", "kind", flag_value="skip", help="You skipped it: offered less often.")
@click.option("--artist", help="The artist it is about.")
@click.option("--track", metavar='"ARTIST - TITLE"', help="The track it is about.")
@click.option("--undo", is_flag=True, help="Take back that love, hate or skip (all of them).")
@click.option("--when", metavar="DATETIME", help="When you said it (default: now).")
@click.option("--show", is_flag=True, help="List every love, hate and skip stored.")
@json_option
@click.pass_context
def feedback_command(
    ctx: click.Context,
    listener: str,
    kind: str | None,
    artist: str | None,
    track: str | None,
    undo: bool,
    when: str | None,
    show: bool,
    as_json: bool,
) -> None:
    """Tell tastemaker you love, hate or skipped an artist or a track, take it back, or show it.

    Feedback is never a listen: play counts stay what you played. Something not in the store
    yet is kept and applied once it arrives. Skips count only while your terms learn from them
    (`tastemaker terms --no-learn-from-skips` switches that off).
    """
    store = open_store(ctx)
    if show or kind is None:
        if kind is not None or artist or track or undo:
            raise InvalidFeedback("--show lists feedback: leave out --love/--hate/--skip")
        report = feedback_report(store, listener)
        if as_json:
            echo_json(report.as_dict())
        else:
            _print_report(report)
        return
    if undo:
        change = take_back(store, listener, kind, artist=artist, track=track)
    else:
        at = None if when is None else parse_when(when, end=False)
        change = add_feedback(store, listener, kind, artist=artist, track=track, at=at)
    if as_json:
        echo_json(change.as_dict())
    else:
        echo(_sentence(change, undo))


def _sentence(change: FeedbackChange, undo: bool) -> str:
    what = f"{change.artist} - {change.title}" if change.title else change.artist
    if undo:
        return f"took back {change.rows} {change.kind} of {what} for {change.listener}"
    if not change.rows:
        return f"{change.listener}'s {change.kind} of {what} was already stored"
    text = f"stored: {change.listener} {change.kind}s {what}"
    if change.pending:
        text += "; it is not in the store yet: kept, and applied once it arrives"
        if change.hint:
            text += f" ({change.hint})"
    return text


def _print_report(report: FeedbackReport) -> None:
    echo(f"feedback of {report.listener}:")
    if not report.opinions and not report.skips:
        echo("  none yet")
    for row, in_force in report.opinions:
        what = f"{row.artist} - {row.title}" if row.title else row.artist
        state = "" if in_force else "  (a newer one takes it back)"
        pending = "  (pending: not in the store yet)" if row.pending else ""
        echo(
            f"  {row.kind:<5} {what}  {iso(row.at) or 'no time'}  [{row.source}]{state}{pending}"
        )
    for tally in report.skips:
        what = f"{tally.artist} - {tally.title}" if tally.title else tally.artist
        echo(f"  skip  {what}  {tally.skips} times, last {iso(tally.last_at) or 'no time'}")
    if report.skips and not report.learn_from_skips:
        echo("skips are not used: your terms do not learn from them")


COMMANDS = [feedback_command]
