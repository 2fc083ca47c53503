"""Commands that bring data in and describe it: import, stats, demo."""

from __future__ import annotations

from pathlib import Path

import click

from playlists.cli import echo_json, json_option, open_store
from recommender.demo import ensure_demo
from recommender.ingest import ImportReport
from recommender.sources import READERS, import_path
from recommender.stats import store_stats


def _progress(rows: int) -> None:
    click.echo(f"... {rows:,} rows read", err=True)


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(READERS)))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--listener", help="Whose listens these are (for personal exports).")
@json_option
@click.pass_context
def import_command(
    ctx: click.Context, fmt: str, path: Path, listener: str | None, as_json: bool
) -> None:
    """Import PATH in FORMAT. All of it lands, or none of it does."""
    store = open_store(ctx)
    report = import_path(store, fmt, path, listener=listener, progress=_progress)
    if as_json:
        echo_json(report.as_dict())
        return
    _echo_report(report)


def _echo_report(report: ImportReport) -> None:
    click.echo(
        f"{report.format} {report.path}: {report.imported:,} imported, "
        f"{report.duplicates:,} duplicate, {report.skipped:,} skipped, {report.rejected:,} rejected"
    )
    for reason, count in sorted(report.skip_reasons.items()):
        click.echo(f"  skipped {count:,}: {reason}")
    for reject in report.rejects:
        click.echo(f"  rejected {reject.location}: {reject.reason}")


@click.command("stats")
@json_option
@click.pass_context
def stats_command(ctx: click.Context, as_json: bool) -> None:
    """Summarise what the store holds."""
    _echo_stats(store_stats(open_store(ctx)), as_json)


def _echo_stats(stats: dict[str, object], as_json: bool) -> None:
    if as_json:
        echo_json(stats)
        return
    for key, value in stats.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for sub, sub_value in value.items():
                click.echo(f"  {sub}: {sub_value}")
        else:
            click.echo(f"{key}: {value}")


@click.command("demo")
@json_option
@click.pass_context
def demo_command(ctx: click.Context, as_json: bool) -> None:
    """Load the built-in demo world into the store (once) and summarise the store."""
    store = open_store(ctx)
    report = ensure_demo(store, progress=_progress)
    if not as_json:
        if report is None:
            click.echo("demo world already in the store")
        else:
            _echo_report(report)
    _echo_stats(store_stats(store), as_json)


COMMANDS = [import_command, stats_command, demo_command]
