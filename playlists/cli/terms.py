"""Commands that put the listener in charge of their data: terms, forget, export-data."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from playlists.cli import echo, echo_json, echo_note, json_option, open_store
from playlists.errors import ForgetIncomplete
from playlists.privacy import ForgetReport, forget, save_export
from recommender.terms import PLAYABLE_CHOICES
from recommender.terms_storage import TermsReport, describe_terms, update_terms

listener_option = click.option("--listener", required=True, help="Whose terms / data.")


@click.command("terms")
@listener_option
@click.option("--surprise", type=float, help="Share of unexpected picks, 0 to 1.")
@click.option("--exclude-artist", multiple=True, help="Never put this artist in a playlist.")
@click.option("--include-artist", multiple=True, help="Take back an artist exclusion.")
@click.option("--exclude-tag", multiple=True, help="Never put artists with this tag in a playlist.")
@click.option("--include-tag", multiple=True, help="Take back a tag exclusion.")
@click.option("--clear-exclusions", is_flag=True, help="Take back every artist and tag exclusion.")
@click.option("--half-life", "half_life", type=float, help="Days until a listen counts half.")
@click.option("--no-repeat-days", type=int, help="Skip tracks played this many days back.")
@click.option(
    "--personalise/--no-personalise",
    default=None,
    help="Use your listening history, or make playlists from the graph and popularity alone.",
)
@click.option(
    "--learn-from-skips/--no-learn-from-skips",
    default=None,
    help="Offer the tracks you skip less often, or ignore your skips.",
)
@click.option(
    "--rest-after",
    type=click.IntRange(min=0),
    help="Rest a new artist offered in this many recent playlists and never played (0: never).",
)
@click.option("--time-zone", help="Your time zone (IANA name, e.g. Europe/Berlin) for --context.")
@click.option("--use-source", multiple=True, help="Use listens from this import source again.")
@click.option("--ignore-source", multiple=True, help="Do not use listens from this source.")
@click.option(
    "--playable",
    type=click.Choice(PLAYABLE_CHOICES),
    help="Only put tracks you can play from here in playlists (off: every track).",
)
@click.option("--show", is_flag=True, help="Print every term, its default and what data is used.")
@json_option
@click.pass_context
def terms_command(
    ctx: click.Context,
    listener: str,
    surprise: float | None,
    exclude_artist: tuple[str, ...],
    include_artist: tuple[str, ...],
    exclude_tag: tuple[str, ...],
    include_tag: tuple[str, ...],
    clear_exclusions: bool,
    half_life: float | None,
    no_repeat_days: int | None,
    personalise: bool | None,
    learn_from_skips: bool | None,
    rest_after: int | None,
    time_zone: str | None,
    use_source: tuple[str, ...],
    ignore_source: tuple[str, ...],
    playable: str | None,
    show: bool,
    as_json: bool,
) -> None:
    """Set or show a listener's terms; every playlist follows them.

    Changes to --personalise, --half-life or sources take effect on the model after the next
    `tastemaker train`.
    """
    store = open_store(ctx)
    changes = any(
        [
            surprise is not None,
            exclude_artist,
            include_artist,
            exclude_tag,
            include_tag,
            clear_exclusions,
            half_life is not None,
            no_repeat_days is not None,
            personalise is not None,
            learn_from_skips is not None,
            rest_after is not None,
            time_zone is not None,
            use_source,
            ignore_source,
            playable is not None,
        ]
    )
    if changes:
        update_terms(
            store,
            listener,
            surprise=surprise,
            half_life_days=half_life,
            no_repeat_days=no_repeat_days,
            personalise=personalise,
            exclude_artists=exclude_artist,
            include_artists=include_artist,
            exclude_tags=exclude_tag,
            include_tags=include_tag,
            ignore_sources=ignore_source,
            use_sources=use_source,
            clear_exclusions=clear_exclusions,
            learn_from_skips=learn_from_skips,
            rest_after_offers=rest_after,
            time_zone=time_zone,
            playable=playable,
        )
        if not show and not as_json:
            echo(f"terms saved for {listener}; run `tastemaker train` to apply them")
            return
    report = describe_terms(store, listener)
    if as_json:
        echo_json(report.as_dict())
    else:
        _print_report(report)


def _print_report(report: TermsReport) -> None:
    echo(f"terms of {report.listener}:")
    for row in report.rows:
        value = row.value
        if isinstance(value, list):
            value = ", ".join(value) if value else "(none)"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        if row.name == "half_life_days":
            value = f"{value:g} days"
        marker = "default" if row.is_default else f"set (default {row.default})"
        echo(f"  {row.name:<16} {value!s:<24} {marker}  - {row.explanation}")
    if not report.terms.personalise:
        echo("data used: none of your history (personalisation is off)")
    else:
        echo(f"data used: {report.used_rows:,} listen rows")
    for src in report.sources:
        span = (
            f", {src.first_listen[:10]} to {src.last_listen[:10]}"
            if src.first_listen and src.last_listen
            else ", no times"
        )
        state = "used" if src.used else "NOT used"
        echo(f"  {src.source:<14} {src.rows:,} rows, {src.plays:,} plays{span}: {state}")
    if not report.sources:
        echo("  (no listens stored)")


@click.command("forget")
@listener_option
@click.option("--artist", help="Forget the listener's listens and feedback of this artist.")
@click.option("--since", help="Forget listens from this date (YYYY-MM-DD, UTC) on.")
@click.option("--until", help="Forget listens up to the end of this date (YYYY-MM-DD, UTC).")
@click.option(
    "--all", "all_data", is_flag=True, help="Forget the listener entirely, terms and playlists."
)
@json_option
@click.pass_context
def forget_command(
    ctx: click.Context,
    listener: str,
    artist: str | None,
    since: str | None,
    until: str | None,
    all_data: bool,
    as_json: bool,
) -> None:
    """Delete listens and feedback for good: models trained on them go stale, their bundles
    and any half-written ones are deleted, and the file is compacted and checked.

    When something cannot be finished (another process reading the store, a full disk) it
    says what is left and exits 1; running the same command again finishes the job.
    """
    try:
        report = forget(
            open_store(ctx), listener, artist=artist, since=since, until=until, all_data=all_data
        )
    except ForgetIncomplete as exc:
        _print_forget(cast(ForgetReport, exc.report), as_json)
        raise
    _print_forget(report, as_json)


def _print_forget(report: ForgetReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.as_dict())
        return
    who = report.listener
    if report.resumed:
        echo(f"no listener {who} is left in the store; finishing the forget that stopped before")
    else:
        echo(f"forgot {report.listens:,} listen rows ({report.plays:,} plays) of {who}")
        if report.feedback:
            echo(f"  and {report.feedback:,} loves, hates and skips")
    if report.listener_deleted and not report.resumed:
        echo(
            f"  removed the listener, their terms, {report.playlists} playlists and "
            f"{report.verdicts} verdicts"
        )
    if not report.resumed:
        echo(
            f"  removed {report.tracks} tracks, {report.artists} artists, {report.imports} "
            "imports nothing else used"
        )
    if report.models_marked_stale or report.bundles_deleted:
        echo(
            f"  {report.models_marked_stale} models marked stale, {report.bundles_deleted} model"
            " folders deleted: run `tastemaker train` before the next playlist"
        )
    for note in report.notes:
        echo(f"  note: {note}")
    if report.finished and report.bytes_after is not None:
        echo(
            f"  store compacted and checked: {report.bytes_before or 0:,} -> "
            f"{report.bytes_after:,} bytes"
        )
    if report.files_naming_listener:
        echo(f"  files you asked tastemaker to write that still name {who} (delete them yourself):")
        for path in report.files_naming_listener:
            echo(f"    {path}")


@click.command("export-data")
@listener_option
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON file to write (a regular file, replaced whole; never a device).",
)
@click.pass_context
def export_data_command(ctx: click.Context, listener: str, output: Path) -> None:
    """Write everything stored about a listener to a JSON file `import tastemaker` reads back."""
    data, saved = save_export(open_store(ctx), listener, output)
    echo(
        f"wrote {saved.written.describe()}: {len(data['listens']):,} listens, "
        f"{len(data['feedback']):,} feedback, "
        f"{'terms, ' if data['terms'] else ''}{len(data['playlists'])} playlists"
    )
    echo_note(saved)


COMMANDS = [terms_command, forget_command, export_data_command]
